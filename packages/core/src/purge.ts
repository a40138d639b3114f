import type { Collections } from './db';
import type { Store } from './store';
import type { RetentionResult } from './retention';
import { PurgeInput, type PurgeResult } from './schemas';
import { parse } from './validate';

/**
 * Applies retention first (retention.ts: what has expired is soft-deleted now), then hard-deletes
 * users, sessions and messages soft-deleted more than `graceMs` ago. Each step is a plain filtered
 * deleteMany, so concurrent purges (several server instances) are harmless.
 */
export function createPurgeService(
  c: Collections,
  store: Pick<Store, 'sessions' | 'users'>,
  { expire, now }: { expire: () => Promise<RetentionResult>; now: () => Date },
) {
  return async function purge(input: PurgeInput = {}): Promise<PurgeResult> {
    const { graceMs } = parse(PurgeInput, input);
    const expired = await expire();
    await store.users.loaded(); // what is purged must not come back with a user read into memory before
    const cutoff = new Date(now().getTime() - graceMs);
    const filter = { deletedAt: { $lte: cutoff } }; // *_deleted / *_live ({deletedAt, …})
    const messages = await c.messages.deleteMany(filter);
    await c.search.deleteMany(filter); // search_deleted
    await c.summaries.deleteMany(filter); // summaries_deleted
    const sessions = await c.sessions.deleteMany(filter);
    store.sessions.purged(cutoff);
    const users = await c.users.deleteMany(filter);
    store.users.purged(cutoff);
    return { users: users.deletedCount, sessions: sessions.deletedCount, messages: messages.deletedCount, expired };
  };
}
