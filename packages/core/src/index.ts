/**
 * @mnemo/core: the domain layer. Server-only (it imports the MongoDB driver); browsers import
 * `@mnemo/core/schemas`, `@mnemo/core/errors` and `@mnemo/core/metadata` instead.
 */
import { MongoClient } from 'mongodb';
import { createIndexes, getCollections, isFerretDb } from './db';
import { migrate } from './migrations';
import { createEventBus } from './events';
import { createListing } from './listing';
import { createMemoryService } from './memory';
import { createPurgeService } from './purge';
import { createSearchService, type EmbeddingsConfig } from './search';
import { createSerializer } from './serialize';
import { createSessionService } from './sessions';
import { loadTokenizer } from './tokens';
import { createUserService } from './users';

export interface CoreConfig {
  mongoUri: string;
  dbName: string;
  /** Messages returned by get-memory when `lastn` is absent (MNEMO_MESSAGE_WINDOW). */
  messageWindow?: number;
  /** OpenAI-compatible embeddings endpoint (MNEMO_EMBEDDINGS_URL); unset: search ranks by text alone. */
  embeddings?: EmbeddingsConfig;
  /** Where background failures (embeddings) are reported; default console.warn. */
  log?: (message: string, error?: unknown) => void;
}

export function createCore({ mongoUri, dbName, messageWindow = 12, embeddings, log = defaultLog }: CoreConfig) {
  // ignoreUndefined: optional fields that are absent are not written as null. A database that
  // cannot be reached fails a request within 3 s (then a 503) rather than after the driver's 30 s.
  const client = new MongoClient(mongoUri, { ignoreUndefined: true, serverSelectionTimeoutMS: 3000, connectTimeoutMS: 3000 });
  const db = client.db(dbName);
  const collections = getCollections(db);
  const serialize = createSerializer();
  const search = createSearchService(collections, serialize, { embeddings, log });
  const listing = createListing(collections, serialize);
  const events = createEventBus();
  const { publish } = events;
  return {
    users: createUserService(collections, serialize, listing, publish),
    sessions: createSessionService(collections, serialize, listing, publish),
    memory: {
      ...createMemoryService(collections, serialize, { listing, messageWindow, publish, queueEmbeddings: search.queueEmbeddings }),
      /** Memory search (issue 5): see search/search.ts. */
      search: search.search,
    },
    purge: createPurgeService(collections),
    /** Live updates: what every write changed, for subscribers (events.ts). */
    events,
    /** Raw access for tests, tools and migrations. */
    db,
    collections,
    /** Connects, creates every index and brings old documents up to date (idempotent); loads the tokenizer. */
    init: async () => {
      loadTokenizer();
      await createIndexes(collections, { ferretdb: await isFerretDb(db) });
      await migrate(collections, listing);
    },
    /** Resolves when background work (message embeddings) is done. */
    idle: search.idle,
    close: async () => {
      events.close();
      await search.idle();
      await client.close();
    },
  };
}

const defaultLog = (message: string, error?: unknown) => console.warn(`[mnemo] ${message}`, error ?? '');

export type Core = ReturnType<typeof createCore>;

export * from './errors';
export * from './schemas';
export { METADATA_RULES, mergeMetadata, metadataProblem, withoutSystem } from './metadata';
export { describeZodError } from './validate';
export { isDatabaseUnavailable } from './db';
export type { EmbeddingsConfig } from './search';
export type { CoreEvent, MessageEvent, ResetEvent, SessionEvent, Tracked } from './events';
