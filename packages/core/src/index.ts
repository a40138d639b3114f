/**
 * @mnemo/core: the domain layer. Server-only (it imports the MongoDB driver); browsers import
 * `@mnemo/core/schemas`, `@mnemo/core/errors` and `@mnemo/core/metadata` instead.
 */
import { MongoClient } from 'mongodb';
import { createIndexes, getCollections } from './db';
import { createMemoryService } from './memory';
import { createPurgeService } from './purge';
import { createSerializer } from './serialize';
import { createSessionService } from './sessions';
import { createUserService } from './users';

export interface CoreConfig {
  mongoUri: string;
  dbName: string;
  /** Messages returned by get-memory when `lastn` is absent (MNEMO_MESSAGE_WINDOW). */
  messageWindow?: number;
}

export function createCore({ mongoUri, dbName, messageWindow = 12 }: CoreConfig) {
  // ignoreUndefined: optional fields that are absent are not written as null.
  const client = new MongoClient(mongoUri, { ignoreUndefined: true });
  const db = client.db(dbName);
  const collections = getCollections(db);
  const serialize = createSerializer();
  return {
    users: createUserService(collections, serialize),
    sessions: createSessionService(collections, serialize),
    memory: createMemoryService(collections, serialize, { messageWindow }),
    purge: createPurgeService(collections),
    /** Raw access for tests, tools and migrations. */
    db,
    collections,
    /** Connects and creates every index (idempotent). */
    init: () => createIndexes(collections),
    close: () => client.close(),
  };
}

export type Core = ReturnType<typeof createCore>;

export * from './errors';
export * from './schemas';
export { mergeMetadata, metadataProblem, withoutSystem } from './metadata';
