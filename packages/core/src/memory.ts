import type { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { ObjectId } from 'mongodb';
import {
  bucketKey,
  bucketOf,
  type Collections,
  isDuplicateKeyError,
  live,
  type MessageDoc,
  revive,
  type SearchDoc,
  type SessionDoc,
} from './db';
import type { Publish } from './events';
import { ConflictError, NotFoundError, sessionNotFound } from './errors';
import { toMessage, toSession } from './mappers';
import type { Listing } from './listing';
import { mergeUpdate } from './merge-update';
import { textOfParts, withoutSystem } from './metadata';
import { decodeCursor, toPage, walkBuckets } from './paging';
import {
  AddMemoryInput,
  GetMemoryInput,
  ListMessagesInput,
  type Memory,
  type Message,
  MessageIdInput,
  RestoreMessageInput,
  TruncateInput,
  UpdateMessageInput,
} from './schemas';
import { type Serialize, sessionKey } from './serialize';
import { tokenize } from './search/tokenize';
import { PartialInsertError, type Store } from './store';
import { appendChange } from './store/heads';
import type { BucketStore } from './store/buckets';
import { type Summaries, toSummary } from './summaries';
import { countMessageTokens } from './tokens';
import { parse } from './validate';

const messageNotFound = (sessionId: string, uuid: string) =>
  new NotFoundError(`message ${uuid} not found in session ${JSON.stringify(sessionId)}`);

const bySeq = (d: MessageDoc) => d.seq;

/** A session's newest live message, or null (a session list's preview). */
export async function lastMessage(
  buckets: BucketStore,
  { sessionId, lastSeq, messageCount }: Pick<SessionDoc, 'sessionId' | 'lastSeq' | 'messageCount'>,
): Promise<MessageDoc | null> {
  if (messageCount === 0) return null;
  const [doc] = await walkBuckets((bucket) => buckets.read(sessionId, bucket), bySeq, {
    from: bucketOf(lastSeq),
    to: 0,
    order: 'desc',
    enough: 1,
  });
  return doc ?? null;
}

export interface MemoryOptions {
  /** Numbers the sessions that a first message creates (listing.ts). */
  listing: Listing;
  /** How many messages `get` returns when `lastn` is not given. */
  messageWindow: number;
  /** Tells subscribers what a write changed (events.ts). */
  publish: Publish;
  /** Called with messages whose text is new and final, under the session's lock (queues their embeddings; search). */
  queueEmbeddings?: (sessionId: string, docs: MessageDoc[]) => void;
  /** Summaries, when a model is configured (summaries/): told of each append, and read by `get`. */
  summaries?: Pick<Summaries, 'notify' | 'latest' | 'invalidate'>;
}

export function createMemoryService(
  c: Collections,
  serialize: Serialize,
  store: Store,
  { listing, messageWindow, publish, queueEmbeddings, summaries }: MemoryOptions,
) {
  const { sessions, buckets } = store;
  const bucketReader = (sessionId: string) => (bucket: number) => buckets.read(sessionId, bucket);
  const final = (d: MessageDoc) => d.status !== 'streaming';

  /** A live message of a session, by id; NOT_FOUND when there is none. */
  async function liveMessage(sessionId: string, uuid: string): Promise<MessageDoc> {
    const doc = await c.messages.findOne({ uuid, sessionId, ...live }); // messages_id
    if (!doc) throw messageNotFound(sessionId, uuid);
    return doc;
  }

  /**
   * Reserves `count` sequence numbers for an append. A single writer advances a live session's head
   * in memory (store/heads.ts); otherwise one atomic upsert creates the session if needed
   * (undeleting a soft-deleted one) and reserves them. Two first writes racing on the unique index:
   * one retries. A single writer knows the session is new and numbers it in that upsert; elsewhere
   * a new session gets its number just after.
   */
  async function reserveSeq(
    sessionId: string,
    { count, termLength, oldest }: { count: number; termLength: number; oldest?: Date },
    owner: string | null,
    now: Date,
  ): Promise<SessionDoc> {
    const advanced = await sessions.advance(sessionId, count, termLength, now, oldest);
    if (advanced) return advanced;
    const place = sessions.inMemory && !(await sessions.get(sessionId)) ? await listing.next('sessions') : {};
    const { $inc, $set, $min } = appendChange(count, termLength, now, oldest);
    for (let attempt = 1; ; attempt++) {
      try {
        let doc = (await c.sessions.findOneAndUpdate(
          { sessionId }, // sessions_sessionId
          {
            $inc,
            $set: { ...$set, ...revive },
            ...($min && { $min }),
            $setOnInsert: {
              _id: new ObjectId(),
              uuid: randomUUID(),
              userId: owner,
              metadata: {},
              createdAt: now,
              ...(count === 0 && { lastMessageAt: null, lastActiveAt: now }),
              ...place,
            },
          },
          { upsert: true, returnDocument: 'after' },
        ))!;
        if (doc.listNo === undefined) {
          // Just created: give it its place in the list of all sessions (under the session's lock).
          doc =
            (await c.sessions.findOneAndUpdate(
              { sessionId, listNo: { $exists: false } }, // sessions_sessionId
              { $set: await listing.next('sessions') },
              { returnDocument: 'after' },
            )) ?? doc;
        }
        sessions.stored(sessionId, doc);
        return doc;
      } catch (error) {
        if (!isDuplicateKeyError(error) || attempt === 3) throw error;
      }
    }
  }

  async function append(sessionId: string, messages: z.output<typeof AddMemoryInput>['messages'], owner?: string): Promise<Memory> {
    // On behalf of a user (scope.ts): a session of somebody else (even deleted) is not theirs to write or revive.
    if (owner !== undefined) {
      const existing = await sessions.get(sessionId);
      if (existing && existing.userId !== owner) throw sessionNotFound(sessionId);
    }
    // One equality lookup per client-supplied id (an `$in` would not be pushed down on FerretDB).
    const given = [...new Set(messages.flatMap((m) => (m.uuid ? [m.uuid] : [])))];
    const found = await Promise.all(given.map((uuid) => c.messages.findOne({ uuid, sessionId }))); // messages_id
    const existing = new Map(found.flatMap((d) => (d?.deletedAt === null ? [[d.uuid, d] as const] : [])));
    // A deleted message's id may be used again (edit and resend keeps the id): the old one goes now, not at the next purge.
    for (const doc of found) {
      if (doc && doc.deletedAt !== null) await Promise.all([c.messages.deleteOne({ _id: doc._id }), c.search.deleteOne({ _id: doc._id })]);
    }
    const batch = messages.map((m) => ({ ...m, uuid: m.uuid ?? randomUUID() }));
    const uuids = [...new Set(batch.map((m) => m.uuid))];
    const fresh = uuids
      .filter((uuid) => !existing.has(uuid))
      .map((uuid) => batch.find((m) => m.uuid === uuid)!)
      .map((m) => ({ ...m, content: m.content ?? textOfParts(m.parts ?? []) }));
    // Search terms (search/tokenize.ts), computed once, stored on each message and counted on the session.
    const terms = fresh.map((m) => tokenize(m.content));
    const now = new Date();
    const created = fresh.map((m) => (m.createdAt ?? now).getTime());
    const session = await reserveSeq(
      sessionId,
      {
        count: fresh.length,
        termLength: terms.reduce((sum, t) => sum + t.length, 0),
        oldest: created.length > 0 ? new Date(Math.min(...created)) : undefined,
      },
      owner ?? null,
      now,
    );
    const firstSeq = session.lastSeq - fresh.length + 1;
    const docs: MessageDoc[] = fresh.map((m, i) => ({
      _id: new ObjectId(),
      uuid: m.uuid,
      sessionId,
      seq: firstSeq + i,
      bucket: bucketKey(sessionId, bucketOf(firstSeq + i)),
      role: m.role,
      content: m.content,
      ...(m.parts && { parts: JSON.stringify(m.parts) }),
      ...(m.status && { status: m.status }),
      metadata: m.metadata ?? {},
      tokenCount: m.tokenCount ?? countMessageTokens(m.role, m.content),
      createdAt: m.createdAt ?? now,
      updatedAt: now,
      deletedAt: null,
    }));
    if (docs.length > 0) {
      // The messages and what search needs of them (db.ts, SearchDoc) go out together, each with the
      // inserts of other sessions' appends under way (group commit).
      const searchDocs: SearchDoc[] = docs.map((d, i) => ({ _id: d._id, sessionId, deletedAt: null, terms: terms[i]! }));
      const [inserted, indexed] = await Promise.allSettled([store.insert.messages(docs), store.insert.search(searchDocs)]);
      if (inserted.status === 'rejected') {
        // What was not stored does not count, nor is it searchable.
        const error = inserted.reason;
        const failed = error instanceof PartialInsertError ? error.failed : docs.map((_, i) => i);
        await Promise.all(failed.map((i) => c.search.deleteOne({ _id: docs[i]!._id }))); // _id
        buckets.invalidate(sessionId);
        await sessions.settle(sessionId);
        sessions.stored(
          sessionId,
          await c.sessions.findOneAndUpdate({ sessionId }, { $inc: { messageCount: -failed.length } }, { returnDocument: 'after' }), // sessions_sessionId
        );
        // A concurrent request stored one of the same ids first; a retry will skip it.
        if (isDuplicateKeyError(error instanceof PartialInsertError ? error.cause : error))
          throw new ConflictError('a message of this batch was stored concurrently; retry');
        throw error;
      }
      buckets.appended(sessionId, docs, firstSeq - 1);
      if (indexed.status === 'rejected') throw indexed.reason;
      queueEmbeddings?.(sessionId, docs.filter(final));
      summaries?.notify(sessionId, session.lastSeq);
      publish({ type: 'messages', sessionId, messages: docs.map(toMessage) });
      publish({ type: 'session', session: toSession(session) });
    }
    const stored = new Map([...existing, ...docs.map((d) => [d.uuid, d] as const)]);
    return { messages: uuids.map((uuid) => toMessage(stored.get(uuid)!)) };
  }

  /**
   * Soft-deletes the given live messages' search documents and takes them out of the session's
   * counts (messages, BM25 statistics). The messages themselves are already marked.
   */
  async function unindex(sessionId: string, docs: MessageDoc[], now: Date): Promise<void> {
    await sessions.settle(sessionId);
    let termLength = 0;
    for (let i = 0; i < docs.length; i += 1000) {
      const ids = docs.slice(i, i + 1000).map((d) => d._id);
      // _id, or search_session with the ids filtered in FerretDB (an `$in` is not pushed down)
      const filter = ids.length === 1 ? { _id: ids[0]! } : { sessionId, ...live, _id: { $in: ids } };
      for (const d of await c.search.find(filter, { projection: { terms: 1 } }).toArray()) termLength += d.terms.length;
      await c.search.updateMany(filter, { $set: { deletedAt: now } });
    }
    const session = await c.sessions.findOneAndUpdate(
      { sessionId }, // sessions_sessionId
      { $inc: { messageCount: -docs.length, termDocs: -docs.length, termLength: -termLength }, $set: { updatedAt: now } },
      { returnDocument: 'after' },
    );
    sessions.stored(sessionId, session);
    publish({ type: 'deleted', sessionId, uuids: docs.map((d) => d.uuid) });
    if (session) publish({ type: 'session', session: toSession(session) });
  }

  /** Applies a validated message update under the session's lock (see UpdateMessageInput). */
  async function update({
    sessionId,
    uuid,
    metadata,
    tokenCount,
    role,
    content,
    append,
    parts,
    status,
  }: z.output<typeof UpdateMessageInput>) {
    await sessions.settle(sessionId);
    const current = await liveMessage(sessionId, uuid);
    const text = content ?? (append !== undefined ? current.content + append : parts && textOfParts(parts));
    const textChanged = text !== undefined && text !== current.content;
    const set: Partial<MessageDoc> = {
      ...(text !== undefined && { content: text }),
      ...(role !== undefined && { role }),
      ...(parts !== undefined && { parts: JSON.stringify(parts) }),
      ...(status !== undefined && { status }),
    };
    if (tokenCount !== undefined) set.tokenCount = tokenCount;
    else if (textChanged || (role !== undefined && role !== current.role))
      set.tokenCount = countMessageTokens(role ?? current.role, text ?? current.content);
    const patch = withoutSystem(metadata ?? {});
    if (Object.keys(set).length === 0 && Object.keys(patch).length === 0) return current;
    const filter = { uuid, sessionId, ...live }; // messages_id
    const changed = { ...set, updatedAt: new Date() };
    const doc =
      Object.keys(patch).length > 0
        ? await mergeUpdate(c.messages, filter, patch, changed)
        : await c.messages.findOneAndUpdate(filter, { $set: changed }, { returnDocument: 'after' });
    if (!doc) throw messageNotFound(sessionId, uuid);
    buckets.changed(doc);
    if (textChanged) {
      const terms = tokenize(text);
      // The stored embedding described the old text.
      const old = await c.search.findOneAndUpdate({ _id: doc._id }, { $set: { terms }, $unset: { embedding: '' } }); // _id
      const session = await c.sessions.findOneAndUpdate(
        { sessionId }, // sessions_sessionId
        { $inc: { termLength: terms.length - (old?.terms.length ?? 0) } },
        { returnDocument: 'after' },
      );
      sessions.stored(sessionId, session);
    }
    if (final(doc) && (textChanged || !final(current))) queueEmbeddings?.(sessionId, [doc]);
    publish({ type: 'messages', sessionId, messages: [toMessage(doc)] });
    return doc;
  }

  return {
    /**
     * Appends messages in order, each with the next `seq`. Idempotent per message id within the
     * session: a live message with the id is skipped (and returned as stored). Returns the batch as stored.
     */
    async add(input: AddMemoryInput, { owner }: { owner?: string } = {}): Promise<Memory> {
      const { sessionId, messages } = parse(AddMemoryInput, input);
      return serialize(sessionKey(sessionId), () => append(sessionId, messages, owner));
    },

    /**
     * The last `lastn` live messages, oldest first; none for a session that does not exist. With
     * summaries configured, also the session's latest summary, and without `lastn` only the
     * messages after it (Zep's rule), at most the message window of them.
     */
    async get(input: GetMemoryInput): Promise<Memory> {
      const { sessionId, lastn } = parse(GetMemoryInput, input);
      const session = await sessions.live(sessionId);
      if (!session) return { messages: [] };
      const summary = summaries && (await summaries.latest(session));
      const withSummary = summary ? { summary: toSummary(summary) } : {};
      if (session.messageCount === 0) return { messages: [], ...withSummary };
      const after = lastn === undefined ? (summary?.recentSeq ?? 0) : 0;
      const docs = await walkBuckets(bucketReader(sessionId), bySeq, {
        from: bucketOf(session.lastSeq),
        to: bucketOf(after),
        order: 'desc',
        keep: (d) => d.seq > after,
        enough: lastn ?? messageWindow,
      });
      return { messages: docs.reverse().map(toMessage), ...withSummary };
    },
    /**
     * A session's live messages, keyset-paged by `seq`: oldest first, or newest first with
     * `order: 'desc'` (the cursor is then "before this message"). `total` counts all of them.
     * A session that does not exist has none.
     */
    async list(input: ListMessagesInput) {
      const { sessionId, limit, cursor, order } = parse(ListMessagesInput, input);
      const key = decodeCursor(cursor, 'number');
      const session = await sessions.live(sessionId);
      if (!session || session.messageCount === 0) return { items: [], nextCursor: null, total: 0 };
      const { lastSeq, messageCount } = session;
      const docs =
        order === 'desc'
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
      return toMessage(await liveMessage(sessionId, uuid));
    },

    /** Changes a message (UpdateMessageInput): metadata merges (dropping `system`), text, role, parts, status. */
    async updateMessage(input: UpdateMessageInput): Promise<Message> {
      const valid = parse(UpdateMessageInput, input);
      return toMessage(await serialize(sessionKey(valid.sessionId), () => update(valid)));
    },

    /** Soft-deletes one message (purged later, like everything deleted). */
    async deleteMessage(input: { sessionId: string; uuid: string }): Promise<{ deleted: number }> {
      const { sessionId, uuid } = parse(MessageIdInput, input);
      return serialize(sessionKey(sessionId), async () => {
        const doc = await liveMessage(sessionId, uuid);
        const now = new Date();
        await c.messages.updateOne({ _id: doc._id }, { $set: { deletedAt: now } }); // _id
        buckets.changed({ ...doc, deletedAt: now });
        await unindex(sessionId, [doc], now);
        return { deleted: 1 };
      });
    },

    /**
     * Undoes `deleteMessage` (the "Undo" after a delete): the soft-deleted message comes back where it
     * was, searchable and counted again; with `deletedWith`, so do the messages deleted in the same
     * operation (those sharing its `deletedAt`: a truncation's, for "undo regenerate"). Answers the
     * restored messages, oldest first; a live message answers as it is. One purged, in a deleted
     * session (restore the session), or, when `seq` is given, replaced by a new message with its id
     * is NOT_FOUND.
     */
    async restoreMessage(input: RestoreMessageInput): Promise<Memory> {
      const { sessionId, uuid, deletedWith, seq } = parse(RestoreMessageInput, input);
      return serialize(sessionKey(sessionId), async () => {
        await sessions.settle(sessionId);
        const doc = await c.messages.findOne({ uuid, sessionId }); // messages_id
        if (!doc || (seq !== undefined && doc.seq !== seq) || !(await sessions.live(sessionId))) throw messageNotFound(sessionId, uuid);
        if (doc.deletedAt === null) return { messages: [toMessage(doc)] };
        // One message by its _id, or the operation's by their shared time (messages_session_seq, search_session).
        const which = deletedWith ? { sessionId, deletedAt: doc.deletedAt } : { _id: doc._id };
        const docs = deletedWith ? await c.messages.find(which).toArray() : [doc];
        const searchDocs = await c.search.find(which, { projection: { terms: 1 } }).toArray();
        await c.messages.updateMany(which, { $set: { deletedAt: null } });
        buckets.invalidate(sessionId);
        await c.search.updateMany(which, { $set: { deletedAt: null } });
        const session = await c.sessions.findOneAndUpdate(
          { sessionId }, // sessions_sessionId
          {
            $inc: {
              messageCount: docs.length,
              termDocs: searchDocs.length,
              termLength: searchDocs.reduce((sum, d) => sum + d.terms.length, 0),
            },
            $max: { lastMessageAt: new Date(Math.max(...docs.map((d) => d.createdAt.getTime()))) },
            $min: { oldestMessageAt: new Date(Math.min(...docs.map((d) => d.createdAt.getTime()))) },
            $set: { updatedAt: new Date() },
          },
          { returnDocument: 'after' },
        );
        sessions.stored(sessionId, session);
        const messages = docs.sort((a, b) => a.seq - b.seq).map((d) => toMessage({ ...d, deletedAt: null }));
        publish({ type: 'messages', sessionId, messages });
        if (session) publish({ type: 'session', session: toSession(session) });
        return { messages };
      });
    },

    /**
     * Retention: soft-deletes the session's live messages created before `cutoff`, whatever their
     * order (imports keep old dates). A session whose oldest live message (`oldestMessageAt`) is
     * not older than the cutoff is not read at all; otherwise the old messages are found with one
     * query (MongoDB: messages_session_created, O(what expires); FerretDB filters the session's
     * messages itself, O(session)), and the oldest message left is recorded for the next run. The count.
     */
    async expire(sessionId: string, cutoff: Date): Promise<number> {
      return serialize(sessionKey(sessionId), async () => {
        const session = await sessions.live(sessionId);
        if (!session || session.messageCount === 0 || (session.oldestMessageAt && session.oldestMessageAt >= cutoff)) return 0;
        const old = await c.messages.find({ sessionId, ...live, createdAt: { $lt: cutoff } }).toArray(); // messages_session_created
        const now = new Date();
        // By their ids, a bucket at a time: an equality FerretDB pushes down, the few ids filtered by it (messages_bucket).
        const byBucket = new Map<string, MessageDoc[]>();
        for (const d of old) byBucket.set(d.bucket, [...(byBucket.get(d.bucket) ?? []), d]);
        for (const [bucket, docs] of byBucket) {
          await c.messages.updateMany({ bucket, ...live, _id: { $in: docs.map((d) => d._id) } }, { $set: { deletedAt: now } });
        }
        if (old.length > 0) {
          buckets.invalidate(sessionId);
          await unindex(sessionId, old, now);
          // A progressive summary covers every message up to its recentSeq: those covering an expired message go too.
          const firstExpired = Math.min(...old.map((d) => d.seq));
          const gone = await c.summaries.updateMany(
            { sessionId, ...live, recentSeq: { $gte: firstExpired } },
            { $set: { deletedAt: now }, $unset: { latestOf: '' } },
          ); // summaries_session
          if (gone.modifiedCount > 0) {
            summaries?.invalidate(sessionId);
            // The newest summary left (if any) is the latest now.
            const [newest] = await c.summaries
              .find({ sessionId, ...live })
              .sort({ recentSeq: -1 })
              .limit(1)
              .toArray(); // summaries_session
            if (newest) await c.summaries.updateOne({ _id: newest._id }, { $set: { latestOf: sessionId } }); // _id
          }
        }
        const [oldest] = await c.messages // messages_session_created
          .find({ sessionId, ...live }, { projection: { createdAt: 1 } })
          .sort({ createdAt: 1 })
          .limit(1)
          .toArray();
        await sessions.settle(sessionId);
        sessions.stored(
          sessionId,
          await c.sessions.findOneAndUpdate(
            { sessionId }, // sessions_sessionId
            oldest ? { $set: { oldestMessageAt: oldest.createdAt } } : { $unset: { oldestMessageAt: '' } },
            { returnDocument: 'after' },
          ),
        );
        return old.length;
      });
    },

    /**
     * Soft-deletes every message after `uuid` (and it too when `inclusive`), queued with the
     * session's appends: a message added concurrently lands before the cut or after it, whole.
     */
    async truncate(input: TruncateInput): Promise<{ deleted: number }> {
      const { sessionId, uuid, inclusive } = parse(TruncateInput, input);
      return serialize(sessionKey(sessionId), async () => {
        const anchor = await liveMessage(sessionId, uuid);
        const from = inclusive ? anchor.seq : anchor.seq + 1;
        const lastSeq = (await sessions.live(sessionId))?.lastSeq ?? anchor.seq;
        const now = new Date();
        const gone: MessageDoc[] = [];
        // A bucket at a time (one equality each, which FerretDB pushes down); usually the last one or two.
        for (let bucket = bucketOf(from); bucket <= bucketOf(lastSeq); bucket++) {
          const docs = (await bucketReader(sessionId)(bucket)).filter((d) => d.seq >= from);
          if (docs.length === 0) continue;
          await c.messages.updateMany({ bucket: bucketKey(sessionId, bucket), ...live, seq: { $gte: from } }, { $set: { deletedAt: now } }); // messages_bucket
          buckets.invalidate(sessionId);
          gone.push(...docs);
        }
        if (gone.length > 0) await unindex(sessionId, gone, now);
        return { deleted: gone.length };
      });
    },
  };
}
