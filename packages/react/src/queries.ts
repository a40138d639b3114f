/**
 * TanStack Query options for the hooks, and `queryOptions`-style factories for the main reads.
 * Every option type is tRPC's (or TanStack's, the way tRPC's own hooks compose it); every key is
 * tRPC's `getQueryKey`, so a factory's cache entry is the one the matching hook reads.
 */
import type { AppRouter } from '@mnemo/client';
import {
  type InfiniteData,
  infiniteQueryOptions,
  queryOptions,
  type UseInfiniteQueryOptions,
  type UseInfiniteQueryResult,
} from '@tanstack/react-query';
import type { TRPCClient } from '@trpc/client';
import { getQueryKey } from '@trpc/react-query';
import type {
  ExtractCursorType,
  TRPCHookResult,
  TRPCUseQueryBaseOptions,
  UseTRPCQueryOptions,
  UseTRPCQueryResult,
} from '@trpc/react-query/shared';
import { type Memory, type RouterInputs, type RouterOutputs, trpc } from './trpc';

type QueryProcedure = { useQuery: (...args: never[]) => { error: unknown } };
type InfiniteProcedure = { useInfiniteQuery: (...args: never[]) => { error: unknown } };
/** The error a procedure's query fails with (tRPC's `TRPCClientErrorLike` for it). */
export type QueryErrorOf<P extends QueryProcedure> = NonNullable<ReturnType<P['useQuery']>['error']>;
/** The error a procedure's paged query fails with. */
export type InfiniteQueryErrorOf<P extends InfiniteProcedure> = NonNullable<ReturnType<P['useInfiniteQuery']>['error']>;
/** A list's page cursor as tRPC infers it from the procedure's input (what its `InfiniteData` pages are keyed by). */
export type CursorOf<TInput> = ExtractCursorType<TInput>;
type Cursor = CursorOf<{ cursor?: string | null }>;

/**
 * The TanStack Query options a query hook passes on to tRPC's `useQuery` for procedure `P`
 * (`enabled`, `select`, `staleTime`, `gcTime`, `placeholderData`, `refetchInterval`, `meta`, `trpc`, …):
 * tRPC's own `UseTRPCQueryOptions`.
 */
export type QueryHookOptions<P extends QueryProcedure, TOutput, TData = TOutput> = Omit<
  UseTRPCQueryOptions<TOutput, TData, QueryErrorOf<P>, TOutput>,
  'queryFn'
>;

/**
 * The TanStack Query options a paged hook passes on to tRPC's `useInfiniteQuery` for procedure `P`,
 * composed as tRPC composes them (TanStack's `UseInfiniteQueryOptions` without key, function and
 * first page param, plus `trpc`). `getNextPageParam` is the hook's (the server's `nextCursor`).
 */
export type InfiniteQueryHookOptions<P extends InfiniteProcedure, TInput, TPage, TData = InfiniteData<TPage, CursorOf<TInput>>> = Omit<
  // `any`: tRPC's own key type for these options.
  UseInfiniteQueryOptions<TPage, InfiniteQueryErrorOf<P>, TData, any, CursorOf<TInput>>,
  'queryKey' | 'queryFn' | 'queryHash' | 'queryHashFn' | 'initialPageParam' | 'getNextPageParam'
> &
  TRPCUseQueryBaseOptions;

/** What a query hook returns for procedure `P`: tRPC's `useQuery` result. */
export type QueryHookResult<P extends QueryProcedure, TData> = UseTRPCQueryResult<TData, QueryErrorOf<P>>;
/** What a paged hook returns for procedure `P`: tRPC's `useInfiniteQuery` result. */
export type InfiniteQueryHookResult<P extends InfiniteProcedure, TData> = TRPCHookResult &
  UseInfiniteQueryResult<TData, InfiniteQueryErrorOf<P>>;

type Input<P extends keyof RouterInputs, Q extends string> = Exclude<RouterInputs[P][Q & keyof RouterInputs[P]], void | undefined>;
type ListInput<P extends keyof RouterInputs, Q extends string> = Omit<Input<P, Q>, 'cursor'>;

const nextCursor = (page: { nextCursor: string | null }) => page.nextCursor;

/**
 * `queryOptions` for Mnemo's main reads, made with a tRPC client (`createMnemoTRPCClient` or
 * `createMnemoClient`) and usable outside components: with `useQuery`, `useSuspenseQuery`,
 * `useInfiniteQuery`/`useSuspenseInfiniteQuery` (the paged ones), `queryClient.prefetchQuery` /
 * `prefetchInfiniteQuery`, `ensureQueryData` and SSR hydration. Their keys are the hooks' keys: data
 * fetched with a factory is what `useMemory` & co. show (no second fetch), and the hooks'
 * optimistic updates and invalidations reach it.
 *
 * ```ts
 * const queries = mnemoQueries(createMnemoClient({ url }));
 * await queryClient.prefetchQuery(queries.memory(sessionId));
 * const { data } = useSuspenseQuery(queries.memory(sessionId)); // in a component
 * ```
 */
export function mnemoQueries(client: TRPCClient<AppRouter>) {
  return {
    /** `useMemory(sessionId, { lastn })`'s query. */
    memory: (sessionId: string, { lastn }: { lastn?: number } = {}) => {
      const input = { sessionId, lastn };
      return queryOptions({
        queryKey: getQueryKey(trpc.memory.get, input, 'query'),
        queryFn: ({ signal }): Promise<Memory> => client.memory.get.query(input, { signal }),
      });
    },
    /** `useSession(sessionId)`'s query. */
    session: (sessionId: string) =>
      queryOptions({
        queryKey: getQueryKey(trpc.session.get, { sessionId }, 'query'),
        queryFn: ({ signal }): Promise<RouterOutputs['session']['get']> => client.session.get.query({ sessionId }, { signal }),
      }),
    /** `useUser(userId)`'s query. */
    user: (userId: string) =>
      queryOptions({
        queryKey: getQueryKey(trpc.user.get, { userId }, 'query'),
        queryFn: ({ signal }): Promise<RouterOutputs['user']['get']> => client.user.get.query({ userId }, { signal }),
      }),
    /** `useSearchMemory(input)`'s query. */
    searchMemory: (input: Input<'memory', 'search'>) =>
      queryOptions({
        queryKey: getQueryKey(trpc.memory.search, input, 'query'),
        queryFn: ({ signal }): Promise<RouterOutputs['memory']['search']> => client.memory.search.query(input, { signal }),
      }),
    /** `useSearchUser(input)`'s query. */
    searchUser: (input: Input<'user', 'search'>) =>
      queryOptions({
        queryKey: getQueryKey(trpc.user.search, input, 'query'),
        queryFn: ({ signal }): Promise<RouterOutputs['user']['search']> => client.user.search.query(input, { signal }),
      }),
    /** `useMessages(sessionId, { limit, order })`'s paged query. */
    messages: (sessionId: string, { limit, order }: { limit?: number; order?: 'asc' | 'desc' } = {}) => {
      const input = { sessionId, limit, order };
      return infiniteQueryOptions({
        queryKey: getQueryKey(trpc.message.list, input, 'infinite'),
        queryFn: ({ pageParam, signal, direction }): Promise<RouterOutputs['message']['list']> =>
          client.message.list.query({ ...input, ...(pageParam && { cursor: pageParam }), direction } as Input<'message', 'list'>, {
            signal,
          }),
        initialPageParam: null as Cursor,
        getNextPageParam: nextCursor,
      });
    },
    /** `useSessions(query)`'s paged query. */
    sessions: (query: ListInput<'session', 'list'> = {}) =>
      infiniteQueryOptions({
        queryKey: getQueryKey(trpc.session.list, query, 'infinite'),
        queryFn: ({ pageParam, signal, direction }): Promise<RouterOutputs['session']['list']> =>
          client.session.list.query({ ...query, ...(pageParam && { cursor: pageParam }), direction } as Input<'session', 'list'>, {
            signal,
          }),
        initialPageParam: null as Cursor,
        getNextPageParam: nextCursor,
      }),
    /** `useUserSessions(userId, query)`'s paged query. */
    userSessions: (userId: string, query: Omit<ListInput<'user', 'sessions'>, 'userId'> = {}) => {
      const input = { userId, ...query };
      return infiniteQueryOptions({
        queryKey: getQueryKey(trpc.user.sessions, input, 'infinite'),
        queryFn: ({ pageParam, signal, direction }): Promise<RouterOutputs['user']['sessions']> =>
          client.user.sessions.query({ ...input, ...(pageParam && { cursor: pageParam }), direction } as Input<'user', 'sessions'>, {
            signal,
          }),
        initialPageParam: null as Cursor,
        getNextPageParam: nextCursor,
      });
    },
    /** `useUsers({ limit })`'s paged query. */
    users: ({ limit }: { limit?: number } = {}) =>
      infiniteQueryOptions({
        queryKey: getQueryKey(trpc.user.list, { limit }, 'infinite'),
        queryFn: ({ pageParam, signal, direction }): Promise<RouterOutputs['user']['list']> =>
          client.user.list.query({ limit, ...(pageParam && { cursor: pageParam }), direction } as Input<'user', 'list'>, { signal }),
        initialPageParam: null as Cursor,
        getNextPageParam: nextCursor,
      }),
  };
}

export type MnemoQueries = ReturnType<typeof mnemoQueries>;
