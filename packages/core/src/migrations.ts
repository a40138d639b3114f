/**
 * Brings documents written by an earlier Mnemo up to date, once per database: `mnemo_meta`'s
 * `{_id: 'schema'}` records the last step applied, so a start-up after that costs one read. Each
 * step is idempotent, so instances starting together may both run it.
 */
import type { Collection } from 'mongodb';
import {
  BUCKET_SIZE,
  bucketKey,
  bucketOf,
  type Collections,
  isDuplicateKeyError,
  type MessageDoc,
  type SessionDoc,
  type UserDoc,
} from './db';
import type { Listing } from './listing';

const STEPS: ((c: Collections, listing: Listing) => Promise<void>)[] = [
  // 1. Users and sessions get the `live` flag (db.ts, `revive`).
  async (c) => {
    for (const collection of [c.users, c.sessions] as Collection<UserDoc | SessionDoc>[]) {
      await collection.updateMany({ live: { $exists: false }, deletedAt: null }, { $set: { live: true } });
      await collection.updateMany({ live: { $exists: false }, deletedAt: { $ne: null } }, { $set: { live: false } });
    }
  },
  // 2. Messages get their bucket key (db.ts, BUCKET_SIZE): one updateMany per bucket (FerretDB stalls
  //    on an update command that carries many statements).
  async (c) => {
    const todo = await c.messages.find({ bucket: { $exists: false } }, { projection: { sessionId: 1, seq: 1 } }).toArray();
    const buckets = new Map(todo.map(({ sessionId, seq }) => [bucketKey(sessionId, bucketOf(seq)), { sessionId, bucket: bucketOf(seq) }]));
    for (const [key, { sessionId, bucket }] of buckets) {
      const seq = { $gte: bucket * BUCKET_SIZE, $lt: (bucket + 1) * BUCKET_SIZE };
      await c.messages.updateMany({ sessionId, seq, bucket: { $exists: false } }, { $set: { bucket: key } }); // messages_session_seq
    }
  },
  // 3. Users and sessions get their place in the lists of all users and sessions (listing.ts), in creation order.
  async (c, listing) => {
    for (const name of ['users', 'sessions'] as const) {
      const collection = c[name] as Collection<UserDoc | SessionDoc>;
      const todo = await collection
        .find({ listNo: { $exists: false } }, { projection: { _id: 1 } })
        .sort({ _id: 1 })
        .toArray();
      for (const { _id } of todo) {
        await collection.updateOne({ _id, listNo: { $exists: false } }, { $set: await listing.next(name) });
      }
    }
  },
  // 4. Sessions count their live messages (db.ts, messageCount).
  async (c) => {
    const todo = await c.sessions.find({ messageCount: { $exists: false } }, { projection: { sessionId: 1, deletedAt: 1 } }).toArray();
    for (const { _id, sessionId, deletedAt } of todo) {
      const messageCount = deletedAt ? 0 : await c.messages.countDocuments({ sessionId, deletedAt: null }); // messages_session_seq
      await c.sessions.updateOne({ _id }, { $set: { messageCount } });
    }
  },
  // 5. Search terms and embeddings move from the messages to message_search (db.ts, SearchDoc).
  async (c) => {
    const messages = c.messages as unknown as Collection<MessageDoc & { terms?: string[]; embedding?: number[] }>;
    const todo = await messages
      .find({ terms: { $exists: true } }, { projection: { sessionId: 1, deletedAt: 1, terms: 1, embedding: 1 } })
      .toArray();
    for (let i = 0; i < todo.length; i += 1000) {
      const batch = todo.slice(i, i + 1000).map(({ _id, sessionId, deletedAt, terms = [], embedding }) => ({
        _id,
        sessionId,
        deletedAt,
        terms,
        ...(embedding && { embedding }),
      }));
      // Moved already by an interrupted run: the duplicates are skipped.
      await c.search.insertMany(batch, { ordered: false }).catch((error: unknown) => {
        if (!isDuplicateKeyError(error)) throw error;
      });
    }
    await messages.updateMany({ terms: { $exists: true } }, { $unset: { terms: '', embedding: '' } }); // (its index is RETIRED, db.ts)
  },
  // 6. Sessions get their activity times (db.ts): the last update stands in for the last message.
  async (c) => {
    const todo = await c.sessions.find({ lastActiveAt: { $exists: false } }, { projection: { updatedAt: 1, messageCount: 1 } }).toArray();
    for (const { _id, updatedAt, messageCount } of todo) {
      await c.sessions.updateOne({ _id }, { $set: { lastActiveAt: updatedAt, lastMessageAt: messageCount > 0 ? updatedAt : null } });
    }
  },
  // 7. Sessions record when their oldest live message was created (db.ts, oldestMessageAt; retention): one
  //    read of every live message, once.
  async (c) => {
    const oldest = new Map<string, Date>();
    for await (const { sessionId, createdAt } of c.messages.find({ deletedAt: null }, { projection: { sessionId: 1, createdAt: 1 } })) {
      const known = oldest.get(sessionId);
      if (!known || createdAt < known) oldest.set(sessionId, createdAt);
    }
    for (const [sessionId, oldestMessageAt] of oldest) {
      await c.sessions.updateOne({ sessionId }, { $min: { oldestMessageAt } }); // sessions_sessionId
    }
  },
];

export async function migrate(c: Collections, listing: Listing): Promise<void> {
  const version = (await c.meta.findOne({ _id: 'schema' }))?.version ?? 0;
  for (let step = version; step < STEPS.length; step++) {
    await STEPS[step]!(c, listing);
    await c.meta.updateOne({ _id: 'schema' }, { $set: { version: step + 1 } }, { upsert: true });
  }
}
