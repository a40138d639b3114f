/**
 * What a user may do with their own token (issue 13): the one place for those rules. `scopedTo(core,
 * userId)` has the shape of the core services, and every operation either runs as the user (their
 * own user record, sessions and messages, a new session owned by them), reads as if another user's
 * data did not exist (NOT_FOUND, or the empty history of a session that does not exist: no
 * existence oracle), or is refused as admin-only (FORBIDDEN: listing or deleting users, purge,
 * forgetting, export/import). Every check happens before anything is written.
 */
import type { Store } from './store';
import { ForbiddenError, sessionNotFound, userNotFound } from './errors';
import type { MessageEvent } from './events';
import type { Core } from './index';

/** The services the API layers (tRPC, REST) call. */
export type CoreApi = Pick<Core, 'users' | 'sessions' | 'memory' | 'events' | 'purge'>;

const adminOnly = (what: string) => async () => {
  throw new ForbiddenError(`${what} needs an admin token`);
};

export function scopedTo(core: CoreApi & { store: Store }, userId: string): CoreApi {
  const { users, sessions, memory, events } = core;
  /** Whether the session exists (live) and is this user's; `missing` when there is no such session. */
  const ownership = async (sessionId: string): Promise<'own' | 'other' | 'missing'> => {
    const session = await core.store.sessions.live(sessionId);
    return !session ? 'missing' : session.userId === userId ? 'own' : 'other';
  };
  /** Runs `run` on an own session; any other reads as a session that does not exist. */
  const own =
    <I extends { sessionId: string }, R>(run: (input: I) => Promise<R>) =>
    async (input: I): Promise<R> => {
      if ((await ownership(input.sessionId)) === 'own') return run(input);
      throw sessionNotFound(input.sessionId);
    };
  /** Reads whose answer for a missing session is an empty history (a new chat): another user's session answers the same. */
  const ownOrEmpty =
    <I extends { sessionId: string }, R>(run: (input: I) => Promise<R>, empty: R) =>
    async (input: I): Promise<R> =>
      (await ownership(input.sessionId)) === 'other' ? empty : run(input);
  const self =
    <I extends { userId: string }, R>(run: (input: I) => Promise<R>) =>
    async (input: I): Promise<R> => {
      if (input.userId === userId) return run(input);
      throw userNotFound(input.userId);
    };

  return {
    users: {
      ...users,
      add: adminOnly('creating users'),
      get: self(users.get),
      update: self(users.update),
      delete: adminOnly('deleting users'),
      list: adminOnly('listing users'),
      sessions: self(users.sessions),
      forget: adminOnly('forgetting users'),
    },
    sessions: {
      ...sessions,
      add: (input) => sessions.add({ ...input, userId }),
      get: own(sessions.get),
      update: own(sessions.update),
      delete: own(sessions.delete),
      /** Their own deleted session (ownership of a deleted session is read from it: it is not live). */
      restore: async (input) => {
        const session = await core.store.sessions.get(input.sessionId);
        if (session?.userId !== userId) throw sessionNotFound(input.sessionId);
        return sessions.restore(input);
      },
      list: (input = {}) => sessions.list({ ...input, userId }),
    },
    memory: {
      ...memory,
      add: (input) => memory.add(input, { owner: userId }),
      get: ownOrEmpty(memory.get, { messages: [] }),
      list: ownOrEmpty(memory.list, { items: [], nextCursor: null, total: 0 }),
      message: own(memory.message),
      updateMessage: own(memory.updateMessage),
      deleteMessage: own(memory.deleteMessage),
      restoreMessage: own(memory.restoreMessage),
      truncate: own(memory.truncate),
      stopMessage: own(memory.stopMessage),
      /** A message of their own session as a stream; any other reads as a session that does not exist. */
      async *stream(input, options) {
        if ((await ownership(input.sessionId)) !== 'own') throw sessionNotFound(input.sessionId);
        yield* memory.stream(input, options);
      },
      siblings: own(memory.siblings),
      tree: own(memory.tree),
      setHead: own(memory.setHead),
      search: own(memory.search),
      searchUser: self(memory.searchUser),
      summaries: own(memory.summaries),
      searchSummaries: own(memory.searchSummaries),
      expire: adminOnly('retention'),
    },
    events: {
      ...events,
      /** A session's events once it is theirs (a new chat they are about to start included); nothing of anybody else's. */
      async *messages(sessionId, options) {
        let mine = false;
        for await (const item of events.messages(sessionId, options)) {
          if (item.event.type !== 'reset' && !mine) mine = (await ownership(sessionId)) === 'own' || ownedDeletion(item.event);
          if (item.event.type === 'reset' || mine) yield item;
          if (item.event.type === 'session-deleted') mine = false; // the id may be somebody else's next
        }
      },
      sessions: (_userId, options) => events.sessions(userId, options),
    },
    purge: adminOnly('purge'),
  };

  /** A deletion event of a session that was this user's (it no longer exists to ask about). */
  function ownedDeletion(event: MessageEvent): boolean {
    return event.type === 'session-deleted' && event.userId === userId;
  }
}
