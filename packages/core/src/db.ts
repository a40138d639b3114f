/** MongoDB documents, collections and the indexes every query relies on. */
import { type Collection, type Db, type Document, type IndexDescription, MongoServerError, type ObjectId } from 'mongodb';
import type { Metadata } from './metadata';

interface Lifecycle {
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

/** Users and sessions are listed as a whole, so they also carry `live` (see `revive`). */
interface Listed extends Lifecycle {
  live: boolean;
}

export interface UserDoc extends Listed {
  _id: ObjectId;
  uuid: string;
  userId: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  metadata: Metadata;
}

export interface SessionDoc extends Listed {
  _id: ObjectId;
  uuid: string;
  sessionId: string;
  userId: string | null;
  metadata: Metadata;
  /** The highest message `seq` handed out so far. */
  lastSeq: number;
  /** Search statistics (BM25): messages indexed and their total number of terms (see search/search.ts). */
  termDocs?: number;
  termLength?: number;
}

export interface MessageDoc extends Lifecycle {
  _id: ObjectId;
  uuid: string;
  sessionId: string;
  seq: number;
  role: string;
  content: string;
  metadata: Metadata;
  tokenCount: number;
  /** Search terms (search/tokenize.ts): the stemmed words in order, repeats kept (tf and length derive from it). */
  terms?: string[];
  /** Set in the background when an embeddings provider is configured (search/embeddings.ts). */
  embedding?: number[];
}

export interface Collections {
  users: Collection<UserDoc>;
  sessions: Collection<SessionDoc>;
  messages: Collection<MessageDoc>;
}

export function getCollections(db: Db): Collections {
  return {
    users: db.collection<UserDoc>('users'),
    sessions: db.collection<SessionDoc>('sessions'),
    messages: db.collection<MessageDoc>('messages'),
  };
}

/** The filter every read uses: soft-deleted records are invisible. */
export const live = { deletedAt: null } as const;

/**
 * The `$set`s that undelete and soft-delete a user or a session. `deletedAt` says when (purge and
 * Zep need it); the `live` flag moves with it because the lists of all users and all sessions
 * filter on `live: true`: an equality FerretDB pushes down, where it cannot push down
 * `deletedAt: null` (README, "The local database").
 */
export const revive = { deletedAt: null, live: true } as const;
export const softDelete = (at: Date) => ({ deletedAt: at, live: false });

/**
 * Every index the queries need, by name; queries cite these names. createIndexes is idempotent,
 * so this runs at every start.
 */
export async function createIndexes(c: Collections): Promise<void> {
  await ensureIndexes(c.users, [
    { key: { userId: 1 }, name: 'users_userId', unique: true }, // get/update/delete by id
    { key: { deletedAt: 1, _id: 1 }, name: 'users_live' }, // purge
    { key: { live: 1, _id: 1 }, name: 'users_list' }, // keyset list of live users
  ]);
  await ensureIndexes(c.sessions, [
    { key: { sessionId: 1 }, name: 'sessions_sessionId', unique: true }, // by id; seq counter upsert
    { key: { deletedAt: 1, _id: 1 }, name: 'sessions_live' }, // purge
    { key: { live: 1, _id: 1 }, name: 'sessions_list' }, // keyset list of live sessions
    { key: { userId: 1, deletedAt: 1, _id: 1 }, name: 'sessions_user' }, // a user's sessions; cascade
  ]);
  await ensureIndexes(c.messages, [
    { key: { uuid: 1 }, name: 'messages_uuid', unique: true }, // by uuid; idempotent add
    { key: { sessionId: 1, seq: 1 }, name: 'messages_session_seq', unique: true }, // order within a session
    { key: { sessionId: 1, deletedAt: 1, seq: 1 }, name: 'messages_session_live' }, // memory, list, cascade
    { key: { deletedAt: 1 }, name: 'messages_deleted' }, // purge
    { key: { sessionId: 1, deletedAt: 1, terms: 1 }, name: 'messages_search_terms' }, // text search (multikey)
    { key: { sessionId: 1, deletedAt: 1, createdAt: -1, seq: -1 }, name: 'messages_session_created' }, // search without text
  ]);
}

/** Users and sessions stored before the `live` flag existed get it (a no-op once done). */
export async function backfillLive(c: Collections): Promise<void> {
  for (const collection of [c.users, c.sessions] as Collection<UserDoc | SessionDoc>[]) {
    await collection.updateMany({ live: { $exists: false }, deletedAt: null }, { $set: { live: true } });
    await collection.updateMany({ live: { $exists: false }, deletedAt: { $ne: null } }, { $set: { live: false } });
  }
}

/**
 * One index per command: FerretDB v1.24.2 panics ("slice bounds out of range", connection closed)
 * when one createIndexes command lists two or more indexes that already exist, i.e. on every
 * restart; one at a time it is a no-op, as MongoDB's is.
 */
async function ensureIndexes<T extends Document>(collection: Collection<T>, specs: IndexDescription[]): Promise<void> {
  for (const spec of specs) await collection.createIndexes([spec]);
}

export function isDuplicateKeyError(error: unknown): error is MongoServerError {
  return error instanceof MongoServerError && error.code === 11000;
}

/** A dotted `$set` path ran into a scalar (a concurrent update changed a value's type). */
export function isPathConflictError(error: unknown): boolean {
  return error instanceof MongoServerError && (error.code === 28 || /cannot create field/i.test(error.message));
}
