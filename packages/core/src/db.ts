/** MongoDB documents, collections and the indexes every query relies on. */
import {
  type Collection,
  type Db,
  type Document,
  type IndexDescription,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  type ObjectId,
} from 'mongodb';
import type { Metadata } from './metadata';
import type { Line } from './tree';

interface Lifecycle {
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

/** Users and sessions are listed as a whole, so they also carry `live` (see `revive`) and a place in the list. */
interface Listed extends Lifecycle {
  live: boolean;
  /**
   * Creation order, numbered per collection from `mnemo_meta` (listing.ts); lists are paged by it a
   * bucket at a time (`listBucket` = bucketOf(listNo)). A session created by its first message gets
   * its number just after the upsert that created it, hence optional.
   */
  listNo?: number;
  listBucket?: number;
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
  /** Its live messages: +n with each append, 0 when the session is soft-deleted (a list's `total`). */
  messageCount: number;
  /** Search statistics (BM25): messages indexed and their total number of terms (see search/search.ts). */
  termDocs?: number;
  termLength?: number;
  /** Set by every append; null while it has no message. */
  lastMessageAt: Date | null;
  /** Creation, then every append: the key of `sort: 'activity'`. */
  lastActiveAt: Date;
  /** Its own retention in days (schemas.ts, AddSessionInput); absent or null: the server's default. */
  retentionDays?: number | null;
  /**
   * No live message of it was created before this (retention skips it while this is after the cutoff):
   * lowered by every append and restore, set exactly by each retention run; absent: it has none.
   */
  oldestMessageAt?: Date;
  /**
   * Conversation trees (tree.ts): the lines that branches started, in number order; absent or empty:
   * no branch, one line (every read is then what it was before trees).
   */
  lines?: Line[];
  /** The head's number when it is not the newest message (after a switch of branch); absent: the newest. */
  headSeq?: number;
  /** Of its live messages, how many are off the active path (`message.list`'s total is the others); absent: 0. */
  offPath?: number;
}

export interface MessageDoc extends Lifecycle {
  _id: ObjectId;
  uuid: string;
  sessionId: string;
  seq: number;
  /** `bucketKey(sessionId, seq)`: reads fetch a session's messages a bucket at a time (see there). */
  bucket: string;
  role: string;
  content: string;
  /** MessagePart[] as JSON text: kept verbatim, free of the limits of stored documents (arrays in arrays, "$" keys). */
  parts?: string;
  /** Absent: complete (messages stored before statuses existed). */
  status?: 'streaming' | 'complete' | 'stopped';
  metadata: Metadata;
  tokenCount: number;
  /**
   * Stream offsets (streams/message-stream.ts): `rev` counts the message's updates, `baseRev` is the
   * last update that was not an append (text replaced, parts, role, metadata). Absent: 0. A reader
   * that has rev R of the text can be brought up to date with the appended rest while baseRev ≤ R.
   */
  rev?: number;
  baseRev?: number;
}

/**
 * What search needs of a message, kept beside it (same `_id`) so that message reads do not carry it:
 * FerretDB decodes every field of every document it returns (terms made a bucket read ~45% slower).
 */
export interface SearchDoc {
  _id: ObjectId;
  sessionId: string;
  deletedAt: Date | null;
  /** Search terms (search/tokenize.ts): the stemmed words in order, repeats kept (tf and length derive from it). */
  terms: string[];
  /** Set in the background when an embeddings provider is configured (search/embeddings.ts). */
  embedding?: number[];
}

/**
 * A progressive summary of a session's messages up to `recentSeq` (summaries/): each one folds the
 * messages after the previous summary into it, so the newest live one covers the whole history.
 */
export interface SummaryDoc {
  _id: ObjectId;
  uuid: string;
  sessionId: string;
  content: string;
  /** The newest message it covers, by id and by number: get-memory returns the messages after it. */
  recentMessageUuid: string;
  recentSeq: number;
  /**
   * Set (to its `sessionId`) on the session's newest summary only: get-memory finds it with one
   * equality query, which FerretDB pushes down, however many summaries the session has.
   */
  latestOf?: string;
  tokenCount: number;
  metadata: Metadata;
  createdAt: Date;
  /** Soft-deleted with its session (same time, so a restore brings it back), by retention, or purged. */
  deletedAt: Date | null;
}

/**
 * A session whose summary is due (summaries/): written before the job starts and removed when it
 * is done, so a restart finds what was pending. `leaseUntil`: the instance `owner` runs it until
 * then (several instances on MongoDB run each job once); `version` grows with every new request.
 */
export interface SummaryJobDoc {
  _id: string;
  version: number;
  requestedAt: Date;
  leaseUntil: Date | null;
  owner: string | null;
}

/**
 * Mnemo's own bookkeeping: `{_id: 'schema', version}`, the last migration applied (migrations.ts),
 * and `{_id: 'users' | 'sessions', last}`, the last list number handed out (listing.ts).
 */
export interface MetaDoc {
  _id: string;
  version?: number;
  last?: number;
}

export interface Collections {
  users: Collection<UserDoc>;
  sessions: Collection<SessionDoc>;
  messages: Collection<MessageDoc>;
  search: Collection<SearchDoc>;
  meta: Collection<MetaDoc>;
  summaries: Collection<SummaryDoc>;
  summaryJobs: Collection<SummaryJobDoc>;
}

export function getCollections(db: Db): Collections {
  return {
    users: db.collection<UserDoc>('users'),
    sessions: db.collection<SessionDoc>('sessions'),
    messages: db.collection<MessageDoc>('messages'),
    search: db.collection<SearchDoc>('message_search'),
    meta: db.collection<MetaDoc>('mnemo_meta'),
    summaries: db.collection<SummaryDoc>('summaries'),
    summaryJobs: db.collection<SummaryJobDoc>('summary_jobs'),
  };
}

/**
 * Bounded reads: a session's messages are grouped by `seq` into buckets of BUCKET_SIZE, with the key
 * `<sessionId>␟<seq ÷ BUCKET_SIZE>` (U+001F cannot occur in an id), and users and sessions by
 * `listNo` into `listBucket`s. Reading the last messages or any page is then one or a few equality
 * queries, each returning at most BUCKET_SIZE documents, however large the session or the store
 * (paging.ts, walkBuckets): FerretDB pushes an equality down to PostgreSQL, where it cannot push
 * down a sort, a limit or a range (README, "The local database"); MongoDB answers them from
 * messages_bucket, users_list and sessions_list.
 */
export const BUCKET_SIZE = 32;
export const bucketOf = (seq: number) => Math.floor(seq / BUCKET_SIZE);
export const bucketKey = (sessionId: string, bucket: number) => `${sessionId}\u001f${bucket}`;

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
 * An index and, when it only serves what FerretDB evaluates itself (a sort, a range, array
 * elements), `mongoOnly`: FerretDB uses an index only through the GIN twin of its leading key
 * (README, "The local database"), and indexes an array as one value (a message with a few thousand
 * distinct words made a key over PostgreSQL's 8 KB limit), so there such an index only costs.
 */
interface IndexSpec extends IndexDescription {
  name: string;
  mongoOnly?: boolean;
}

/** Indexes of earlier versions whose work others do now. */
const RETIRED: [keyof Collections, string][] = [
  ['messages', 'messages_session_live'], // messages_session_seq serves the cascade
  ['messages', 'messages_search_terms'], // the terms moved to message_search
  ['messages', 'messages_uuid'], // ids are unique per session now (messages_id): clients make them
];

/**
 * Every index the queries need, by name; queries cite these names. Idempotent, so this runs at
 * every start; on FerretDB (`ferretdb`) the MongoDB-only ones are left out, or dropped if there.
 */
export async function createIndexes(c: Collections, { ferretdb }: { ferretdb: boolean }): Promise<void> {
  const indexes: [keyof Collections, IndexSpec[]][] = [
    [
      'users',
      [
        { key: { userId: 1 }, name: 'users_userId', unique: true }, // get/update/delete by id
        { key: { deletedAt: 1, _id: 1 }, name: 'users_live', mongoOnly: true }, // purge
        { key: { listBucket: 1, live: 1 }, name: 'users_list' }, // list of live users, a bucket at a time
      ],
    ],
    [
      'sessions',
      [
        { key: { sessionId: 1 }, name: 'sessions_sessionId', unique: true }, // by id; seq counter upsert
        { key: { deletedAt: 1, _id: 1 }, name: 'sessions_live', mongoOnly: true }, // purge
        { key: { listBucket: 1, live: 1 }, name: 'sessions_list' }, // list of live sessions, a bucket at a time
        { key: { userId: 1, deletedAt: 1, _id: 1 }, name: 'sessions_user' }, // a user's sessions; cascade
        { key: { userId: 1, deletedAt: 1, listNo: 1 }, name: 'sessions_user_created', mongoOnly: true }, // a user's sessions by creation
        { key: { userId: 1, deletedAt: 1, lastActiveAt: 1, listNo: 1 }, name: 'sessions_user_activity', mongoOnly: true }, // … by activity
        { key: { live: 1, lastActiveAt: 1, listNo: 1 }, name: 'sessions_activity', mongoOnly: true }, // all sessions by activity
      ],
    ],
    [
      'messages',
      [
        { key: { uuid: 1, sessionId: 1 }, name: 'messages_id', unique: true }, // by id (unique per session); idempotent add
        { key: { sessionId: 1, seq: 1 }, name: 'messages_session_seq', unique: true }, // order within a session; cascade
        { key: { bucket: 1 }, name: 'messages_bucket' }, // memory, list (see BUCKET_SIZE)
        { key: { deletedAt: 1 }, name: 'messages_deleted', mongoOnly: true }, // purge
        { key: { sessionId: 1, deletedAt: 1, createdAt: -1, seq: -1 }, name: 'messages_session_created', mongoOnly: true }, // search without text
      ],
    ],
    [
      'search',
      [
        { key: { sessionId: 1, deletedAt: 1 }, name: 'search_session' }, // a session's search documents; cascade
        { key: { sessionId: 1, deletedAt: 1, terms: 1 }, name: 'search_terms', mongoOnly: true }, // text search (multikey)
        { key: { deletedAt: 1 }, name: 'search_deleted', mongoOnly: true }, // purge
      ],
    ],
    [
      'summaries',
      [
        { key: { sessionId: 1, deletedAt: 1, recentSeq: -1 }, name: 'summaries_session' }, // a page; cascade
        { key: { latestOf: 1 }, name: 'summaries_latest' }, // a session's newest summary
        { key: { deletedAt: 1 }, name: 'summaries_deleted', mongoOnly: true }, // purge
      ],
    ],
  ];
  for (const [name, specs] of indexes) {
    const collection: Indexable = c[name];
    for (const { mongoOnly, ...spec } of specs) {
      if (mongoOnly && ferretdb) await dropIndexIfExists(collection, spec.name);
      // One index per command: FerretDB v1.24.2 panics ("slice bounds out of range", connection
      // closed) when one createIndexes command lists two or more indexes that already exist, i.e.
      // on every restart; one at a time it is a no-op, as MongoDB's is.
      else await collection.createIndexes([spec]);
    }
  }
  for (const [name, index] of RETIRED) await dropIndexIfExists(c[name], index);
}

type Indexable = Pick<Collection<Document>, 'createIndexes' | 'indexExists' | 'dropIndex'>;

async function dropIndexIfExists(collection: Indexable, name: string): Promise<void> {
  if (await collection.indexExists(name)) await collection.dropIndex(name);
}

/** Whether the server is FerretDB (it says so in buildInfo). */
export async function isFerretDb(db: Db): Promise<boolean> {
  return 'ferretdbVersion' in (await db.command({ buildInfo: 1 }));
}

/**
 * The database cannot be reached right now (down, restarting, unreachable): a request should get a
 * 503 and be retried, not a 500. FerretDB reports a PostgreSQL it cannot reach as a server error.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) return true;
  if (error instanceof MongoNotConnectedError || error instanceof MongoTopologyClosedError) return true;
  // A socket the database closed can also surface as a plain Node error, or inside a bulk write error.
  if (error instanceof Error && (UNAVAILABLE.test(error.message) || SOCKET_CODES.has(String((error as { code?: unknown }).code))))
    return true;
  return error instanceof Error && error.cause !== undefined && error.cause !== error && isDatabaseUnavailable(error.cause);
}
const SOCKET_CODES = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED', 'ERR_SOCKET_CLOSED']);
const UNAVAILABLE =
  /socket has been ended by the other party|failed to connect|connection refused|ECONNREFUSED|connection (\d+|<monitor>) to .* closed|ECONNRESET|broken pipe|\bEOF\b|conn closed|connection reset|server closed the connection|closed pool|context deadline exceeded|the database system is (starting|shutting|in recovery|not yet accepting)|terminating connection/i;

export function isDuplicateKeyError(error: unknown): error is MongoServerError {
  return error instanceof MongoServerError && error.code === 11000;
}

/** A dotted `$set` path ran into a scalar (a concurrent update changed a value's type). */
export function isPathConflictError(error: unknown): boolean {
  return error instanceof MongoServerError && (error.code === 28 || /cannot create field/i.test(error.message));
}
