/**
 * Retention: chat history kept for at most N days. The server's default is MNEMO_RETENTION_DAYS
 * (CoreConfig.retentionDays; unset = keep forever); a session may carry its own `retentionDays`,
 * which wins either way. A run soft-deletes, per session:
 *   - the whole session (with its messages) when it has been inactive longer than its retention
 *     (`lastActiveAt`: creation or last message);
 *   - otherwise its messages created longer ago than that.
 * The purge schedule runs it before each purge, so what expires is hard-deleted `graceMs` later,
 * as anything deleted. `now` is injectable for tests.
 */
import { type Collections, live } from './db';
import type { Publish } from './events';
import { softDeleteSession } from './sessions';
import { type Serialize, sessionKey } from './serialize';
import type { Store } from './store';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RetentionResult {
  sessions: number;
  messages: number;
}

export function createRetention(
  c: Collections,
  serialize: Serialize,
  store: Store,
  publish: Publish,
  {
    defaultDays,
    expireMessages,
    now,
  }: { defaultDays?: number; expireMessages: (sessionId: string, cutoff: Date) => Promise<number>; now: () => Date },
) {
  return async function expire(): Promise<RetentionResult> {
    const at = now();
    const result = { sessions: 0, messages: 0 };
    await store.sessions.settleAll(); // activity times are read from the database below
    // Every live session when there is a default; else only those with their own retention.
    const filter = defaultDays === undefined ? { live: true, retentionDays: { $gte: 1 } } : { live: true }; // (all live sessions: a background job)
    const sessions = c.sessions.find(filter, { projection: { sessionId: 1, retentionDays: 1, lastActiveAt: 1, createdAt: 1 } });
    for await (const session of sessions) {
      const days = session.retentionDays ?? defaultDays;
      if (days === undefined) continue;
      const cutoff = new Date(at.getTime() - days * DAY_MS);
      if ((session.lastActiveAt ?? session.createdAt) < cutoff) {
        const deleted = await serialize(sessionKey(session.sessionId), async () => {
          // Still inactive now that it is our turn (a message may have come in meanwhile).
          const current = await c.sessions.findOne(
            { sessionId: session.sessionId, ...live, lastActiveAt: { $lt: cutoff } },
            { projection: { _id: 1 } },
          );
          if (current) await softDeleteSession(c, store, publish, session.sessionId, at);
          return current !== null;
        });
        if (deleted) result.sessions += 1;
      } else {
        result.messages += await expireMessages(session.sessionId, cutoff);
      }
    }
    return result;
  };
}
