/**
 * The storage layer between the services and MongoDB: where session and user documents and message
 * buckets are read (sessions.ts, users.ts, buckets.ts: from memory on a single-writer store) and how
 * new documents are inserted (group-commit.ts).
 */
import type { Collections, MessageDoc, SearchDoc, SessionDoc } from '../db';
import type { Listing } from '../listing';
import type { Serialize } from '../serialize';
import { createBucketStore } from './buckets';
import { createGroupCommit } from './group-commit';
import { createSessionStore, type SessionStoreOptions } from './sessions';
import { createUserStore } from './users';

export interface StoreOptions extends SessionStoreOptions {
  /** How many messages the bucket cache holds at most (single writer). */
  cachedMessages: number;
}

export function createStore(c: Collections, listing: Listing, serialize: Serialize, { cachedMessages, ...options }: StoreOptions) {
  const { singleWriter } = options;
  const sessions = createSessionStore(c, listing, serialize, options);
  const users = createUserStore(c, serialize, { singleWriter, log: options.log });
  const buckets = createBucketStore(c, { singleWriter, capacity: cachedMessages });
  return {
    sessions,
    users,
    buckets,
    insert: {
      messages: createGroupCommit<MessageDoc>(c.messages),
      search: createGroupCommit<SearchDoc>(c.search),
      sessions: createGroupCommit<SessionDoc>(c.sessions),
    },
    /** What memory holds that differs from the database (tests: a single-writer store must never drift). */
    verify: async () => [...(await sessions.verify()), ...(await users.verify()), ...(await buckets.verify())],
    /** Repairs what a crash left and starts reading what a single writer holds in memory (start-up, after migrations). */
    load: async () => {
      await sessions.load();
      await users.load();
    },
    /** Resolves once a single writer holds everything it reads from memory (tests; start-up reads it in the background). */
    loaded: async () => {
      await sessions.loaded();
      await users.loaded();
    },
  };
}

export type Store = ReturnType<typeof createStore>;
export { PartialInsertError } from './group-commit';
export type { SessionQuery } from './sessions';
