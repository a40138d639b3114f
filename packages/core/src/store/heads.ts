/**
 * Session heads on a single writer: what an append changes in a session document (its last `seq`,
 * its counts, its activity times) is applied in memory at once and written to the database within
 * `flushMs`, once for all the appends of that period, instead of one update per append: on FerretDB
 * that update was half of an append's database cost.
 *
 * Nothing acknowledged is lost in a crash. Before the first append of a period is answered, a marker
 * `{_id: 'head:<sessionId>'}` is stored in `mnemo_meta`: "the stored head of this session may lag
 * its messages". Start-up (`recover`) repairs each marked session from its messages, which are
 * stored before their append is answered: the messages numbered after the stored `lastSeq`, read a
 * bucket at a time, give the new `lastSeq`, counts and activity time. A flush writes the head and
 * then removes the marker.
 *
 * Every other write of a session's document or messages first settles its head (`settle`, under the
 * session's lock), so the database is exact whenever anything but an append touches it, and a
 * repair only ever sees appended messages. Writing a session's document while its head is unsettled
 * is a programming error, refused (`stored`).
 */
import { bucketKey, bucketOf, type Collections, live, type SessionDoc } from '../db';
import { type Serialize, sessionKey } from '../serialize';

/**
 * What appending `count` messages holding `termLength` search terms, the oldest created at `oldest`,
 * changes in a session document, at `now`.
 */
export function appendChange(count: number, termLength: number, now: Date, oldest?: Date) {
  return {
    // termDocs/termLength: BM25 statistics (search/search.ts)
    $inc: { lastSeq: count, messageCount: count, termDocs: count, termLength },
    $set: { updatedAt: now, ...(count > 0 && { lastMessageAt: now, lastActiveAt: now }) },
    ...(oldest && { $min: { oldestMessageAt: oldest } }),
  };
}

const HEAD_FIELDS = [
  'lastSeq',
  'messageCount',
  'termDocs',
  'termLength',
  'updatedAt',
  'lastMessageAt',
  'lastActiveAt',
  'oldestMessageAt',
] as const;
const markerOf = (sessionId: string) => `head:${sessionId}`;

/** Writes a head as memory holds it (`oldestMessageAt` absent: none). */
function headUpdate(doc: SessionDoc) {
  const head = Object.fromEntries(HEAD_FIELDS.map((field) => [field, doc[field]]).filter(([, value]) => value !== undefined));
  return { $set: head, ...(doc.oldestMessageAt === undefined && { $unset: { oldestMessageAt: '' as const } }) };
}

export interface Heads {
  /** Whether the stored head of this session lags what memory holds. */
  isDirty(sessionId: string): boolean;
  /** Applies an append to the live session's document in memory (under its lock); the document as it now is. */
  advance(doc: SessionDoc, count: number, termLength: number, now: Date, oldest?: Date): Promise<SessionDoc>;
  /** Writes the session's head if it lags (under its lock). */
  settle(sessionId: string): Promise<void>;
  /** Settles every session (each under its lock). */
  settleAll(): Promise<void>;
  /** Start-up: repairs the sessions a crash left marked, before anything is served; the repaired documents. */
  recover(): Promise<SessionDoc[]>;
  /** Settles everything and stops the periodic flush. */
  close(): Promise<void>;
}

export function createHeads(
  c: Collections,
  serialize: Serialize,
  { current, put }: { current: (sessionId: string) => SessionDoc | undefined; put: (sessionId: string, doc: SessionDoc) => void },
  { flushMs, log }: { flushMs: number; log: (message: string, error?: unknown) => void },
): Heads {
  const dirty = new Set<string>();
  /** Sessions whose marker is stored (or being stored: its promise). */
  const marked = new Map<string, Promise<void>>();
  let failing = false;

  async function mark(sessionId: string): Promise<void> {
    let stored = marked.get(sessionId);
    if (!stored) {
      const _id = markerOf(sessionId);
      stored = c.meta.updateOne({ _id }, { $setOnInsert: { _id } }, { upsert: true }).then(() => {});
      marked.set(sessionId, stored);
      stored.catch(() => marked.delete(sessionId));
    }
    await stored;
  }

  async function settle(sessionId: string): Promise<void> {
    if (!dirty.has(sessionId)) return;
    const doc = current(sessionId)!;
    await c.sessions.updateOne({ _id: doc._id }, headUpdate(doc)); // _id
    dirty.delete(sessionId);
    await c.meta.deleteOne({ _id: markerOf(sessionId) }); // _id
    marked.delete(sessionId);
  }

  async function settleAll(): Promise<void> {
    for (const sessionId of [...dirty]) await serialize(sessionKey(sessionId), () => settle(sessionId));
  }

  const timer = setInterval(() => {
    settleAll().then(
      () => (failing = false),
      (error: unknown) => {
        // Retried at the next tick (the heads stay dirty and marked); said once per outage.
        if (!failing) log('could not write session heads; retrying', error);
        failing = true;
      },
    );
  }, flushMs);
  timer.unref();

  return {
    isDirty: (sessionId) => dirty.has(sessionId),

    async advance(doc, count, termLength, now, oldest) {
      await mark(doc.sessionId);
      const { $inc, $set } = appendChange(count, termLength, now);
      const next: SessionDoc = { ...doc, ...$set };
      for (const [field, by] of Object.entries($inc)) next[field as keyof typeof $inc] = (doc[field as keyof typeof $inc] ?? 0) + by;
      if (oldest && !(doc.oldestMessageAt && doc.oldestMessageAt <= oldest)) next.oldestMessageAt = oldest;
      dirty.add(doc.sessionId);
      put(doc.sessionId, next);
      return next;
    },

    settle,
    settleAll,

    async recover() {
      const repaired: SessionDoc[] = [];
      for await (const { _id } of c.meta.find({ _id: { $regex: /^head:/ } })) {
        const doc = await c.sessions.findOne({ sessionId: _id.slice('head:'.length) }); // sessions_sessionId
        const fixed = doc && (await repair(c, doc));
        if (fixed) {
          await c.sessions.updateOne({ _id: fixed._id }, headUpdate(fixed)); // _id
          repaired.push(fixed);
        }
        await c.meta.deleteOne({ _id }); // _id
      }
      return repaired;
    },

    async close() {
      clearInterval(timer);
      await settleAll();
    },
  };
}

/**
 * The session's document with what its appended messages beyond the stored `lastSeq` add to it,
 * or null when there are none. Only appends happen between two settles, so those messages are all
 * live, numbered on from `lastSeq`, and their `updatedAt` is their append's time.
 */
async function repair(c: Collections, doc: SessionDoc): Promise<SessionDoc | null> {
  const beyond = [];
  for (let bucket = bucketOf(doc.lastSeq + 1); ; bucket++) {
    const found = (await c.messages.find({ bucket: bucketKey(doc.sessionId, bucket), ...live }).toArray()).filter(
      (m) => m.seq > doc.lastSeq,
    ); // messages_bucket
    if (found.length === 0) break;
    beyond.push(...found);
  }
  if (beyond.length === 0) return null;
  const terms = await Promise.all(beyond.map((m) => c.search.findOne({ _id: m._id }, { projection: { terms: 1 } }))); // _id
  const last = new Date(Math.max(...beyond.map((m) => m.updatedAt.getTime())));
  const oldest = new Date(Math.min(...beyond.map((m) => m.createdAt.getTime())));
  const { $inc, $set } = appendChange(
    beyond.length,
    terms.reduce((sum, t) => sum + (t?.terms.length ?? 0), 0),
    last,
  );
  return {
    ...doc,
    ...$set,
    ...(!(doc.oldestMessageAt && doc.oldestMessageAt <= oldest) && { oldestMessageAt: oldest }),
    lastSeq: Math.max(...beyond.map((m) => m.seq)),
    messageCount: doc.messageCount + $inc.messageCount,
    termDocs: (doc.termDocs ?? 0) + $inc.termDocs,
    termLength: (doc.termLength ?? 0) + $inc.termLength,
  };
}
