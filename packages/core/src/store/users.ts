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
  /** Reads every user (single-writer; start-up). */
  load(): Promise<void>;
  /** What the memory holds that differs from the database (tests). */
  verify(): Promise<string[]>;
}

export function createUserStore(c: Collections, serialize: Serialize, { singleWriter }: { singleWriter: boolean }): UserStore {
  if (!singleWriter) {
    return {
      get: (userId) => c.users.findOne({ userId }), // users_userId
      live: (userId) => c.users.findOne({ userId, ...live }), // users_userId
      stored() {},
      purged() {},
      reload: async () => {},
      load: async () => {},
      verify: async () => [],
    };
  }

  const all = new Map<string, UserDoc>();
  const put = (userId: string, doc: UserDoc | null) => (doc ? all.set(userId, doc) : all.delete(userId));
  return {
    get: async (userId) => all.get(userId) ?? null,
    live: async (userId) => {
      const doc = all.get(userId);
      return doc && doc.deletedAt === null ? doc : null;
    },
    stored: put,
    purged(cutoff) {
      for (const [userId, doc] of all) if (doc.deletedAt !== null && doc.deletedAt <= cutoff) all.delete(userId);
    },
    async reload(userIds) {
      for (const userId of new Set(userIds)) {
        await serialize(userKey(userId), async () => put(userId, await c.users.findOne({ userId }))); // users_userId
      }
    },
    async load() {
      all.clear();
      for await (const doc of c.users.find({})) all.set(doc.userId, doc);
    },
    async verify() {
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
