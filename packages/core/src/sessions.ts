import { randomUUID } from 'node:crypto';
import { ObjectId } from 'mongodb';
import { type Collections, isDuplicateKeyError, live, revive, softDelete } from './db';
import type { Publish } from './events';
import { ConflictError, NotFoundError } from './errors';
import { toSession } from './mappers';
import { mergeUpdate } from './merge-update';
import type { Listing } from './listing';
import { type Metadata, withoutSystem } from './metadata';
import { type Serialize, sessionKey, userKey } from './serialize';
import { AddSessionInput, PageInput, SessionIdInput, UpdateSessionInput } from './schemas';
import { parse } from './validate';

export const sessionNotFound = (sessionId: string) => new NotFoundError(`session ${JSON.stringify(sessionId)} not found`);

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
  async function insert(sessionId: string, userId: string | null, metadata: Metadata) {
    if (userId !== null && !(await c.users.findOne({ userId, ...live }, { projection: { _id: 1 } }))) {
      throw new NotFoundError(`user ${JSON.stringify(userId)} not found`); // users_userId
    }
    const now = new Date();
    const place = await listing.next('sessions'); // a number lost to a CONFLICT below leaves a harmless gap
    const doc = { _id: new ObjectId(), uuid: randomUUID(), sessionId, userId, metadata, lastSeq: 0, messageCount: 0, createdAt: now, updatedAt: now, ...place, ...revive };
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
      const { sessionId, userId = null, metadata = {} } = parse(AddSessionInput, input);
      return userId === null ? insert(sessionId, null, metadata) : serialize(userKey(userId), () => insert(sessionId, userId, metadata));
    },

    async get(input: { sessionId: string }) {
      const { sessionId } = parse(SessionIdInput, input);
      const doc = await c.sessions.findOne({ sessionId, ...live }); // sessions_sessionId
      if (!doc) throw sessionNotFound(sessionId);
      return toSession(doc);
    },

    /** Merges metadata (dropping `system`); also undeletes a soft-deleted session, as Zep does. */
    async update(input: UpdateSessionInput) {
      const { sessionId, metadata } = parse(UpdateSessionInput, input);
      const patch = withoutSystem(metadata);
      return serialize(sessionKey(sessionId), async () => {
        if (Object.keys(patch).length === 0) {
          const doc = await c.sessions.findOne({ sessionId }); // sessions_sessionId
          if (!doc) throw sessionNotFound(sessionId);
          if (doc.deletedAt === null) return toSession(doc);
        }
        // sessions_sessionId: matches soft-deleted sessions too
        const doc = await mergeUpdate(c.sessions, { sessionId }, patch, { updatedAt: new Date(), ...revive });
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

    /** Live sessions, oldest first. */
    async list(input: PageInput = {}) {
      const page = parse(PageInput, input);
      return listing.page('sessions', page, (listBucket) => c.sessions.find({ listBucket, live: true }).toArray(), toSession); // sessions_list
    },
  };
}
