/**
 * Where the services read user documents by id: a query each on a shared database, and on a single
 * writer every user held in memory, replaced after each write by the document the write returned,
 * as sessions are (sessions.ts). Creating a session for a user then checks the user for free. The
 * list of all users stays a bucketed query (listing.ts): O(page) already.
 */
import { type Collections, live, type UserDoc } from '../db';
import { type Serialize, userKey } from '../serialize';

export interface UserStore {
  /** The user's document, live or soft-deleted; null when there is none. */
  get(userId: string): Promise<UserDoc | null>;
  /** The user's document while it is live; null otherwise. */
  live(userId: string): Promise<UserDoc | null>;
  /** After a write of one user: its document as now stored; null once hard-deleted. */
  stored(userId: string, doc: UserDoc | null): void;
  /** After purge hard-deleted the users soft-deleted at `cutoff` or before. */
  purged(cutoff: Date): void;
  /** After writes whose resulting documents are not at hand (imports): read these users again, each under its lock. */
  reload(userIds: Iterable<string>): Promise<void>;
  /** Starts reading every user into memory (single-writer; start-up). */
  load(): Promise<void>;
  /** Resolves once every user is in memory (at once where nothing is held). */
  loaded(): Promise<void>;
  /** What the memory holds that differs from the database (tests). */
  verify(): Promise<string[]>;
}

export function createUserStore(
  c: Collections,
  serialize: Serialize,
  { singleWriter, log }: { singleWriter: boolean; log: (message: string, error?: unknown) => void },
): UserStore {
  const queries: UserStore = {
    get: (userId) => c.users.findOne({ userId }), // users_userId
    live: (userId) => c.users.findOne({ userId, ...live }), // users_userId
    stored() {},
    purged() {},
    reload: async () => {},
    load: async () => {},
    loaded: async () => {},
    verify: async () => [],
  };
  if (!singleWriter) return queries;

  // Read in the background after start-up, as sessions are (sessions.ts): queries answer until then,
  // and what writes store meanwhile wins over what the reading brings.
  const all = new Map<string, UserDoc>();
  let ready = false;
  const touched = new Set<string>();
  let loading: Promise<void> = Promise.resolve();
  const put = (userId: string, doc: UserDoc | null) => {
    if (!ready) touched.add(userId);
    if (doc) all.set(userId, doc);
    else all.delete(userId);
  };
  return {
    get: async (userId) => (ready ? (all.get(userId) ?? null) : queries.get(userId)),
    live: async (userId) => {
      if (!ready) return queries.live(userId);
      const doc = all.get(userId);
      return doc && doc.deletedAt === null ? doc : null;
    },
    stored: put,
    purged(cutoff) {
      for (const [userId, doc] of all) if (doc.deletedAt !== null && doc.deletedAt <= cutoff) put(userId, null);
    },
    async reload(userIds) {
      for (const userId of new Set(userIds)) {
        await serialize(userKey(userId), async () => put(userId, await c.users.findOne({ userId }))); // users_userId
      }
    },
    async load() {
      // Loading again (init on a running core) starts afresh.
      await loading;
      ready = false;
      touched.clear();
      all.clear();
      loading = (async () => {
        for (;;) {
          try {
            for await (const doc of c.users.find({})) if (!touched.has(doc.userId)) all.set(doc.userId, doc);
            ready = true;
            touched.clear();
            return;
          } catch (error) {
            log('could not read the users into memory; retrying (queries answer meanwhile)', error);
            await new Promise((resolve) => setTimeout(resolve, 1000));
          }
        }
      })();
    },
    loaded: () => loading,
    async verify() {
      await loading;
      const problems: string[] = [];
      const stored = new Map<string, UserDoc>();
      for await (const doc of c.users.find({})) stored.set(doc.userId, doc);
      for (const userId of new Set([...all.keys(), ...stored.keys()])) {
        const mine = JSON.stringify(all.get(userId) ?? null);
        const theirs = JSON.stringify(stored.get(userId) ?? null);
        if (mine !== theirs) problems.push(`user ${JSON.stringify(userId)}: in memory ${mine}, stored ${theirs}`);
      }
      return problems;
    },
  };
}
