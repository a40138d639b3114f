import { skipToken, useQueryClient } from '@tanstack/react-query';
import { cachedListItems, replaceBy, restore, snapshot, updateLists } from './cache';
import { keys } from './keys';
import { type Session, trpc, type User } from './trpc';
import type { PageOptions } from './use-sessions';

/** One user by id; disabled while `userId` is undefined. */
export function useUser(userId: string | undefined) {
  return trpc.user.get.useQuery(userId === undefined ? skipToken : { userId });
}

/** All live users, oldest first, page by page. */
export function useUsers({ limit }: PageOptions = {}) {
  return trpc.user.list.useInfiniteQuery({ limit }, { getNextPageParam: (page) => page.nextCursor });
}

/** Creates a user; on success it is cached and the user lists are invalidated. */
export function useAddUser() {
  const utils = trpc.useUtils();
  return trpc.user.add.useMutation({
    onSuccess: async (user) => {
      utils.user.get.setData({ userId: user.userId }, user);
      await utils.user.list.invalidate();
    },
  });
}

/** Updates a user (metadata merges); the cached user and its rows in the user lists take the server's answer. */
export function useUpdateUser() {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  return trpc.user.update.useMutation({
    onSuccess: (user) => {
      utils.user.get.setData({ userId: user.userId }, user);
      updateLists<User>(queryClient, keys.userLists(), (items) =>
        replaceBy(items, (u) => u.userId, new Map([[user.userId, user]])),
      );
    },
  });
}

/**
 * Soft-deletes a user with their sessions and messages. Optimistic: the user leaves the cached user
 * lists at once (back on error); on success the user's sessions leave every cached session list
 * and everything cached about the user and those sessions is dropped.
 */
export function useDeleteUser() {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  return trpc.user.delete.useMutation({
    onMutate: async ({ userId }) => {
      await utils.user.list.cancel();
      const saved = snapshot(queryClient, keys.userLists());
      updateLists<User>(queryClient, keys.userLists(), (items) => items.filter((u) => u.userId !== userId));
      return { saved };
    },
    onError: (_error, _input, context) => restore(queryClient, context?.saved),
    onSuccess: (_result, { userId }) => {
      const cachedSessions = [
        ...cachedListItems<Session>(queryClient, keys.sessionLists()),
        ...queryClient.getQueriesData<Session>({ queryKey: keys.allSessions() }).flatMap(([, s]) => (s ? [s] : [])),
      ];
      const owned = new Set(cachedSessions.filter((s) => s.userId === userId).map((s) => s.sessionId));
      updateLists<Session>(queryClient, keys.sessionLists(), (items) => items.filter((s) => !owned.has(s.sessionId)));
      const gone = [keys.user(userId), keys.userSessions(userId)];
      for (const sessionId of owned)
        gone.push(keys.session(sessionId), keys.memory(sessionId), keys.messages(sessionId), keys.messagesOfSession(sessionId));
      for (const queryKey of gone) queryClient.removeQueries({ queryKey });
    },
  });
}
