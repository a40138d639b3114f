import { randomUUID } from 'node:crypto';
import { ObjectId } from 'mongodb';
import { type Collections, isDuplicateKeyError, live, revive, type SessionDoc, softDelete } from './db';
import type { Publish } from './events';
import { ConflictError, sessionNotFound, userNotFound } from './errors';
import type { Listing } from './listing';
import { toMessage, toSession } from './mappers';
import { lastMessage } from './memory';
import { mergeUpdate } from './merge-update';
import { type Metadata, withoutSystem } from './metadata';
import {
  AddSessionInput,
  ListSessionsInput,
  type Session,
  SessionIdInput,
  type SessionListItem,
  type SessionPage,
  UpdateSessionInput,
} from './schemas';
import { type Serialize, sessionKey, userKey } from './serialize';
import { PartialInsertError, type Store } from './store';
import { parse } from './validate';

/** Soft-deletes a live session, its live messages and summaries (messages first, so a failed cascade can be retried). */
export async function softDeleteSession(c: Collections, store: Store, publish: Publish, sessionId: string, now: Date): Promise<void> {
  await store.sessions.settle(sessionId);
  await c.messages.updateMany({ sessionId, ...live }, { $set: { deletedAt: now } }); // messages_session_seq
  store.buckets.invalidate(sessionId);
  await c.search.updateMany({ sessionId, ...live }, { $set: { deletedAt: now } }); // search_session
  await c.summaries.updateMany({ sessionId, ...live }, { $set: { deletedAt: now } }); // summaries_session
  const session = await c.sessions.findOneAndUpdate(
    { sessionId, ...live }, // sessions_sessionId
    { $set: { ...softDelete(now), messageCount: 0 } },
    { returnDocument: 'after' },
  );
  if (!session) return;
  store.sessions.stored(sessionId, session);
  publish({ type: 'session-deleted', sessionId, userId: session.userId ?? null });
}

const conflict = (sessionId: string) => new ConflictError(`session ${JSON.stringify(sessionId)} already exists`);

export function createSessionService(c: Collections, serialize: Serialize, store: Store, listing: Listing, publish: Publish) {
  const { sessions } = store;
  /** Stores a new session (of a live user, when one is named). */
  async function insert(sessionId: string, userId: string | null, metadata: Metadata, retentionDays: number | null) {
    if (userId !== null && !(await store.users.live(userId))) throw userNotFound(userId);
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
    if (sessions.inMemory && (await sessions.get(sessionId))) throw conflict(sessionId);
    try {
      await store.insert.sessions([doc]); // sessions_sessionId (unique), with other sessions being added (group commit)
    } catch (error) {
      if (error instanceof PartialInsertError && isDuplicateKeyError(error.cause)) throw conflict(sessionId);
      throw error;
    }
    sessions.stored(sessionId, doc);
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
      const add = () => serialize(sessionKey(sessionId), () => insert(sessionId, userId, metadata, retentionDays));
      return userId === null ? add() : serialize(userKey(userId), add);
    },

    async get(input: { sessionId: string }) {
      const { sessionId } = parse(SessionIdInput, input);
      const doc = await sessions.live(sessionId);
      if (!doc) throw sessionNotFound(sessionId);
      return toSession(doc);
    },

    /** Merges metadata (dropping `system`), sets `retentionDays` when given; also undeletes a soft-deleted session, as Zep does. */
    async update(input: UpdateSessionInput) {
      const { sessionId, metadata, retentionDays } = parse(UpdateSessionInput, input);
      const patch = withoutSystem(metadata);
      return serialize(sessionKey(sessionId), async () => {
        await sessions.settle(sessionId);
        if (Object.keys(patch).length === 0 && retentionDays === undefined) {
          const doc = await sessions.get(sessionId);
          if (!doc) throw sessionNotFound(sessionId);
          if (doc.deletedAt === null) return toSession(doc);
        }
        // sessions_sessionId: matches soft-deleted sessions too
        const set = { updatedAt: new Date(), ...revive, ...(retentionDays !== undefined && { retentionDays }) };
        const doc = await mergeUpdate(c.sessions, { sessionId }, patch, set);
        if (!doc) throw sessionNotFound(sessionId);
        sessions.stored(sessionId, doc);
        const session = toSession(doc);
        publish({ type: 'session', session });
        return session;
      });
    },

    /** Soft-deletes the session and all its messages. */
    async delete(input: { sessionId: string }) {
      const { sessionId } = parse(SessionIdInput, input);
      await serialize(sessionKey(sessionId), async () => {
        if (!(await sessions.live(sessionId))) throw sessionNotFound(sessionId);
        await softDeleteSession(c, store, publish, sessionId, new Date());
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
        const doc = await sessions.get(sessionId);
        if (!doc) throw sessionNotFound(sessionId);
        if (doc.deletedAt === null) return toSession(doc);
        // `!= null`: a session a first message created on FerretDB has no userId field at all (its upsert drops the null).
        if (doc.userId != null && !(await store.users.live(doc.userId))) throw userNotFound(doc.userId);
        const deletedWith = { sessionId, deletedAt: doc.deletedAt };
        await c.messages.updateMany(deletedWith, { $set: { deletedAt: null } }); // messages_session_seq
        store.buckets.invalidate(sessionId);
        await c.search.updateMany(deletedWith, { $set: { deletedAt: null } }); // search_session
        await c.summaries.updateMany(deletedWith, { $set: { deletedAt: null } }); // summaries_session
        const messageCount = await c.messages.count({ sessionId, ...live }); // messages_session_seq
        const restored = (await c.sessions.findOneAndUpdate(
          { _id: doc._id },
          { $set: { ...revive, messageCount } },
          { returnDocument: 'after' },
        ))!;
        sessions.stored(sessionId, restored);
        const session = toSession(restored);
        publish({ type: 'session', session });
        return session;
      });
    },

    /** A page of live sessions (ListSessionsInput): all, or one user's (none for an unknown user). */
    async list(input: ListSessionsInput = {}): Promise<SessionPage> {
      const query = parse(ListSessionsInput, input);
      const { docs, nextCursor, total } = await sessions.list(query);
      const items: SessionListItem[] = query.withLastMessage
        ? await Promise.all(
            docs.map(async (d) => ({ ...toSession(d), lastMessage: await lastMessage(store.buckets, d).then((m) => m && toMessage(m)) })),
          )
        : docs.map(toSession);
      return { items, nextCursor, ...(total !== undefined && { total }) };
    },
  };
}
