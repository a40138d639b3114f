/**
 * Live updates: subscriptions to the server's events (tRPC over SSE; the link reconnects and
 * resumes from the last event id by itself) merged into the TanStack Query cache, so what another
 * tab, user or backend writes shows up without a reload. A `reset` (the first event of a fresh
 * connection, or a gap the server could not replay) re-fetches instead.
 */
// Lets the published declarations name the hooks' result types (they live in @trpc/react-query/shared).
import type {} from '@trpc/react-query/shared';
import { type QueryClient, skipToken, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { isInCachedLists, replaceBy, updateLists } from './cache';
import { keys } from './keys';
import { removeMessages, upsertMessages } from './message-cache';
import { type RouterInputs, type Session, trpc } from './trpc';

/** Per query client, how many mounted `useLiveMessages` keep each session live. */
const liveCounts = new WeakMap<QueryClient, Map<string, number>>();

/**
 * Whether the session's cached messages are kept live here: then every write, by anyone, reaches
 * them as an event, and a mutation need not re-read them page by page.
 */
export function isLive(queryClient: QueryClient, sessionId: string): boolean {
  return (liveCounts.get(queryClient)?.get(sessionId) ?? 0) > 0;
}

/** Keeps every cache of a session's messages live while mounted (`useMemory`/`useMessages` with `live: true`). */
export function useLiveMessages(sessionId: string | undefined) {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  useEffect(() => {
    if (sessionId === undefined) return;
    const counts = liveCounts.get(queryClient) ?? new Map<string, number>();
    liveCounts.set(queryClient, counts);
    counts.set(sessionId, (counts.get(sessionId) ?? 0) + 1);
    return () => {
      const left = (counts.get(sessionId) ?? 1) - 1;
      if (left > 0) counts.set(sessionId, left);
      else counts.delete(sessionId);
    };
  }, [queryClient, sessionId]);
  trpc.message.onChange.useSubscription(sessionId === undefined ? skipToken : { sessionId }, {
    onData: ({ data: event }) => {
      if (sessionId === undefined) return;
      switch (event.type) {
        case 'messages':
          upsertMessages(queryClient, sessionId, event.messages);
          void Promise.all([utils.memory.search.invalidate({ sessionId }), utils.user.search.invalidate()]);
          return;
        case 'summary':
          // get-memory now answers the new summary and fewer messages; the summaries list has one more.
          void Promise.all([utils.memory.get.invalidate({ sessionId }), utils.memory.summaries.invalidate({ sessionId })]);
          return;
        case 'deleted':
          removeMessages(queryClient, sessionId, new Set(event.uuids));
          // The memory window refills with older messages.
          void utils.memory.get.invalidate({ sessionId });
          return;
        case 'session-deleted':
        case 'reset':
          void Promise.all([
            utils.memory.get.invalidate({ sessionId }),
            utils.message.list.invalidate({ sessionId }),
            utils.memory.search.invalidate({ sessionId }),
            utils.memory.summaries.invalidate({ sessionId }),
          ]);
      }
    },
  });
}

/**
 * Keeps the cached session lists and sessions live while mounted: one user's (`userId`), or all
 * (`useSessions`/`useUserSessions` with `live: true`).
 */
export function useLiveSessions(enabled: boolean, userId?: string) {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  trpc.session.onChange.useSubscription(enabled ? { userId } : skipToken, {
    onData: ({ data: event }) => {
      switch (event.type) {
        case 'session': {
          const { session } = event;
          utils.session.get.setData({ sessionId: session.sessionId }, session);
          // Lists sorted by activity or filtered may now hold it elsewhere, or not at all: they re-fetch.
          void invalidateSessionLists(queryClient, (input) => input.sort === 'activity' || isFiltered(input));
          if (isInCachedLists(queryClient, session.sessionId)) {
            updateLists<Session>(queryClient, keys.sessionLists(), (items) =>
              replaceBy(
                items,
                (s) => s.sessionId,
                new Map([[session.sessionId, { ...items.find((s) => s.sessionId === session.sessionId), ...session }]]),
              ),
            );
          } else void Promise.all([utils.session.list.invalidate(), utils.user.sessions.invalidate()]); // a new session
          return;
        }
        case 'session-deleted':
          updateLists<Session>(queryClient, keys.sessionLists(), (items) => items.filter((s) => s.sessionId !== event.sessionId));
          void utils.session.get.invalidate({ sessionId: event.sessionId });
          return;
        case 'reset':
          void Promise.all([utils.session.list.invalidate(), utils.user.sessions.invalidate()]);
      }
    },
  });
}

type ListInput = Exclude<RouterInputs['session']['list'], void | undefined>;
const isFiltered = (input: ListInput) =>
  Boolean(input.metadata && Object.keys(input.metadata).length) ||
  Boolean(input.createdAfter || input.createdBefore || input.updatedAfter || input.updatedBefore);

/** Invalidates the cached session lists whose input passes `which` (read from tRPC's key: `[path, { input }]`). */
function invalidateSessionLists(queryClient: ReturnType<typeof useQueryClient>, which: (input: ListInput) => boolean) {
  return Promise.all(
    keys.sessionLists().map((queryKey) =>
      queryClient.invalidateQueries({
        queryKey,
        predicate: (query) => which((query.queryKey[1] as { input?: ListInput } | undefined)?.input ?? {}),
      }),
    ),
  );
}
