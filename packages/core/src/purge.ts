import type { Collections } from './db';
import type { SessionStore } from './store/sessions';
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
  sessionStore: SessionStore,
  { expire, now }: { expire: () => Promise<RetentionResult>; now: () => Date },
) {
  return async function purge(input: PurgeInput = {}): Promise<PurgeResult> {
    const { graceMs } = parse(PurgeInput, input);
    const expired = await expire();
    const cutoff = new Date(now().getTime() - graceMs);
    const filter = { deletedAt: { $lte: cutoff } }; // *_deleted / *_live ({deletedAt, …})
    const messages = await c.messages.deleteMany(filter);
    await c.search.deleteMany(filter); // search_deleted
    const sessions = await c.sessions.deleteMany(filter);
    sessionStore.purged(cutoff);
    const users = await c.users.deleteMany(filter);
    return { users: users.deletedCount, sessions: sessions.deletedCount, messages: messages.deletedCount, expired };
  };
}
