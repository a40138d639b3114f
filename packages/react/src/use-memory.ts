// Lets the published declarations name the hooks' result types (they live in @trpc/react-query/shared).
import type {} from '@trpc/react-query/shared';
import { textOfParts } from '@mnemo/core/metadata';
import { skipToken, useMutationState, useQueryClient } from '@tanstack/react-query';
import { getMutationKey } from '@trpc/react-query';
import { useCallback, useMemo } from 'react';
import { isInCachedLists, newUuid } from './cache';
import { isLive, useLiveMessages } from './live';
import { cachedMessages, refetchSeeded, removeMessages, seedMessages, upsertMessages } from './message-cache';
import type { QueryHookOptions, QueryHookResult } from './queries';
import { type Memory, type Message, type RouterInputs, type RouterOutputs, type Summary, trpc } from './trpc';

/** `useMemory`'s own options, and any TanStack Query option (`select`, `enabled`, `staleTime`, …). */
export type MemoryOptions<TData = Memory> = QueryHookOptions<typeof trpc.memory.get, Memory, TData> & {
  /** How many of the latest messages (default: the server's message window). */
  lastn?: number;
  /** Keep it up to date with every client's writes (a `message.onChange` subscription). */
  live?: boolean;
};

/**
 * The last `lastn` messages of a session, oldest first; a new chat (no such session yet) has none.
 * Disabled while `sessionId` is undefined. Its query is `mnemoQueries(client).memory(sessionId, { lastn })`.
 */
export function useMemory<TData = Memory>(
  sessionId: string | undefined,
  options?: MemoryOptions<TData>,
): QueryHookResult<typeof trpc.memory.get, TData>;
// The last signature is the one `ReturnType<typeof hook>` sees: the result without `select`.
export function useMemory(sessionId: string | undefined, options?: MemoryOptions): QueryHookResult<typeof trpc.memory.get, Memory>;
export function useMemory<TData>(sessionId: string | undefined, { lastn, live = false, ...options }: MemoryOptions<TData> = {}) {
  useLiveMessages(live ? sessionId : undefined);
  return trpc.memory.get.useQuery(sessionId === undefined ? skipToken : { sessionId, lastn }, options);
}

type SummaryPage = RouterOutputs['memory']['summaries'];

/**
 * The session's latest summary (what it covers: `recentSeq`, `recentMessageUuid`; when:
 * `createdAt`), or null while it has none (summaries are made when the server has a model:
 * MNEMO_LLM_URL). With `live`, a new summary shows as soon as the server has made it.
 * Disabled while `sessionId` is undefined.
 */
export function useSummary(
  sessionId: string | undefined,
  { live = false, ...options }: QueryHookOptions<typeof trpc.memory.summaries, SummaryPage, Summary | null> & { live?: boolean } = {},
): QueryHookResult<typeof trpc.memory.summaries, Summary | null> {
  useLiveMessages(live ? sessionId : undefined);
  return trpc.memory.summaries.useQuery(sessionId === undefined ? skipToken : { sessionId, limit: 1 }, {
    select: (page) => page.items[0] ?? null,
    ...options,
  });
}

export type SearchMemoryInput = RouterInputs['memory']['search'];
type SearchMemoryOutput = RouterOutputs['memory']['search'];

/**
 * Searches a session's messages (text relevance, metadata filter, dates); disabled while `input`
 * is undefined. Adding messages to the session invalidates its searches. `options`: TanStack Query's.
 */
export function useSearchMemory<TData = SearchMemoryOutput>(
  input: SearchMemoryInput | undefined,
  options?: QueryHookOptions<typeof trpc.memory.search, SearchMemoryOutput, TData>,
): QueryHookResult<typeof trpc.memory.search, TData>;
export function useSearchMemory(
  input: SearchMemoryInput | undefined,
  options?: QueryHookOptions<typeof trpc.memory.search, SearchMemoryOutput>,
): QueryHookResult<typeof trpc.memory.search, SearchMemoryOutput>;
export function useSearchMemory<TData>(
  input: SearchMemoryInput | undefined,
  options?: QueryHookOptions<typeof trpc.memory.search, SearchMemoryOutput, TData>,
) {
  return trpc.memory.search.useQuery(input ?? skipToken, options);
}

export type SearchUserInput = RouterInputs['user']['search'];
type SearchUserOutput = RouterOutputs['user']['search'];

/**
 * Searches the messages of all of a user's sessions, ranked together (same input as
 * `useSearchMemory`, with `userId` for `sessionId`); each result's `message.sessionId` names its
 * session. Disabled while `input` is undefined. Adding messages to any session invalidates it.
 */
export function useSearchUser<TData = SearchUserOutput>(
  input: SearchUserInput | undefined,
  options?: QueryHookOptions<typeof trpc.user.search, SearchUserOutput, TData>,
): QueryHookResult<typeof trpc.user.search, TData>;
export function useSearchUser(
  input: SearchUserInput | undefined,
  options?: QueryHookOptions<typeof trpc.user.search, SearchUserOutput>,
): QueryHookResult<typeof trpc.user.search, SearchUserOutput>;
export function useSearchUser<TData>(
  input: SearchUserInput | undefined,
  options?: QueryHookOptions<typeof trpc.user.search, SearchUserOutput, TData>,
) {
  return trpc.user.search.useQuery(input ?? skipToken, options);
}

export type AddMemoryInput = RouterInputs['memory']['add'];
/** What `useAddMemory` sends: every message carries its (client-made) uuid. */
export type AddMemoryVariables = Omit<AddMemoryInput, 'messages'> & {
  messages: (AddMemoryInput['messages'][number] & { uuid: string })[];
};

const byUuid = (m: Message) => m.uuid;
const addMemoryKey = () => getMutationKey(trpc.memory.add);

/**
 * Appends messages to a session. Optimistic: each message gets a uuid made here and sent to the
 * server (which keeps it, and stores a uuid once however often it is sent), so the messages show up
 * at once in the session's cached memory and message list and are later matched exactly (also while
 * the session is still loading: they are its data until the re-fetch after the add). On error
 * they are taken out again; on success they take the server's `seq`, `tokenCount` and timestamps;
 * then the session's memory, messages and session record are re-fetched (once the last pending add
 * to that session is done, so a re-fetch never hides messages still on their way).
 *
 * Calls run one after another (a mutation scope), so messages are stored in the order they were sent.
 */
export function useAddMemory() {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  const mutation = trpc.memory.add.useMutation({
    scope: { id: 'mnemo.memory.add' },
    onMutate: async ({ sessionId, messages }) => {
      await Promise.all([utils.memory.get.cancel({ sessionId }), utils.message.list.cancel({ sessionId })]);
      const known = cachedMessages(queryClient, sessionId);
      const lastSeq = Math.max(0, ...known.map((m) => m.seq));
      const now = new Date();
      const optimistic: Message[] = messages.map((m, i) => ({
        uuid: m.uuid ?? newUuid(),
        sessionId,
        seq: lastSeq + i + 1,
        role: m.role,
        content: m.content ?? textOfParts(m.parts ?? []),
        ...(m.parts && { parts: m.parts }),
        status: m.status ?? 'complete',
        metadata: m.metadata ?? {},
        tokenCount: m.tokenCount ?? 0,
        createdAt: now,
        updatedAt: now,
      }));
      // Only what this call put in is taken out on error: other sends may be on their way too.
      const knownUuids = new Set(known.map(byUuid));
      const introduced = new Set(optimistic.map(byUuid).filter((uuid) => !knownUuids.has(uuid)));
      const shown = optimistic.filter((m) => introduced.has(m.uuid));
      upsertMessages(queryClient, sessionId, shown);
      // During the first load there is nothing to add to (and its fetch was just cancelled): the
      // messages become the data for now, and the re-fetch after the last pending add replaces it.
      seedMessages(queryClient, sessionId, shown);
      return { introduced };
    },
    onError: (_error, { sessionId }, context) => removeMessages(queryClient, sessionId, context?.introduced ?? new Set()),
    onSuccess: ({ messages }, { sessionId }) => upsertMessages(queryClient, sessionId, messages),
    onSettled: async (_memory, _error, { sessionId }) => {
      const inFlight = queryClient.isMutating({
        mutationKey: addMemoryKey(),
        predicate: (m) => (m.state.variables as AddMemoryInput | undefined)?.sessionId === sessionId,
      });
      if (inFlight > 1) return; // this one counts too; the last one re-fetches
      // Adding to an unknown or deleted session creates or revives it: then it joins the lists.
      const joinsLists = !isInCachedLists(queryClient, sessionId);
      await Promise.all([
        utils.memory.get.invalidate({ sessionId }),
        // Kept live, the cached pages have the server's messages now and everyone else's by events: only
        // marked stale, not re-read page by page (a chat scrolled far back holds many). Seeded ones are re-read.
        utils.message.list.invalidate({ sessionId }, { refetchType: isLive(queryClient, sessionId) ? 'none' : 'active' }),
        refetchSeeded(queryClient, sessionId),
        utils.memory.search.invalidate({ sessionId }),
        utils.message.siblings.invalidate({ sessionId }), // a branch adds a version
        utils.message.tree.invalidate({ sessionId }),
        utils.user.search.invalidate(), // whose user is not known here: every user search
        utils.session.get.invalidate({ sessionId }),
        joinsLists && utils.session.list.invalidate(),
        joinsLists && utils.user.sessions.invalidate(),
      ]);
    },
  });

  const { mutate: send, mutateAsync: sendAsync } = mutation;
  type Options = Parameters<typeof send>[1];
  const mutate = useCallback((input: AddMemoryInput, options?: Options) => send(withUuids(input), options), [send]);
  const mutateAsync = useCallback((input: AddMemoryInput, options?: Options) => sendAsync(withUuids(input), options), [sendAsync]);
  return {
    ...mutation,
    /** Sends the messages, each given a uuid first unless it has one. */
    mutate,
    mutateAsync,
    /** The variables of the pending or last call, uuids included. */
    variables: mutation.variables as AddMemoryVariables | undefined,
  };
}

/** Gives every message a client-made uuid (kept by the server), unless it has one. */
export function withUuids(input: AddMemoryInput): AddMemoryVariables {
  return { ...input, messages: input.messages.map((m) => ({ ...m, uuid: m.uuid ?? newUuid() })) };
}

/** The uuids of messages sent to a session (by any `useAddMemory`) that the server has not confirmed yet. */
export function usePendingMessages(sessionId: string | undefined): ReadonlySet<string> {
  const uuids = useMutationState({
    filters: {
      mutationKey: addMemoryKey(),
      status: 'pending',
      predicate: (m) => (m.state.variables as AddMemoryVariables | undefined)?.sessionId === sessionId,
    },
    select: (m) => (m.state.variables as AddMemoryVariables).messages.map((message) => message.uuid).join('\n'),
  });
  const key = uuids.join('\n');
  return useMemo(() => new Set(key.split('\n').filter(Boolean)), [key]);
}
