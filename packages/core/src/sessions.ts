import { randomUUID } from 'node:crypto';
import { type Filter, ObjectId } from 'mongodb';
import type { z } from 'zod';
import { type Collections, isDuplicateKeyError, live, revive, type SessionDoc, softDelete } from './db';
import type { Publish } from './events';
import { ConflictError, sessionNotFound, userNotFound, ValidationError } from './errors';
import type { Listing } from './listing';
import { toMessage, toSession } from './mappers';
import { lastMessage } from './memory';
import { mergeUpdate } from './merge-update';
import { type Metadata, withoutSystem } from './metadata';
import { decodeCursor, toPage } from './paging';
import {
  AddSessionInput,
  ListSessionsInput,
  type Session,
  SessionIdInput,
  type SessionListItem,
  type SessionPage,
  UpdateSessionInput,
} from './schemas';
import { isEmptyFilter } from './search/filter';
import { type Serialize, sessionKey, userKey } from './serialize';
import { parse } from './validate';

/** Soft-deletes a live session and its live messages (messages first, so a failed cascade can be retried). */
export async function softDeleteSession(c: Collections, publish: Publish, sessionId: string, now: Date): Promise<void> {
  await c.messages.updateMany({ sessionId, ...live }, { $set: { deletedAt: now } }); // messages_session_seq
  await c.search.updateMany({ sessionId, ...live }, { $set: { deletedAt: now } }); // search_session
  // sessions_sessionId
  const session = await c.sessions.findOneAndUpdate({ sessionId, ...live }, { $set: { ...softDelete(now), messageCount: 0 } });
  if (session) publish({ type: 'session-deleted', sessionId, userId: session.userId ?? null });
}

export function createSessionService(c: Collections, serialize: Serialize, listing: Listing, publish: Publish) {
  /** Stores a new session (of a live user, when one is named). */
  async function insert(sessionId: string, userId: string | null, metadata: Metadata, retentionDays: number | null) {
    if (userId !== null && !(await c.users.findOne({ userId, ...live }, { projection: { _id: 1 } }))) {
      throw userNotFound(userId); // users_userId
    }
    const now = new Date();
    const place = await listing.next('sessions'); // a number lost to a CONFLICT below leaves a harmless gap
    const doc: SessionDoc = {
      _id: new ObjectId(),
      uuid: randomUUID(),
      sessionId,
      userId,
      metadata,
      ...(retentionDays !== null && { retentionDays }),
      lastSeq: 0,
      messageCount: 0,
      createdAt: now,
      updatedAt: now,
      lastMessageAt: null,
      lastActiveAt: now,
      ...place,
      ...revive,
    };
    try {
      await c.sessions.insertOne(doc); // sessions_sessionId (unique)
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new ConflictError(`session ${JSON.stringify(sessionId)} already exists`);
      throw error;
    }
    const session = toSession(doc);
    publish({ type: 'session', session });
    return session;
  }

  return {
    /**
     * CONFLICT if the id exists, even soft-deleted; the user, if given, must exist and be live.
     * Queued with the user's writes, so a session cannot slip in while the user is being deleted.
     */
    async add(input: AddSessionInput) {
      const { sessionId, userId = null, metadata = {}, retentionDays = null } = parse(AddSessionInput, input);
      const add = () => insert(sessionId, userId, metadata, retentionDays);
      return userId === null ? add() : serialize(userKey(userId), add);
    },

    async get(input: { sessionId: string }) {
      const { sessionId } = parse(SessionIdInput, input);
      const doc = await c.sessions.findOne({ sessionId, ...live }); // sessions_sessionId
      if (!doc) throw sessionNotFound(sessionId);
      return toSession(doc);
    },

    /** Merges metadata (dropping `system`), sets `retentionDays` when given; also undeletes a soft-deleted session, as Zep does. */
    async update(input: UpdateSessionInput) {
      const { sessionId, metadata, retentionDays } = parse(UpdateSessionInput, input);
      const patch = withoutSystem(metadata);
      return serialize(sessionKey(sessionId), async () => {
        if (Object.keys(patch).length === 0 && retentionDays === undefined) {
          const doc = await c.sessions.findOne({ sessionId }); // sessions_sessionId
          if (!doc) throw sessionNotFound(sessionId);
          if (doc.deletedAt === null) return toSession(doc);
        }
        // sessions_sessionId: matches soft-deleted sessions too
        const set = { updatedAt: new Date(), ...revive, ...(retentionDays !== undefined && { retentionDays }) };
        const doc = await mergeUpdate(c.sessions, { sessionId }, patch, set);
        if (!doc) throw sessionNotFound(sessionId);
        const session = toSession(doc);
        publish({ type: 'session', session });
        return session;
      });
    },

    /** Soft-deletes the session and all its messages. */
    async delete(input: { sessionId: string }) {
      const { sessionId } = parse(SessionIdInput, input);
      await serialize(sessionKey(sessionId), async () => {
        if (!(await c.sessions.findOne({ sessionId, ...live }, { projection: { _id: 1 } }))) throw sessionNotFound(sessionId);
        await softDeleteSession(c, publish, sessionId, new Date());
      });
    },

    /**
     * Undoes `delete` (the "Undo" after a delete): the session comes back with the messages deleted
     * with it (those deleted before stay deleted). A live session answers as it is; a purged one, or
     * one whose user is deleted, is NOT_FOUND.
     */
    async restore(input: { sessionId: string }): Promise<Session> {
      const { sessionId } = parse(SessionIdInput, input);
      return serialize(sessionKey(sessionId), async () => {
        const doc = await c.sessions.findOne({ sessionId }); // sessions_sessionId
        if (!doc) throw sessionNotFound(sessionId);
        if (doc.deletedAt === null) return toSession(doc);
        if (doc.userId !== null && !(await c.users.findOne({ userId: doc.userId, ...live }, { projection: { _id: 1 } })))
          throw userNotFound(doc.userId); // users_userId
        const deletedWith = { sessionId, deletedAt: doc.deletedAt };
        await c.messages.updateMany(deletedWith, { $set: { deletedAt: null } }); // messages_session_seq
        await c.search.updateMany(deletedWith, { $set: { deletedAt: null } }); // search_session
        const messageCount = await c.messages.count({ sessionId, ...live }); // messages_session_seq
        const session = toSession(
          (await c.sessions.findOneAndUpdate({ _id: doc._id }, { $set: { ...revive, messageCount } }, { returnDocument: 'after' }))!,
        );
        publish({ type: 'session', session });
        return session;
      });
    },

    /** A page of live sessions (ListSessionsInput): all, or one user's (none for an unknown user). */
    async list(input: ListSessionsInput = {}): Promise<SessionPage> {
      const query = parse(ListSessionsInput, input);
      const page = await findSessions(c, listing, query);
      const items: SessionListItem[] = query.withLastMessage
        ? await Promise.all(
            page.docs.map(async (d) => ({ ...toSession(d), lastMessage: await lastMessage(c, d).then((m) => m && toMessage(m)) })),
          )
        : page.docs.map(toSession);
      // `count`, not countDocuments: FerretDB pushes the count command's filter down, not the aggregation
      // countDocuments sends (the deprecation is about sharded clusters mid-migration).
      return { items, nextCursor: page.nextCursor, ...(query.withTotal && { total: await c.sessions.count(page.filter) }) };
    },
  };
}

/** Keys of a session in each sort; cursors carry the last item's. */
const sortKeys = (sort: 'created' | 'activity', d: SessionDoc) =>
  sort === 'created' ? [d.listNo!] : [d.lastActiveAt.getTime(), d.listNo!];

/**
 * The documents of one page, and the filter that selects every matching session. Unfiltered lists
 * by creation read the creation-order buckets (listing.ts), a bounded read at any size; anything
 * else is one query whose equality part (a user, or `live`) FerretDB pushes down, sorted and limited
 * by the database (MongoDB: sessions_user_created, sessions_user_activity, sessions_activity).
 */
async function findSessions(c: Collections, listing: Listing, q: z.output<typeof ListSessionsInput>) {
  const order = q.order ?? (q.sort === 'activity' ? 'desc' : 'asc');
  const range = (from?: Date | null, to?: Date | null) =>
    from || to ? { ...(from && { $gte: from }), ...(to && { $lte: to }) } : undefined;
  const created = range(q.createdAfter, q.createdBefore);
  const updated = range(q.updatedAfter, q.updatedBefore);
  // Keys cannot collide: a validated metadata filter has only `metadata.*`, `$and` and `$or` keys.
  const filter: Filter<SessionDoc> = {
    ...(q.userId !== undefined ? { userId: q.userId, ...live } : { live: true }),
    ...(q.metadata as Filter<SessionDoc>),
    ...(created && { createdAt: created }),
    ...(updated && { updatedAt: updated }),
  };
  const plain = q.userId === undefined && isEmptyFilter(q.metadata) && !created && !updated && q.sort === 'created';
  if (plain) {
    const read = (listBucket: number) => c.sessions.find({ listBucket, live: true }).toArray(); // sessions_list
    const page = await listing.page('sessions', { ...q, order }, read, (d) => d);
    return { docs: page.items, nextCursor: page.nextCursor, filter };
  }
  const dir = order === 'asc' ? 1 : -1;
  const after = decodeCursor(q.cursor, 'string');
  // The keyset condition joins the filter's own `$and` (a metadata filter may have `$or` at the top).
  const query = after === undefined ? filter : { ...filter, $and: [...(filter.$and ?? []), keysetFilter(q.sort, after, dir)] };
  const docs = await c.sessions
    .find(query)
    .sort(q.sort === 'activity' ? { lastActiveAt: dir, listNo: dir } : { listNo: dir })
    .limit(q.limit + 1)
    .toArray();
  const { items, nextCursor } = toPage(
    docs,
    q.limit,
    (d) => JSON.stringify(sortKeys(q.sort, d)),
    (d) => d,
  );
  return { docs: items, nextCursor, filter };
}

/** Sessions after the cursor's keys in the sort (strictly, in direction `dir`). */
function keysetFilter(sort: 'created' | 'activity', cursor: string, dir: 1 | -1): Filter<SessionDoc> {
  const beyond = dir === 1 ? '$gt' : '$lt';
  let keys: unknown;
  try {
    keys = JSON.parse(cursor);
  } catch {
    // refused below
  }
  if (!Array.isArray(keys) || keys.length !== (sort === 'created' ? 1 : 2) || !keys.every(Number.isFinite)) {
    throw new ValidationError('cursor: not a cursor returned by a previous page of this list');
  }
  if (sort === 'created') return { listNo: { [beyond]: keys[0] } };
  const at = new Date(keys[0]!);
  return { $or: [{ lastActiveAt: { [beyond]: at } }, { lastActiveAt: at, listNo: { [beyond]: keys[1] } }] };
}
