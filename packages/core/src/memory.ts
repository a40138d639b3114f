import type { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { MongoBulkWriteError, ObjectId } from 'mongodb';
import { bucketKey, bucketOf, type Collections, isDuplicateKeyError, live, type MessageDoc, revive, type SessionDoc } from './db';
import { ConflictError, NotFoundError } from './errors';
import { toMessage } from './mappers';
import type { Listing } from './listing';
import { mergeUpdate } from './merge-update';
import { withoutSystem } from './metadata';
import { decodeCursor, toPage, walkBuckets } from './paging';
import {
  AddMemoryInput,
  GetMemoryInput,
  ListMessagesInput,
  type Memory,
  type Message,
  MessageIdInput,
  UpdateMessageInput,
} from './schemas';
import { type Serialize, sessionKey } from './serialize';
import { tokenize } from './search/tokenize';
import { sessionNotFound } from './sessions';
import { countMessageTokens } from './tokens';
import { parse } from './validate';

const messageNotFound = (sessionId: string, uuid: string) =>
  new NotFoundError(`message ${uuid} not found in session ${JSON.stringify(sessionId)}`);

export interface MemoryOptions {
  /** Numbers the sessions that a first message creates (listing.ts). */
  listing: Listing;
  /** How many messages `get` returns when `lastn` is not given. */
  messageWindow: number;
  /** Called with the freshly stored messages, under the session's lock (queues their embeddings; search). */
  afterAppend?: (session: SessionDoc, docs: MessageDoc[]) => Promise<void>;
}

export function createMemoryService(c: Collections, serialize: Serialize, { listing, messageWindow, afterAppend }: MemoryOptions) {
  /** The live session's highest `seq` so far and its number of live messages; NOT_FOUND when there is no live session. */
  async function sequenceOf(sessionId: string): Promise<{ lastSeq: number; messageCount: number }> {
    const session = await c.sessions.findOne({ sessionId, ...live }, { projection: { lastSeq: 1, messageCount: 1 } }); // sessions_sessionId
    if (!session) throw sessionNotFound(sessionId);
    return session;
  }

  /** A bucket of the session's live messages (db.ts, BUCKET_SIZE), for walkBuckets. */
  const bucketReader = (sessionId: string) => (bucket: number) =>
    c.messages.find({ bucket: bucketKey(sessionId, bucket), ...live }).toArray(); // messages_bucket
  const bySeq = (d: MessageDoc) => d.seq;

  /**
   * Creates the session if needed (undeleting a soft-deleted one) and reserves `count` sequence
   * numbers in the same atomic upsert. Two first writes racing on the unique index: one retries.
   */
  async function reserveSeq(sessionId: string, count: number, termLength: number): Promise<SessionDoc> {
    const now = new Date();
    for (let attempt = 1; ; attempt++) {
      try {
        const doc = await c.sessions.findOneAndUpdate(
          { sessionId }, // sessions_sessionId
          {
            $inc: { lastSeq: count, messageCount: count, termDocs: count, termLength }, // termDocs/termLength: BM25 statistics (search)
            $set: { updatedAt: now, ...revive },
            $setOnInsert: { _id: new ObjectId(), uuid: randomUUID(), userId: null, metadata: {}, createdAt: now },
          },
          { upsert: true, returnDocument: 'after' },
        );
        if (doc!.listNo !== undefined) return doc!;
        // Just created: give it its place in the list of all sessions (under the session's lock).
        const place = await listing.next('sessions');
        await c.sessions.updateOne({ sessionId, listNo: { $exists: false } }, { $set: place }); // sessions_sessionId
        return { ...doc!, ...place };
      } catch (error) {
        if (!isDuplicateKeyError(error) || attempt === 3) throw error;
      }
    }
  }

  async function append(sessionId: string, messages: z.output<typeof AddMemoryInput>['messages']): Promise<Memory> {
    // One equality lookup per client-supplied uuid (an `$in` would not be pushed down on FerretDB).
    const given = [...new Set(messages.flatMap((m) => (m.uuid ? [m.uuid] : [])))];
    const found = await Promise.all(given.map((uuid) => c.messages.findOne({ uuid }))); // messages_uuid
    const existing = new Map(found.flatMap((d) => (d ? [[d.uuid, d] as const] : [])));
    for (const doc of existing.values()) {
      if (doc.sessionId !== sessionId) throw new ConflictError(`message ${doc.uuid} belongs to another session`);
    }
    const batch = messages.map((m) => ({ ...m, uuid: m.uuid ?? randomUUID() }));
    const uuids = [...new Set(batch.map((m) => m.uuid))];
    const fresh = uuids.filter((uuid) => !existing.has(uuid)).map((uuid) => batch.find((m) => m.uuid === uuid)!);
    // Search terms (search/tokenize.ts), computed once, stored on each message and counted on the session.
    const terms = fresh.map((m) => tokenize(m.content));
    const session = await reserveSeq(sessionId, fresh.length, terms.reduce((sum, t) => sum + t.length, 0));
    const now = new Date();
    const firstSeq = session.lastSeq - fresh.length + 1;
    const docs: MessageDoc[] = fresh.map((m, i) => ({
      _id: new ObjectId(),
      uuid: m.uuid,
      sessionId,
      seq: firstSeq + i,
      bucket: bucketKey(sessionId, bucketOf(firstSeq + i)),
      role: m.role,
      content: m.content,
      metadata: m.metadata ?? {},
      tokenCount: m.tokenCount ?? countMessageTokens(m.role, m.content),
      createdAt: m.createdAt ?? now,
      updatedAt: now,
      deletedAt: null,
    }));
    // What search needs of the first `n` of them, kept beside them (db.ts, SearchDoc).
    const searchDocs = (n: number) => docs.slice(0, n).map((d, i) => ({ _id: d._id, sessionId, deletedAt: null, terms: terms[i]! }));
    if (docs.length > 0) {
      try {
        await c.messages.insertMany(docs, { ordered: true });
      } catch (error) {
        // What was not stored does not count (an ordered insert stops at its first failure).
        const stored = error instanceof MongoBulkWriteError ? error.insertedCount : 0;
        if (stored > 0) await c.search.insertMany(searchDocs(stored));
        await c.sessions.updateOne({ sessionId }, { $inc: { messageCount: stored - docs.length } }); // sessions_sessionId
        // A concurrent request stored one of the same uuids first; a retry will skip it.
        if (isDuplicateKeyError(error)) throw new ConflictError('a message of this batch was stored concurrently; retry');
        throw error;
      }
      await c.search.insertMany(searchDocs(docs.length));
      await afterAppend?.(session, docs);
    }
    const stored = new Map([...existing, ...docs.map((d) => [d.uuid, d] as const)]);
    return { messages: uuids.map((uuid) => toMessage(stored.get(uuid)!)) };
  }

  return {
    /**
     * Appends messages in order, each with the next `seq`. Idempotent per client-supplied uuid:
     * one already stored in this session is skipped; one stored in another session is a CONFLICT.
     * Returns the batch as stored.
     */
    async add(input: AddMemoryInput): Promise<Memory> {
      const { sessionId, messages } = parse(AddMemoryInput, input);
      return serialize(sessionKey(sessionId), () => append(sessionId, messages));
    },

    /** The last `lastn` (default: the message window) live messages, oldest first. */
    async get(input: GetMemoryInput): Promise<Memory> {
      const { sessionId, lastn = messageWindow } = parse(GetMemoryInput, input);
      const { lastSeq } = await sequenceOf(sessionId);
      const docs = await walkBuckets(bucketReader(sessionId), bySeq, { from: bucketOf(lastSeq), to: 0, order: 'desc', enough: lastn });
      return { messages: docs.reverse().map(toMessage) };
    },
    /**
     * A live session's live messages, keyset-paged by `seq`: oldest first, or newest first with
     * `direction: 'backward'` (the cursor is then "before this message"). `total` counts all of them.
     */
    async list(input: ListMessagesInput) {
      const { sessionId, limit, cursor, direction } = parse(ListMessagesInput, input);
      const { lastSeq, messageCount } = await sequenceOf(sessionId);
      const key = decodeCursor(cursor, 'number');
      const docs =
        direction === 'backward'
          ? await walkBuckets(bucketReader(sessionId), bySeq, {
              from: bucketOf((key ?? lastSeq + 1) - 1),
              to: 0,
              order: 'desc',
              keep: (d) => key === undefined || d.seq < key,
              enough: limit + 1,
            })
          : await walkBuckets(bucketReader(sessionId), bySeq, {
              from: bucketOf((key ?? 0) + 1),
              to: bucketOf(lastSeq),
              keep: (d) => d.seq > (key ?? 0),
              enough: limit + 1,
            });
      return { ...toPage(docs, limit, (d) => d.seq, toMessage), total: messageCount };
    },

    async message(input: { sessionId: string; uuid: string }): Promise<Message> {
      const { sessionId, uuid } = parse(MessageIdInput, input);
      const doc = await c.messages.findOne({ uuid, sessionId, ...live }); // messages_uuid
      if (!doc) throw messageNotFound(sessionId, uuid);
      return toMessage(doc);
    },

    /** Merges metadata (dropping `system`); `tokenCount` changes only when given. */
    async updateMessage(input: UpdateMessageInput): Promise<Message> {
      const { sessionId, uuid, metadata, tokenCount } = parse(UpdateMessageInput, input);
      const filter = { uuid, sessionId, ...live }; // messages_uuid
      const patch = withoutSystem(metadata);
      const doc = await serialize(sessionKey(sessionId), () =>
        Object.keys(patch).length === 0 && tokenCount === undefined
          ? c.messages.findOne(filter)
          : mergeUpdate(c.messages, filter, patch, { updatedAt: new Date(), ...(tokenCount !== undefined && { tokenCount }) }),
      );
      if (!doc) throw messageNotFound(sessionId, uuid);
      return toMessage(doc);
    },
  };
}
