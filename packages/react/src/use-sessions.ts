// Lets the published declarations name the hooks' result types (they live in @trpc/react-query/shared).
import type {} from '@trpc/react-query/shared';
import { mergeMetadata, withoutSystem } from '@mnemo/core/metadata';
import { type InfiniteData, skipToken, useQueryClient } from '@tanstack/react-query';
import { isInCachedLists, newUuid, replaceBy, restore, snapshot, updateLists } from './cache';
import { useLiveSessions } from './live';
import { keys } from './keys';
import type { CursorOf, InfiniteQueryHookOptions, InfiniteQueryHookResult, QueryHookOptions, QueryHookResult } from './queries';
import { type RouterInputs, type Session, type SessionPage, trpc } from './trpc';

export interface PageOptions {
  /** Page size (1–100; the server's default is 50). */
  limit?: number;
}
/**
 * A session list's query (`session.list`'s input without the cursor: filters by metadata and
 * dates, `sort: 'created' | 'activity'`, `order`, `withTotal`, `withLastMessage`), and `live`.
 */
export type SessionListOptions = Omit<Exclude<RouterInputs['session']['list'], void | undefined>, 'cursor' | 'userId'> & {
  /** Keep the list up to date with every client's writes (a `session.onChange` subscription). */
  live?: boolean;
};

const nextCursor = (page: { nextCursor: string | null }) => page.nextCursor;

type SessionPages = InfiniteData<SessionPage, CursorOf<RouterInputs['session']['list']>>;
type SessionsQueryOptions<TData = SessionPages> = InfiniteQueryHookOptions<
  typeof trpc.session.list,
  RouterInputs['session']['list'],
  SessionPage,
  TData
>;
type UserSessionPages = InfiniteData<SessionPage, CursorOf<RouterInputs['user']['sessions']>>;
type UserSessionsQueryOptions<TData = UserSessionPages> = InfiniteQueryHookOptions<
  typeof trpc.user.sessions,
  RouterInputs['user']['sessions'],
  SessionPage,
  TData
>;

/** One session by id; disabled while `sessionId` is undefined. `options`: TanStack Query's (`select`, `enabled`, …). */
export function useSession<TData = Session>(
  sessionId: string | undefined,
  options?: QueryHookOptions<typeof trpc.session.get, Session, TData>,
): QueryHookResult<typeof trpc.session.get, TData>;
// The last signature is the one `ReturnType<typeof hook>` sees: the result without `select`.
export function useSession(
  sessionId: string | undefined,
  options?: QueryHookOptions<typeof trpc.session.get, Session>,
): QueryHookResult<typeof trpc.session.get, Session>;
export function useSession<TData>(sessionId: string | undefined, options?: QueryHookOptions<typeof trpc.session.get, Session, TData>) {
  return trpc.session.get.useQuery(sessionId === undefined ? skipToken : { sessionId }, options);
}

/**
 * Live sessions, page by page (`fetchNextPage` until `hasNextPage` is false): by default oldest
 * first; e.g. `{ sort: 'activity', withLastMessage: true }` for a sidebar. `data.pages[0].total`
 * with `withTotal`. `options`: TanStack Query's (`select`, `enabled`, `staleTime`, …).
 */
export function useSessions<TData = SessionPages>(
  query?: SessionListOptions,
  options?: SessionsQueryOptions<TData>,
): InfiniteQueryHookResult<typeof trpc.session.list, TData>;
// The last signature is the one `ReturnType<typeof hook>` sees: the result without `select`.
export function useSessions(
  query?: SessionListOptions,
  options?: SessionsQueryOptions,
): InfiniteQueryHookResult<typeof trpc.session.list, SessionPages>;
export function useSessions<TData>({ live = false, ...query }: SessionListOptions = {}, options?: SessionsQueryOptions<TData>) {
  useLiveSessions(live);
  return trpc.session.list.useInfiniteQuery(query, { ...options, getNextPageParam: nextCursor });
}

/** A user's live sessions, page by page (options as `useSessions`); disabled while `userId` is undefined. */
export function useUserSessions<TData = UserSessionPages>(
  userId: string | undefined,
  query?: SessionListOptions,
  options?: UserSessionsQueryOptions<TData>,
): InfiniteQueryHookResult<typeof trpc.user.sessions, TData>;
// The last signature is the one `ReturnType<typeof hook>` sees: the result without `select`.
export function useUserSessions(
  userId: string | undefined,
  query?: SessionListOptions,
  options?: UserSessionsQueryOptions,
): InfiniteQueryHookResult<typeof trpc.user.sessions, UserSessionPages>;
export function useUserSessions<TData>(
  userId: string | undefined,
  { live = false, ...query }: SessionListOptions = {},
  options?: UserSessionsQueryOptions<TData>,
) {
  useLiveSessions(live && userId !== undefined, userId);
  return trpc.user.sessions.useInfiniteQuery(userId === undefined ? skipToken : { userId, ...query }, {
    ...options,
    getNextPageParam: nextCursor,
  });
}

/**
 * Creates a session. Optimistic: it is at once at the top of the cached lists it joins (by latest
 * activity, newest first, of its user or of all, no other filter: a new session is the most recent);
 * gone again on error; on success the server's session replaces it and those lists are re-read.
 */
export function useAddSession() {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  return trpc.session.add.useMutation({
    onMutate: async ({ sessionId, userId = null, metadata = {}, retentionDays = null }) => {
      await Promise.all([utils.session.list.cancel(), utils.user.sessions.cancel()]);
      const saved = snapshot(queryClient, keys.sessionLists());
      const now = new Date();
      const session: Session & { lastMessage: null } = {
        ...{ sessionId, userId, metadata: withoutSystem(metadata), retentionDays, uuid: newUuid(), messageCount: 0 },
        ...{ createdAt: now, updatedAt: now, lastActiveAt: now, lastMessageAt: null, lastMessage: null },
      };
      for (const queryKey of keys.sessionLists())
        queryClient.setQueriesData<InfiniteData<SessionPage, unknown>>(
          { queryKey, predicate: (query) => joinsAtTop((query.queryKey[1] as { input?: NewSessionList } | undefined)?.input, userId) },
          (data) =>
            data && { ...data, pages: data.pages.map((page, i) => (i === 0 ? { ...page, items: [session, ...page.items] } : page)) },
        );
      return { saved };
    },
    onError: (_error, _input, context) => restore(queryClient, context?.saved),
    onSuccess: (session) => {
      utils.session.get.setData({ sessionId: session.sessionId }, session);
      // The stand-in keeps what its list asked for besides the session (`lastMessage: null`).
      updateLists<Session>(queryClient, keys.sessionLists(), (items) =>
        items.some((s) => s.sessionId === session.sessionId)
          ? items.map((s) => (s.sessionId === session.sessionId ? { ...s, ...session } : s))
          : items,
      );
      void Promise.all([
        utils.session.list.invalidate(),
        session.userId !== null && utils.user.sessions.invalidate({ userId: session.userId }),
      ]);
    },
  });
}

type NewSessionList = Exclude<RouterInputs['session']['list'], void | undefined>;
/** Whether a list with this input shows a new session of `userId` first. */
function joinsAtTop(input: NewSessionList | undefined, userId: string | null): boolean {
  if (input?.sort !== 'activity' || input.order === 'asc') return false;
  if (input.userId !== undefined && input.userId !== userId) return false;
  const { metadata, createdAfter, createdBefore, updatedAfter, updatedBefore } = input;
  return !metadata && !createdAfter && !createdBefore && !updatedAfter && !updatedBefore;
}

/**
 * Merges metadata into a session. Optimistic: the cached session (and its rows in cached lists)
 * show the merge at once, computed with the server's own rules (`mergeMetadata`, `system` dropped);
 * rolled back on error, replaced by the server's session on success, then re-fetched.
 */
export function useUpdateSessionMetadata() {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  return trpc.session.update.useMutation({
    onMutate: async ({ sessionId, metadata }) => {
      await Promise.all([utils.session.get.cancel({ sessionId }), utils.session.list.cancel(), utils.user.sessions.cancel()]);
      const saved = snapshot(queryClient, [keys.session(sessionId), ...keys.sessionLists()]);
      const patch = withoutSystem(metadata ?? {});
      const merge = (s: Session): Session => ({ ...s, metadata: mergeMetadata(s.metadata, patch) });
      utils.session.get.setData({ sessionId }, (s) => s && merge(s));
      updateLists<Session>(queryClient, keys.sessionLists(), (items) => items.map((s) => (s.sessionId === sessionId ? merge(s) : s)));
      return { saved };
    },
    onError: (_error, _input, context) => restore(queryClient, context?.saved),
    onSuccess: (session) => {
      utils.session.get.setData({ sessionId: session.sessionId }, session);
      updateLists<Session>(queryClient, keys.sessionLists(), (items) =>
        replaceBy(items, (s) => s.sessionId, new Map([[session.sessionId, session]])),
      );
    },
    onSettled: async (_session, _error, { sessionId }) => {
      // Updating a deleted session revives it (Zep semantics): then the lists change too.
      const revived = !isInCachedLists(queryClient, sessionId);
      await Promise.all([
        utils.session.get.invalidate({ sessionId }),
        revived && utils.session.list.invalidate(),
        revived && utils.user.sessions.invalidate(),
      ]);
    },
  });
}

/**
 * Soft-deletes a session with its messages. Optimistic: it leaves every cached list at once (back on
 * error); on success its own cached session, memory and messages are dropped.
 */
export function useDeleteSession() {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  return trpc.session.delete.useMutation({
    onMutate: async ({ sessionId }) => {
      await Promise.all([utils.session.list.cancel(), utils.user.sessions.cancel()]);
      const saved = snapshot(queryClient, keys.sessionLists());
      updateLists<Session>(queryClient, keys.sessionLists(), (items) => items.filter((s) => s.sessionId !== sessionId));
      return { saved };
    },
    onError: (_error, _input, context) => restore(queryClient, context?.saved),
    onSuccess: (_result, { sessionId }) => {
      for (const queryKey of [keys.session(sessionId), keys.memory(sessionId), keys.messages(sessionId), keys.messagesOfSession(sessionId)])
        queryClient.removeQueries({ queryKey });
    },
  });
}

/** Undoes `useDeleteSession` (an "Undo"): the session is back, with the messages deleted with it, and the lists re-read. */
export function useRestoreSession() {
  const utils = trpc.useUtils();
  return trpc.session.restore.useMutation({
    onSuccess: async (session) => {
      utils.session.get.setData({ sessionId: session.sessionId }, session);
      await Promise.all([
        utils.session.list.invalidate(),
        session.userId !== null && utils.user.sessions.invalidate({ userId: session.userId }),
      ]);
    },
  });
}
