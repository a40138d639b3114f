import { randomUUID } from 'node:crypto';
import { ObjectId } from 'mongodb';
import { type Collections, isDuplicateKeyError, live, revive, softDelete, type UserDoc } from './db';
import { ConflictError, NotFoundError } from './errors';
import { toSession, toUser } from './mappers';
import { mergeUpdate } from './merge-update';
import type { Publish } from './events';
import type { Listing } from './listing';
import { objectIdCursor, toPage } from './paging';
import { AddUserInput, PageInput, UpdateUserInput, UserIdInput, UserSessionsInput } from './schemas';
import { type Serialize, sessionKey, userKey } from './serialize';
import { softDeleteSession } from './sessions';
import { parse } from './validate';

export const userNotFound = (userId: string) => new NotFoundError(`user ${JSON.stringify(userId)} not found`);

export function createUserService(c: Collections, serialize: Serialize, listing: Listing, publish: Publish) {
  async function liveUser(userId: string): Promise<UserDoc> {
    const doc = await c.users.findOne({ userId, ...live }); // users_userId
    if (!doc) throw userNotFound(userId);
    return doc;
  }

  return {
    /** CONFLICT if a live user has the id; a soft-deleted user's id is taken afresh. */
    async add(input: AddUserInput) {
      const { userId, metadata = {}, ...profile } = parse(AddUserInput, input);
      return serialize(userKey(userId), async () => {
        const now = new Date();
        // A user created afresh over a soft-deleted one goes to the end of the list too.
        const place = await listing.next('users');
        const doc = { uuid: randomUUID(), userId, ...profile, metadata, createdAt: now, updatedAt: now, ...place, ...revive };
        // users_userId
        const revived = await c.users.findOneAndReplace({ userId, deletedAt: { $ne: null } }, doc, { returnDocument: 'after' });
        if (revived) return toUser(revived);
        try {
          const { insertedId } = await c.users.insertOne({ ...doc, _id: new ObjectId() });
          return toUser({ ...doc, _id: insertedId });
        } catch (error) {
          if (isDuplicateKeyError(error)) throw new ConflictError(`user ${JSON.stringify(userId)} already exists`);
          throw error;
        }
      });
    },

    async get(input: { userId: string }) {
      const { userId } = parse(UserIdInput, input);
      return toUser(await liveUser(userId));
    },

    /** Profile fields replace when given; metadata merges (users may write `system`). */
    async update(input: UpdateUserInput) {
      const { userId, metadata = {}, ...profile } = parse(UpdateUserInput, input);
      return serialize(userKey(userId), async () => {
        // users_userId
        const doc = await mergeUpdate(c.users, { userId, ...live }, metadata, { ...profile, updatedAt: new Date() });
        if (!doc) throw userNotFound(userId);
        return toUser(doc);
      });
    },

    /** Soft-deletes the user, its sessions and their messages. */
    async delete(input: { userId: string }) {
      const { userId } = parse(UserIdInput, input);
      await serialize(userKey(userId), async () => {
        const user = await liveUser(userId);
        const now = new Date();
        const sessions = await c.sessions.find({ userId, ...live }, { projection: { sessionId: 1 } }).toArray(); // sessions_user
        for (const { sessionId } of sessions) {
          await serialize(sessionKey(sessionId), () => softDeleteSession(c, publish, sessionId, now));
        }
        const { matchedCount } = await c.users.updateOne({ _id: user._id, ...live }, { $set: softDelete(now) });
        if (matchedCount === 0) throw userNotFound(userId);
      });
    },

    /** Live users, oldest first. */
    async list(input: PageInput = {}) {
      const page = parse(PageInput, input);
      return listing.page('users', page, (listBucket) => c.users.find({ listBucket, live: true }).toArray(), toUser); // users_list
    },

    /** The user's live sessions, oldest first. */
    async sessions(input: { userId: string; limit?: number; cursor?: string | null }) {
      const { userId, limit, cursor } = parse(UserSessionsInput, input);
      await liveUser(userId);
      const after = objectIdCursor(cursor);
      const docs = await c.sessions // sessions_user
        .find({ userId, ...live, ...(after && { _id: { $gt: after } }) })
        .sort({ _id: 1 })
        .limit(limit + 1)
        .toArray();
      return toPage(docs, limit, (d) => d._id.toHexString(), toSession);
    },
  };
}
