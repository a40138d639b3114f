/**
 * What the MCP tools and resources may call: a handful of tRPC procedures, with the router's own
 * input and output types. Over HTTP (`/mcp`) it is the request's `createCaller(ctx)`, so auth, scope
 * (core's scope.ts), validation and domain errors are the router's; `mnemo mcp` (stdio) gives the
 * same calls through the typed tRPC client to a running server, whose rules then apply.
 */
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import { TRPCError } from '@trpc/server';
import { EventSource } from 'eventsource';
import superjson from 'superjson';
import type { createCaller } from '../router';
import type { AppRouter } from '../router';

type Caller = ReturnType<typeof createCaller>;

export interface MemoryApi {
  memory: Pick<Caller['memory'], 'add' | 'get' | 'search'>;
  user: Pick<Caller['user'], 'search'>;
  session: Pick<Caller['session'], 'add' | 'get' | 'list' | 'update'>;
}

/**
 * Who the token belongs to, as far as the tools need it: a user token's user is the default user of
 * the tools that search or list a user's sessions; an admin names the user in each call.
 */
export type McpPrincipal = { role: 'admin' } | { role: 'user'; userId: string };

/** What changed in the sessions a token sees: one session (`deleted` when it is gone), or `reset`: anything may have. */
export type SessionChange = { sessionId: string; deleted: boolean } | 'reset';
/** Calls `onChange` for each change of one user's sessions (all sessions: undefined) until the returned function is called. */
export type WatchSessions = (userId: string | undefined, onChange: (change: SessionChange) => void) => () => void;

/**
 * The calls over the typed tRPC client, as `@mnemo/client` makes it (superjson, batched; the token as a
 * bearer header, and as a connection parameter of the live events' SSE, which cannot send headers). The
 * server cannot depend on `@mnemo/client`, whose types come from this package (a dependency cycle), so it
 * builds the same client from `@trpc/client` and the router's type.
 */
export function remoteApi({ url, token }: { url: string; token?: string }): MemoryApi & { watchSessions: WatchSessions } {
  const trpcUrl = `${url.replace(/\/+$/, '')}/trpc`;
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url: trpcUrl, transformer: superjson, EventSource, ...(token && { connectionParams: { token } }) }),
        false: httpBatchLink({ url: trpcUrl, transformer: superjson, headers: token ? { authorization: `Bearer ${token}` } : {} }),
      }),
    ],
  });
  return {
    // The subscription reconnects by itself, resuming from the last event it saw (or starting with a reset).
    watchSessions(userId, onChange) {
      const subscription = client.session.onChange.subscribe(
        { userId },
        {
          onData: ({ data: event }) =>
            onChange(
              event.type === 'reset'
                ? 'reset'
                : event.type === 'session'
                  ? { sessionId: event.session.sessionId, deleted: false }
                  : { sessionId: event.sessionId, deleted: true },
            ),
        },
      );
      return () => subscription.unsubscribe();
    },
    memory: {
      add: (input) => client.memory.add.mutate(input),
      get: (input) => client.memory.get.query(input),
      search: (input) => client.memory.search.query(input),
    },
    user: { search: (input) => client.user.search.query(input) },
    session: {
      add: (input) => client.session.add.mutate(input),
      get: (input) => client.session.get.query(input),
      list: (input) => client.session.list.query(input),
      update: (input) => client.session.update.mutate(input),
    },
  };
}

/** The tRPC error code of a failed call, whichever side it failed on (a caller's TRPCError or a client's TRPCClientError). */
export function trpcCodeOf(error: unknown): string | undefined {
  if (error instanceof TRPCError) return error.code;
  if (error instanceof TRPCClientError) return (error.data as { code?: string } | undefined)?.code;
  return undefined;
}
