// Lets the published declarations name the hooks' result types (they live in @trpc/react-query/shared).
import type {} from '@trpc/react-query/shared';
import { type InfiniteData, skipToken, useQueryClient } from '@tanstack/react-query';
import { cachedListItems, replaceBy, restore, snapshot, updateLists } from './cache';
import { keys } from './keys';
import type { CursorOf, InfiniteQueryHookOptions, InfiniteQueryHookResult, QueryHookOptions, QueryHookResult } from './queries';
import { type RouterInputs, type Session, trpc, type User, type UserPage } from './trpc';
import type { PageOptions } from './use-sessions';

/** One user by id; disabled while `userId` is undefined. `options`: TanStack Query's (`select`, `enabled`, …). */
export function useUser<TData = User>(
  userId: string | undefined,
  options?: QueryHookOptions<typeof trpc.user.get, User, TData>,
): QueryHookResult<typeof trpc.user.get, TData>;
// The last signature is the one `ReturnType<typeof hook>` sees: the result without `select`.
export function useUser(
  userId: string | undefined,
  options?: QueryHookOptions<typeof trpc.user.get, User>,
): QueryHookResult<typeof trpc.user.get, User>;
export function useUser<TData>(userId: string | undefined, options?: QueryHookOptions<typeof trpc.user.get, User, TData>) {
  return trpc.user.get.useQuery(userId === undefined ? skipToken : { userId }, options);
}

/** `useUsers`' own options, and any TanStack Query option (`select`, `enabled`, `staleTime`, …). */
type UserPages = InfiniteData<UserPage, CursorOf<RouterInputs['user']['list']>>;
export type UsersOptions<TData = UserPages> = PageOptions &
  InfiniteQueryHookOptions<typeof trpc.user.list, RouterInputs['user']['list'], UserPage, TData>;

/** All live users, oldest first, page by page. */
export function useUsers<TData = UserPages>(options?: UsersOptions<TData>): InfiniteQueryHookResult<typeof trpc.user.list, TData>;
// The last signature is the one `ReturnType<typeof hook>` sees: the result without `select`.
export function useUsers(options?: UsersOptions): InfiniteQueryHookResult<typeof trpc.user.list, UserPages>;
export function useUsers<TData>({ limit, ...options }: UsersOptions<TData> = {}) {
  return trpc.user.list.useInfiniteQuery({ limit }, { ...options, getNextPageParam: (page) => page.nextCursor });
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
      updateLists<User>(queryClient, keys.userLists(), (items) => replaceBy(items, (u) => u.userId, new Map([[user.userId, user]])));
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
