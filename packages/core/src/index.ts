/**
 * @mnemo/core: the domain layer. Server-only (it imports the MongoDB driver); browsers import
 * `@mnemo/core/schemas`, `@mnemo/core/errors` and `@mnemo/core/metadata` instead.
 */
import { MongoClient } from 'mongodb';
import { createIndexes, getCollections, isFerretDb } from './db';
import { migrate } from './migrations';
import { createEventBus, type Publish } from './events';
import { createListing } from './listing';
import { createMemoryService } from './memory';
import { createPurgeService } from './purge';
import { createRetention } from './retention';
import { createSearchService, type EmbeddingsConfig } from './search';
import { createSerializer } from './serialize';
import { createSessionService } from './sessions';
import { createSummaries, type SummariesConfig } from './summaries';
import { createStore } from './store';
import { createMessageStreams } from './streams/message-stream';
import { loadTokenizer } from './tokens';
import { createTransfer } from './transfer';
import { createUserService } from './users';
import type { UserSessionsInput } from './schemas';

export interface CoreConfig {
  mongoUri: string;
  dbName: string;
  /** Messages returned by get-memory when `lastn` is absent (MNEMO_MESSAGE_WINDOW). */
  messageWindow?: number;
  /** OpenAI-compatible embeddings endpoint (MNEMO_EMBEDDINGS_URL); unset: search ranks by text alone. */
  embeddings?: EmbeddingsConfig;
  /**
   * An OpenAI-compatible chat model (MNEMO_LLM_URL): sessions then get progressive summaries, as
   * Zep's (summaries/); unset: none are made, and get-memory reads none.
   */
  summaries?: SummariesConfig;
  /** Where background failures (embeddings, summaries) are reported; default console.warn. */
  log?: (message: string, error?: unknown) => void;
  /** Default retention in days (MNEMO_RETENTION_DAYS); unset: keep forever (retention.ts). */
  retentionDays?: number;
  /** The clock retention and purge go by (tests inject one). */
  now?: () => Date;
  /**
   * This process is the database's only writer (the local database, whose data dir it has locked):
   * it then holds every session and the recently used message buckets in memory, exact because
   * every write passes through it (store/). Leave it off when other processes may write
   * (MONGODB_URI, several instances).
   */
  singleWriter?: boolean;
  /** How many messages a single writer keeps in memory at most (default 50,000). */
  cachedMessages?: number;
  /** How long a single writer lets the stored head of a session lag its appends, in ms (default 1,000; store/heads.ts). */
  flushHeadsMs?: number;
}

/**
 * A core on database `dbName`. With `shared`, it uses that connection (another core's `client`:
 * tenants, apps/server/src/tenants.ts) and leaves closing it to its owner.
 */
export function createCore(config: CoreConfig, shared?: MongoClient) {
  const {
    mongoUri,
    dbName,
    messageWindow = 12,
    embeddings,
    summaries: summariesConfig,
    log = defaultLog,
    retentionDays,
    now = () => new Date(),
    singleWriter = false,
    cachedMessages = 50_000,
    flushHeadsMs = 1000,
  } = config;
  // ignoreUndefined: optional fields that are absent are not written as null. A database that
  // cannot be reached fails a request within 3 s (then a 503) rather than after the driver's 30 s.
  const client = shared ?? new MongoClient(mongoUri, { ignoreUndefined: true, serverSelectionTimeoutMS: 3000, connectTimeoutMS: 3000 });
  const db = client.db(dbName);
  const collections = getCollections(db);
  const serialize = createSerializer();
  const listing = createListing(collections, serialize);
  const store = createStore(collections, listing, serialize, { singleWriter, cachedMessages, flushHeadsMs, log });
  const search = createSearchService(collections, serialize, store, { embeddings, log });
  const events = createEventBus();
  const streams = createMessageStreams(collections, events);
  const summaries = createSummaries(collections, serialize, store, summariesConfig, { messageWindow, log, publish: events.publish });
  /** What every write path publishes; a deleted session's summaries leave the summarizer's memory first. */
  const publish: Publish = (event) => {
    if (event.type === 'session-deleted') summaries.invalidate(event.sessionId);
    events.publish(event);
  };
  const sessions = createSessionService(collections, serialize, store, listing, publish);
  const users = createUserService(collections, serialize, store, listing, publish);
  const memory = createMemoryService(collections, serialize, store, {
    listing,
    messageWindow,
    publish,
    queueEmbeddings: search.queueEmbeddings,
    streamChanged: streams.changed,
    summaries: summariesConfig && summaries,
  });
  const expire = createRetention(collections, serialize, store, publish, {
    defaultDays: retentionDays,
    expireMessages: memory.expire,
    now,
  });
  return {
    users: {
      ...users,
      /** A user's live sessions (NOT_FOUND for an unknown user, as Zep): `sessions.list` with the user. */
      sessions: async (input: UserSessionsInput) => {
        await users.get({ userId: input.userId });
        return sessions.list(input);
      },
    },
    sessions,
    memory: {
      ...memory,
      /** Memory search: see search/search.ts. */
      search: search.search,
      /** The same search across all of a user's live sessions: see search/search.ts. */
      searchUser: search.searchUser,
      /** A message as a stream: so far, then deltas, then its end (streams/message-stream.ts). */
      stream: streams.stream,
      /** A session's summaries, newest first (summaries/). */
      summaries: summaries.list,
      /** Text search over a session's summaries (Zep's `search_scope: "summary"`). */
      searchSummaries: summaries.search,
    },
    /** Retention, then the hard-deletion of what was soft-deleted (purge.ts). */
    purge: createPurgeService(collections, store, { expire, now }),
    /** Export and import as JSON Lines, and import from a Zep server (transfer.ts, transfer-zep.ts). */
    transfer: createTransfer(collections, serialize, store, listing, {
      queueEmbeddings: search.queueEmbeddings,
      idle: search.idle,
      onSummaries: summaries.invalidate,
    }),
    /** Live updates: what every write changed, for subscribers (events.ts). */
    events,
    /** Raw access for tests, tools and migrations. */
    db,
    collections,
    /** Where session documents and message buckets are read (store/); `store.verify()` compares what memory holds with the database. */
    store,
    /**
     * Connects, creates every index, brings old documents up to date (idempotent) and, on a single
     * writer, reads every session into memory; loads the tokenizer.
     */
    init: async () => {
      loadTokenizer();
      await createIndexes(collections, { ferretdb: await isFerretDb(db) });
      await migrate(collections, listing);
      await store.load();
      await summaries.resume();
    },
    /** Resolves when background work (message embeddings, summaries) is done. */
    idle: async () => {
      await search.idle();
      await summaries.idle();
    },
    close: async () => {
      events.close();
      await summaries.close();
      await search.idle();
      await store.sessions.close();
      if (!shared) await client.close();
    },
    /** What it was made with, and its connection: for cores of other databases on the same server. */
    config,
    client,
  };
}

const defaultLog = (message: string, error?: unknown) => console.warn(`[mnemo] ${message}`, error ?? '');

export type Core = ReturnType<typeof createCore>;

export * from './errors';
export * from './schemas';
export {
  DELETE_MARKER,
  isDeleteMarker,
  METADATA_PATCH_RULES,
  METADATA_RULES,
  mergeMetadata,
  metadataProblem,
  withoutSystem,
} from './metadata';
export { describeZodError } from './validate';
export { messageCursor } from './paging';
export { isDatabaseUnavailable } from './db';
export { type CoreApi, scopedTo } from './scope';
export type { EmbeddingsConfig } from './search';
export type { LlmConfig, SummariesConfig } from './summaries';
export type { CoreEvent, MessageEvent, ResetEvent, SessionEvent, Tracked } from './events';
export type { StreamItem } from './streams/message-stream';
export { EXPORT_FORMAT, EXPORT_VERSION, ImportError } from './transfer';
export type { ExportOptions, ExportRecord, ImportOptions, ImportResult, TransferCounts } from './transfer';
export { type ZepImportOptions, ZepImportError } from './transfer-zep';
export { type ChatGptImportResult, importChatGpt } from './transfer-chatgpt';
