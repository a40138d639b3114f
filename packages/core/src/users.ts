import { randomUUID } from 'node:crypto';
import { ObjectId } from 'mongodb';
import { type Collections, isDuplicateKeyError, live, revive, softDelete, type UserDoc } from './db';
import { ConflictError, userNotFound } from './errors';
import { toUser } from './mappers';
import { mergeUpdate } from './merge-update';
import type { Publish } from './events';
import type { Listing } from './listing';
import { AddUserInput, type ForgetResult, PageInput, UpdateUserInput, UserIdInput } from './schemas';
import { type Serialize, sessionKey, userKey } from './serialize';
import { softDeleteSession } from './sessions';
import type { Store } from './store';
import { parse } from './validate';

export function createUserService(c: Collections, serialize: Serialize, store: Store, listing: Listing, publish: Publish) {
  const { users } = store;
  async function liveUser(userId: string): Promise<UserDoc> {
    const doc = await users.live(userId);
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
        if (revived) {
          users.stored(userId, revived);
          return toUser(revived);
        }
        try {
          const inserted = { _id: new ObjectId(), ...doc };
          await c.users.insertOne(inserted);
          users.stored(userId, inserted);
          return toUser(inserted);
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
        users.stored(userId, doc);
        return toUser(doc);
      });
    },

    /** Soft-deletes the user, its sessions and their messages. */
    async delete(input: { userId: string }) {
      const { userId } = parse(UserIdInput, input);
      await serialize(userKey(userId), async () => {
        const user = await liveUser(userId);
        const now = new Date();
        for (const { sessionId } of await store.sessions.ofUser(userId)) {
          await serialize(sessionKey(sessionId), () => softDeleteSession(c, store, publish, sessionId, now));
        }
        const deleted = await c.users.findOneAndUpdate({ _id: user._id, ...live }, { $set: softDelete(now) }, { returnDocument: 'after' });
        if (!deleted) throw userNotFound(userId);
        users.stored(userId, deleted);
      });
    },

    /**
     * Forgets a user now (privacy requests): hard-deletes the user record (live or soft-deleted),
     * every session that is or was theirs, those sessions' messages, their search documents
     * (terms and embeddings) and summaries, at once rather than at the next purge. Queued behind the user's writes
     * and each session's, so nothing queued before it survives; what a client writes to one of those
     * session ids afterwards is new data, in a new session without a user. NOT_FOUND when there is
     * nothing of that user at all. Returns what went, per collection.
     */
    async forget(input: { userId: string }): Promise<ForgetResult> {
      const { userId } = parse(UserIdInput, input);
      return serialize(userKey(userId), async () => {
        const gone: ForgetResult = { users: 0, sessions: 0, messages: 0, searchDocuments: 0, summaries: 0 };
        for (const { sessionId } of await store.sessions.ofUser(userId, { withDeleted: true })) {
          await serialize(sessionKey(sessionId), async () => {
            await store.sessions.settle(sessionId);
            gone.messages += (await c.messages.deleteMany({ sessionId })).deletedCount; // messages_session_seq
            store.buckets.invalidate(sessionId);
            gone.searchDocuments += (await c.search.deleteMany({ sessionId })).deletedCount; // search_session
            gone.summaries += (await c.summaries.deleteMany({ sessionId })).deletedCount; // summaries_session
            await c.summaryJobs.deleteOne({ _id: sessionId });
            const { deletedCount } = await c.sessions.deleteOne({ sessionId, userId }); // sessions_sessionId
            if (deletedCount > 0) store.sessions.stored(sessionId, null);
            gone.sessions += deletedCount;
          });
          publish({ type: 'session-deleted', sessionId, userId });
        }
        gone.users = (await c.users.deleteMany({ userId })).deletedCount; // users_userId
        users.stored(userId, null);
        if (gone.users === 0 && gone.sessions === 0) throw userNotFound(userId);
        return gone;
      });
    },

    /** Live users, oldest first. */
    async list(input: PageInput = {}) {
      const page = parse(PageInput, input);
      return listing.page('users', page, (listBucket) => c.users.find({ listBucket, live: true }).toArray(), toUser); // users_list
    },
  };
}
