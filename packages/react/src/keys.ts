/** Query keys, all produced by tRPC's `getQueryKey` (prefix keys: they match every input variant). */
import { getQueryKey } from '@trpc/react-query';
import { trpc } from './trpc';

export const keys = {
  /** Every cached session list: `session.list` and every user's `user.sessions`. */
  sessionLists: () => [getQueryKey(trpc.session.list), getQueryKey(trpc.user.sessions)],
  session: (sessionId: string) => getQueryKey(trpc.session.get, { sessionId }),
  allSessions: () => getQueryKey(trpc.session.get),
  userLists: () => [getQueryKey(trpc.user.list)],
  user: (userId: string) => getQueryKey(trpc.user.get, { userId }),
  userSessions: (userId: string) => getQueryKey(trpc.user.sessions, { userId }),
  /** `memory.get` for a session, whatever its `lastn`. */
  memory: (sessionId: string) => getQueryKey(trpc.memory.get, { sessionId }),
  /** `message.list` for a session, whatever its page size. */
  messages: (sessionId: string) => getQueryKey(trpc.message.list, { sessionId }),
  message: (sessionId: string, uuid: string) => getQueryKey(trpc.message.get, { sessionId, uuid }),
  messagesOfSession: (sessionId: string) => getQueryKey(trpc.message.get, { sessionId }),
};
