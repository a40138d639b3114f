import type { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { ObjectId } from 'mongodb';
import {
  bucketKey,
  BUCKET_SIZE,
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
import { ConflictError, messageNotFound, sessionNotFound } from './errors';
import { toMessage, toPlacedMessage, toSession } from './mappers';
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
  MessageTreeInput,
  type MessageTreePage,
  type Head,
  RestoreMessageInput,
  SetHeadInput,
  type Siblings,
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
import {
  childrenOf,
  headOf,
  inRanges,
  isBranched,
  rangesOverlapping,
  type Line,
  parentOf,
  pathTo,
  type Range,
  subtreeOf,
  type Tree,
  treeOf,
} from './tree';

const bySeq = (d: MessageDoc) => d.seq;

/**
 * One request's reads of a session's buckets: each bucket read once (a path may cross one several times); those read
 * are `known`; `now` gives a bucket without an await when it was read already or the store holds it. A class, so a
 * read makes no closures (reads from memory take microseconds: allocations count).
 */
class Read {
  readonly known = new Map<number, readonly MessageDoc[]>();
  private seen: Map<number, Promise<readonly MessageDoc[]>> | undefined;
  constructor(
    private readonly buckets: BucketStore,
    private readonly sessionId: string,
  ) {}

  now(bucket: number): readonly MessageDoc[] | undefined {
    let docs = this.known.get(bucket);
    if (!docs) {
      docs = this.buckets.held(this.sessionId, bucket);
      if (docs) this.known.set(bucket, docs);
    }
    return docs;
  }

  read(bucket: number): Promise<readonly MessageDoc[]> {
    const held = this.now(bucket);
    if (held) return Promise.resolve(held);
    this.seen ??= new Map();
    let docs = this.seen.get(bucket);
    if (!docs) {
      docs = this.buckets.read(this.sessionId, bucket).then((found) => {
        this.known.set(bucket, found);
        return found;
      });
      this.seen.set(bucket, docs);
    }
    return docs;
  }
}

const readOnce = (buckets: BucketStore, sessionId: string) => new Read(buckets, sessionId);

/** The live message numbered `seq` among the buckets already read, if any (throws Missing for a bucket not read yet). */
type At = (seq: number) => MessageDoc | undefined;
class Missing {
  constructor(readonly bucket: number) {}
}

/**
 * Runs a synchronous look-up over the buckets `read` has read, reading each one it misses and running
 * it again: tree places are answered without an await per message (one each made them 10× dearer).
 */
async function withBuckets<T>(read: Read, compute: (at: At) => T): Promise<T> {
  const at: At = (seq) => {
    const docs = read.known.get(bucketOf(seq));
    if (!docs) throw new Missing(bucketOf(seq));
    return docs.find((d) => d.seq === seq);
  };
  for (;;) {
    try {
      return compute(at);
    } catch (error) {
      if (!(error instanceof Missing)) throw error;
      await read.read(error.bucket);
    }
  }
}

/**
 * The live messages numbered within `ranges` (ascending, disjoint: a path or a subtree, tree.ts), a
 * bucket at a time in `order`, those `keep` accepts, until `enough` are had: only the buckets the
 * ranges cover are read.
 */
const always = () => true;
const oldestFirst = (x: MessageDoc, y: MessageDoc) => x.seq - y.seq;
const newestFirst = (x: MessageDoc, y: MessageDoc) => y.seq - x.seq;

async function walkRanges(
  read: Read,
  ranges: readonly Range[],
  { order, keep = always, enough }: { order: 'asc' | 'desc'; keep?: (d: MessageDoc) => boolean; enough: number },
): Promise<MessageDoc[]> {
  const step = order === 'desc' ? -1 : 1;
  const docs: MessageDoc[] = [];
  let last = Number.NaN; // the bucket read last: consecutive ranges often share one, read once
  for (let r = order === 'desc' ? ranges.length - 1 : 0; r >= 0 && r < ranges.length; r += step) {
    const [from, to] = ranges[r]!;
    const [first, end] = order === 'desc' ? [bucketOf(to), bucketOf(from)] : [bucketOf(from), bucketOf(to)];
    for (let bucket = first; docs.length < enough && bucket * step <= end * step; bucket += step) {
      if (bucket === last) continue;
      last = bucket;
      // All of the bucket's messages on any of the ranges (those of the ranges after this one in it come
      // after these): only the few ranges that overlap the bucket are looked at, and a bucket the store
      // holds is taken without an await.
      const near = rangesOverlapping(ranges, bucket * BUCKET_SIZE, (bucket + 1) * BUCKET_SIZE - 1);
      const held = read.now(bucket) ?? (await read.read(bucket));
      const found: MessageDoc[] = [];
      for (const d of held) if (inRanges(near, d.seq) && keep(d)) found.push(d);
      if (found.length > 1) found.sort(order === 'desc' ? newestFirst : oldestFirst);
      for (const d of found) docs.push(d);
    }
    if (docs.length >= enough) break;
  }
  return docs.length > enough ? docs.slice(0, enough) : docs;
}

/** The nearest live ancestor of message `seq` (what it follows once deleted messages are skipped), or null. */
function liveParent(t: Tree, at: At, seq: number): MessageDoc | null {
  for (let s = parentOf(t, seq); s > 0; s = parentOf(t, s)) {
    const doc = at(s);
    if (doc) return doc;
  }
  return null;
}

/** The live children of message `seq` (0: the roots), by `seq`. */
function liveChildren(t: Tree, at: At, seq: number): MessageDoc[] {
  return childrenOf(t, seq).flatMap((s) => at(s) ?? []);
}

/** A message's place in the tree: the live message it follows, and its place among its parent's live children. */
interface Place {
  parentId: string | null;
  index: number;
  count: number;
}

function placeOf(t: Tree, at: At, d: MessageDoc): Place {
  const parent = liveParent(t, at, d.seq);
  const siblings = liveChildren(t, at, parentOf(t, d.seq));
  const index = siblings.findIndex((s) => s.seq === d.seq);
  return { parentId: parent?.uuid ?? null, index: Math.max(0, index), count: Math.max(1, siblings.length) };
}

/** Messages with their places, all in `places`. */
function placeAll(docs: MessageDoc[], places: Map<number, Place>): Message[] {
  const messages: Message[] = [];
  for (const d of docs) {
    const { parentId, index, count } = places.get(d.seq)!;
    messages.push(toPlacedMessage(d, parentId, index, count));
  }
  return messages;
}

/** A message with its place in the tree. */
function placed(t: Tree, at: At, d: MessageDoc): Message {
  const { parentId, index, count } = placeOf(t, at, d);
  return toPlacedMessage(d, parentId, index, count);
}

/** The head as it reads: the head message, or its nearest live ancestor when it was deleted; null when none is left. */
function liveHead(session: SessionDoc, at: At): MessageDoc | null {
  const head = headOf(session);
  if (head === 0) return null;
  return at(head) ?? liveParent(treeOf(session), at, head);
}

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
  /** Called with each updated message, in order, under the session's lock (tells its stream readers; streams/). */
  streamChanged?: (doc: MessageDoc, message: Message) => void;
  /** Summaries, when a model is configured (summaries/): told of each append, and read by `get`. */
  summaries?: Pick<Summaries, 'notify' | 'latest' | 'invalidate'>;
}

export function createMemoryService(
  c: Collections,
  serialize: Serialize,
  store: Store,
  { listing, messageWindow, publish, queueEmbeddings, streamChanged, summaries }: MemoryOptions,
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
   * Places in the tree already computed (single writer): by the tree they were computed on (made from one
   * session document, replaced by every write of the session's head or lines) and the session's bucket
   * version (bumped by every write of its messages: a delete or restore changes which are live), so a
   * write to the session's tree or messages starts afresh and a read of the same path computes nothing.
   */
  const placeCache = new WeakMap<Tree, { version: number; places: Map<number, Place> }>();
  function placesOf(t: Tree, sessionId: string): Map<number, Place> | undefined {
    const version = buckets.version(sessionId);
    if (version === undefined) return undefined; // other instances may write: nothing is kept
    let entry = placeCache.get(t);
    if (entry?.version !== version) placeCache.set(t, (entry = { version, places: new Map() }));
    return entry.places;
  }

  /**
   * Messages as read: in a session with branches, each with its place in the tree (placed); otherwise
   * as stored. In order along a path, a message's parent is usually the one before it and it usually
   * has no sibling: those are answered from the tree alone, without looking anything up. Places are
   * kept (placesOf), so reading the same messages again only looks them up.
   */
  function withPlaces(session: SessionDoc, read: Read, docs: MessageDoc[]): Message[] | Promise<Message[]> {
    if (!isBranched(session)) return docs.map(toMessage);
    const t = treeOf(session);
    const known = placesOf(t, session.sessionId) ?? new Map<number, Place>();
    let missing: MessageDoc[] | undefined;
    for (const d of docs) if (!known.has(d.seq)) (missing ??= []).push(d);
    if (!missing) return placeAll(docs, known); // every place kept: nothing to wait for
    const page = new Map(docs.map((d) => [d.seq, d]));
    return withBuckets(read, (at) =>
      missing.map((d): [number, Place] => {
        const parent = page.get(parentOf(t, d.seq));
        if (parent && childrenOf(t, parent.seq).length === 1) return [d.seq, { parentId: parent.uuid, index: 0, count: 1 }];
        return [d.seq, placeOf(t, at, d)];
      }),
    ).then((computed) => {
      for (const [seq, place] of computed) known.set(seq, place);
      return placeAll(docs, known);
    });
  }

  /**
   * Writes a branched session's tree state after a write that may move its head or change which of
   * its messages are live (under the session's lock): `headSeq` (absent when the head is the newest
   * message), `lines` when given, and `offPath`, counted along the path: O(path), for these rare writes
   * only, so appends and reads never count. `branchUnder`: a new line is about to be appended under
   * this message, so the path counted ends there and the head will be the newest message.
   */
  async function repath(sessionId: string, change: { head?: number; lines?: Line[]; branchUnder?: number } = {}): Promise<void> {
    await sessions.settle(sessionId);
    const current = await sessions.get(sessionId);
    if (!current || current.deletedAt !== null) return;
    const session = change.lines ? { ...current, lines: change.lines } : current;
    const head = change.head ?? headOf(session);
    if (!isBranched(session) && head === session.lastSeq) return;
    const path = pathTo(treeOf(session), change.branchUnder ?? head);
    const onPath = (await walkRanges(readOnce(buckets, sessionId), path, { order: 'asc', enough: Number.POSITIVE_INFINITY })).length;
    const open = change.branchUnder !== undefined || head === session.lastSeq;
    const doc = await c.sessions.findOneAndUpdate(
      { sessionId }, // sessions_sessionId
      {
        $set: { offPath: session.messageCount - onPath, ...(change.lines && { lines: change.lines }), ...(!open && { headSeq: head }) },
        ...(open && { $unset: { headSeq: '' as const } }),
      },
      { returnDocument: 'after' },
    );
    sessions.stored(sessionId, doc);
    if (doc) publish({ type: 'session', session: toSession(doc) });
  }

  /**
   * Where an append goes (under the session's lock). Without `parentId` the batch follows the head;
   * when the head is the newest message that is the plain append of a line, and nothing is written
   * here. Under any other message (or `null`: a new root) the batch starts a new line at the next
   * number: the line is stored first, with the path counted to its parent, and the append then
   * continues it as the newest message.
   */
  async function placeAppend(sessionId: string, parentId: string | null | undefined): Promise<void> {
    const session = await sessions.live(sessionId);
    if (!session) {
      if (parentId) throw messageNotFound(sessionId, parentId);
      return;
    }
    if (parentId === undefined && session.headSeq === undefined) return;
    const read = readOnce(buckets, sessionId);
    let parent: number;
    if (parentId === undefined) parent = session.headSeq!;
    else {
      parent = parentId === null ? 0 : (await liveMessage(sessionId, parentId)).seq;
      // Under the head while it is the newest message: the line goes on.
      if (session.headSeq === undefined && parent === ((await withBuckets(read, (at) => liveHead(session, at)))?.seq ?? 0)) return;
    }
    await repath(sessionId, { lines: [...(session.lines ?? []), { start: session.lastSeq + 1, parent }], branchUnder: parent });
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

  async function append(
    sessionId: string,
    messages: z.output<typeof AddMemoryInput>['messages'],
    owner?: string,
    parentId?: string | null,
  ): Promise<Memory> {
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
    if (fresh.length > 0) {
      // With a parent named, each message follows the one before it in the batch: the first new one goes under
      // the stored message just before it (a resent history ending in a regenerated reply), or under `parentId`.
      const firstNew = batch.findIndex((m) => !existing.has(m.uuid));
      await placeAppend(sessionId, parentId !== undefined && firstNew > 0 ? batch[firstNew - 1]!.uuid : parentId);
    }
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
   * counts (messages, BM25 statistics). The messages themselves are already marked. The session as stored.
   */
  async function unindex(sessionId: string, docs: MessageDoc[], now: Date): Promise<SessionDoc | null> {
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
    return session;
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
    // A stopped reply keeps what it had: its writer's later stream writes (an append, a status) change
    // nothing, and the answer (status 'stopped') tells the writer to stop.
    if (current.status === 'stopped' && (append !== undefined || status !== undefined)) return current;
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
    // Stream offsets (streams/message-stream.ts): a change that only adds to the end of the text
    // (whatever its status or token count) keeps `baseRev`, so readers get just the added text.
    const rev = (current.rev ?? 0) + 1;
    const appendOnly =
      parts === undefined &&
      Object.keys(patch).length === 0 &&
      (role === undefined || role === current.role) &&
      (text === undefined || text.startsWith(current.content));
    const changed = { ...set, rev, baseRev: appendOnly ? (current.baseRev ?? 0) : rev, updatedAt: new Date() };
    const doc =
      Object.keys(patch).length > 0
        ? await mergeUpdate(c.messages, filter, patch, changed)
        : await c.messages.findOneAndUpdate(filter, { $set: changed }, { returnDocument: 'after' });
    if (!doc) throw messageNotFound(sessionId, uuid);
    buckets.changed(doc);
    const message = toMessage(doc);
    // Stream readers get the change as soon as the message is stored; search's bookkeeping follows.
    streamChanged?.(doc, message);
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
    publish({ type: 'messages', sessionId, messages: [message] });
    return doc;
  }

  return {
    /**
     * Appends messages in order, each with the next `seq`. Idempotent per message id within the
     * session: a live message with the id is skipped (and returned as stored). Returns the batch as stored.
     */
    async add(input: AddMemoryInput, { owner }: { owner?: string } = {}): Promise<Memory> {
      const { sessionId, messages, parentId } = parse(AddMemoryInput, input);
      return serialize(sessionKey(sessionId), () => append(sessionId, messages, owner, parentId));
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
      if (isBranched(session)) {
        // The active path's ranges, newest first (tree.ts); after the summary, those numbered above what it covers.
        const read = readOnce(buckets, sessionId);
        const docs = await walkRanges(read, pathTo(treeOf(session), headOf(session)), {
          order: 'desc',
          keep: (d) => d.seq > after,
          enough: lastn ?? messageWindow,
        });
        return { messages: await withPlaces(session, read, docs.reverse()), ...withSummary };
      }
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
      if (isBranched(session)) {
        // The active path's ranges (tree.ts): numbers ascend along it, so `seq` cursors work as on a line.
        const read = readOnce(buckets, sessionId);
        const path = pathTo(treeOf(session), headOf(session));
        const docs = await walkRanges(read, path, {
          order,
          keep: (d) => key === undefined || (order === 'desc' ? d.seq < key : d.seq > key),
          enough: limit + 1,
        });
        const page = toPage(
          docs,
          limit,
          (d) => d.seq,
          (d) => d,
        );
        return {
          items: await withPlaces(session, read, page.items),
          nextCursor: page.nextCursor,
          total: messageCount - (session.offPath ?? 0),
        };
      }
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
      const doc = await liveMessage(sessionId, uuid);
      const session = await sessions.live(sessionId);
      return session ? (await withPlaces(session, readOnce(buckets, sessionId), [doc]))[0]! : toMessage(doc);
    },

    /** The live messages that share this message's parent, by `seq`, each placed in the tree, and its index among them. */
    async siblings(input: { sessionId: string; uuid: string }): Promise<Siblings> {
      const { sessionId, uuid } = parse(MessageIdInput, input);
      const doc = await liveMessage(sessionId, uuid);
      const session = await sessions.live(sessionId);
      const t = treeOf({ lines: session?.lines, lastSeq: session?.lastSeq ?? doc.seq });
      const read = readOnce(buckets, sessionId);
      const parent = await withBuckets(read, (at) => liveParent(t, at, doc.seq));
      if (!session || !isBranched(session)) return { parentId: parent?.uuid ?? null, items: [toMessage(doc)], index: 0 };
      const docs = await withBuckets(read, (at) => liveChildren(t, at, parentOf(t, doc.seq)));
      return {
        parentId: parent?.uuid ?? null,
        items: await withBuckets(read, (at) => docs.map((d) => placed(t, at, d))),
        index: Math.max(
          0,
          docs.findIndex((d) => d.seq === doc.seq),
        ),
      };
    },

    /**
     * Every live message of the session, branches included, keyset-paged by `seq` (parents come before
     * their children), each with its parent and place among its siblings; and the head. A session that
     * does not exist has none.
     */
    async tree(input: MessageTreeInput): Promise<MessageTreePage> {
      const { sessionId, limit, cursor } = parse(MessageTreeInput, input);
      const key = decodeCursor(cursor, 'number') ?? 0;
      const session = await sessions.live(sessionId);
      if (!session || session.messageCount === 0) return { items: [], nextCursor: null, headId: null };
      const read = readOnce(buckets, sessionId);
      const docs = await walkBuckets((bucket) => read.read(bucket), bySeq, {
        from: bucketOf(key + 1),
        to: bucketOf(session.lastSeq),
        keep: (d) => d.seq > key,
        enough: limit + 1,
      });
      const t = treeOf(session);
      const page = toPage(
        docs,
        limit,
        (d) => d.seq,
        (d) => d,
      );
      const [items, head] = await withBuckets(read, (at) => [page.items.map((d) => placed(t, at, d)), liveHead(session, at)] as const);
      return { items, nextCursor: page.nextCursor, headId: head?.uuid ?? null };
    },

    /**
     * Switches branch: the head becomes the newest live message under `uuid` (the newest of its subtree,
     * which is a leaf and the end of the most recently active branch at each fork). Answers the head.
     * A session without branches is one line: its head is already its newest message.
     */
    async setHead(input: SetHeadInput): Promise<Head> {
      const { sessionId, uuid, exact } = parse(SetHeadInput, input);
      return serialize(sessionKey(sessionId), async () => {
        const doc = await liveMessage(sessionId, uuid);
        const session = await sessions.live(sessionId);
        if (!session) throw messageNotFound(sessionId, uuid);
        const [newest] = await walkRanges(readOnce(buckets, sessionId), subtreeOf(treeOf(session), doc.seq), { order: 'desc', enough: 1 });
        const head = exact ? doc : (newest ?? doc);
        // Exactly here, with messages after it: the session keeps its head (isBranched) even without a branch yet.
        if (exact && head.seq !== newest?.seq && head.seq !== headOf(session)) {
          await repath(sessionId, { head: head.seq });
          return { headId: head.uuid };
        }
        if (isBranched(session) && head.seq !== headOf(session)) await repath(sessionId, { head: head.seq });
        return { headId: head.uuid };
      });
    },

    /** Changes a message (UpdateMessageInput): metadata merges (dropping `system`), text, role, parts, status. */
    async updateMessage(input: UpdateMessageInput): Promise<Message> {
      const valid = parse(UpdateMessageInput, input);
      return toMessage(await serialize(sessionKey(valid.sessionId), () => update(valid)));
    },

    /**
     * Stops a streaming reply, from any client that may write the session: it ends as `stopped` with
     * the text it has (its readers get the end; its writer's next write is answered `stopped` and
     * changes nothing). A message that is not streaming answers as it is: stopping is idempotent.
     */
    async stopMessage(input: { sessionId: string; uuid: string }): Promise<Message> {
      const { sessionId, uuid } = parse(MessageIdInput, input);
      return toMessage(
        await serialize(sessionKey(sessionId), async () => {
          const current = await liveMessage(sessionId, uuid);
          return current.status === 'streaming' ? update({ sessionId, uuid, status: 'stopped' }) : current;
        }),
      );
    },

    /** Soft-deletes one message (purged later, like everything deleted). */
    async deleteMessage(input: { sessionId: string; uuid: string }): Promise<{ deleted: number }> {
      const { sessionId, uuid } = parse(MessageIdInput, input);
      return serialize(sessionKey(sessionId), async () => {
        const doc = await liveMessage(sessionId, uuid);
        const now = new Date();
        await c.messages.updateOne({ _id: doc._id }, { $set: { deletedAt: now } }); // _id
        buckets.changed({ ...doc, deletedAt: now });
        const session = await unindex(sessionId, [doc], now);
        // Alone: its replies follow its parent now (reads skip it); the path's count changes.
        if (session && isBranched(session)) await repath(sessionId);
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
        if (session && isBranched(session)) {
          // What comes back under the head brings the head down into it (an undone truncation or branch
          // delete): to the newest message under the first restored one.
          const t = treeOf(session);
          const below = session.headSeq !== undefined ? subtreeOf(t, session.headSeq) : [];
          const root = Math.min(...docs.filter((d) => inRanges(below, d.seq)).map((d) => d.seq));
          const [newest] = Number.isFinite(root)
            ? await walkRanges(readOnce(buckets, sessionId), subtreeOf(t, root), { order: 'desc', enough: 1 })
            : [];
          await repath(sessionId, newest ? { head: newest.seq } : {});
        }
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
          const session = await unindex(sessionId, old, now);
          if (session && isBranched(session)) await repath(sessionId);
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
     * Soft-deletes every message below `uuid` (and it too when `inclusive`): on a line, every message
     * after it; in a tree, its subtree (tree.ts), all branches. Queued with the session's appends: a
     * message added concurrently lands before the cut or after it, whole. When the head was among
     * them, it moves up to `uuid` (or, when `inclusive`, to the message it follows), so the next
     * append goes there, as it does on a line.
     */
    async truncate(input: TruncateInput): Promise<{ deleted: number }> {
      const { sessionId, uuid, inclusive } = parse(TruncateInput, input);
      return serialize(sessionKey(sessionId), async () => {
        const anchor = await liveMessage(sessionId, uuid);
        const session = await sessions.live(sessionId);
        const t = treeOf({ lines: session?.lines, lastSeq: session?.lastSeq ?? anchor.seq });
        const ranges = subtreeOf(t, anchor.seq)
          .map(([from, to]): Range => [from === anchor.seq && !inclusive ? from + 1 : from, to])
          .filter(([from, to]) => from <= to);
        const now = new Date();
        const gone: MessageDoc[] = [];
        // A bucket at a time (one equality each, which FerretDB pushes down); on a line usually the last one or two.
        for (const [from, to] of ranges) {
          for (let bucket = bucketOf(from); bucket <= bucketOf(to); bucket++) {
            const docs = (await bucketReader(sessionId)(bucket)).filter((d) => d.seq >= from && d.seq <= to);
            if (docs.length === 0) continue;
            await c.messages.updateMany(
              { bucket: bucketKey(sessionId, bucket), ...live, seq: { $gte: from, $lte: to } }, // messages_bucket
              { $set: { deletedAt: now } },
            );
            buckets.invalidate(sessionId);
            gone.push(...docs);
          }
        }
        if (gone.length > 0) await unindex(sessionId, gone, now);
        if (session && isBranched(session)) {
          const moved = inRanges(ranges, headOf(session));
          const up = inclusive
            ? ((await withBuckets(readOnce(buckets, sessionId), (at) => liveParent(t, at, anchor.seq)))?.seq ?? 0)
            : anchor.seq;
          await repath(sessionId, moved ? { head: up } : {});
        }
        return { deleted: gone.length };
      });
    },
  };
}
