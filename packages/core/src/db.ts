/** MongoDB documents, collections and the indexes every query relies on. */
import { type Collection, type Db, MongoServerError, type ObjectId } from 'mongodb';
import type { Metadata } from './metadata';

interface Lifecycle {
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

export interface UserDoc extends Lifecycle {
  _id: ObjectId;
  uuid: string;
  userId: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  metadata: Metadata;
}

export interface SessionDoc extends Lifecycle {
  _id: ObjectId;
  uuid: string;
  sessionId: string;
  userId: string | null;
  metadata: Metadata;
  /** The highest message `seq` handed out so far. */
  lastSeq: number;
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
 * Every index the queries need, by name; queries cite these names. createIndexes is idempotent,
 * so this runs at every start.
 */
export async function createIndexes(c: Collections): Promise<void> {
  await c.users.createIndexes([
    { key: { userId: 1 }, name: 'users_userId', unique: true }, // get/update/delete by id
    { key: { deletedAt: 1, _id: 1 }, name: 'users_live' }, // keyset list of live users; purge
  ]);
  await c.sessions.createIndexes([
    { key: { sessionId: 1 }, name: 'sessions_sessionId', unique: true }, // by id; seq counter upsert
    { key: { deletedAt: 1, _id: 1 }, name: 'sessions_live' }, // keyset list of live sessions; purge
    { key: { userId: 1, deletedAt: 1, _id: 1 }, name: 'sessions_user' }, // a user's sessions; cascade
  ]);
  await c.messages.createIndexes([
    { key: { uuid: 1 }, name: 'messages_uuid', unique: true }, // by uuid; idempotent add
    { key: { sessionId: 1, seq: 1 }, name: 'messages_session_seq', unique: true }, // order within a session
    { key: { sessionId: 1, deletedAt: 1, seq: 1 }, name: 'messages_session_live' }, // memory, list, cascade
    { key: { deletedAt: 1 }, name: 'messages_deleted' }, // purge
  ]);
}

export function isDuplicateKeyError(error: unknown): error is MongoServerError {
  return error instanceof MongoServerError && error.code === 11000;
}

/** A dotted `$set` path ran into a scalar (a concurrent update changed a value's type). */
export function isPathConflictError(error: unknown): boolean {
  return error instanceof MongoServerError && (error.code === 28 || /cannot create field/i.test(error.message));
}
