/**
 * The typed tRPC client. Every type comes from the server's `AppRouter` (a type-only import):
 * inputs, outputs and error shapes are inferred, never re-declared here.
 */
import type { AppRouter } from '@mnemo/server/router';
import {
  createTRPCClient,
  httpBatchLink,
  httpSubscriptionLink,
  splitLink,
  type TRPCClient,
  TRPCClientError,
  type TRPCLink,
  isTRPCClientError as isAnyTRPCClientError,
} from '@trpc/client';
import superjson from 'superjson';
import { createTokenCache, type GetToken, retryingOn401 } from './token-cache';

export type { AppRouter, RouterInputs, RouterOutputs } from '@mnemo/server/router';
export { TRPCClientError };
export type { GetToken } from './token-cache';

/** Optional fields also take `undefined` (`apiKey: process.env.MNEMO_TOKEN` under exactOptionalPropertyTypes). */
export interface MnemoClientOptions {
  /** Base URL of the Mnemo server, e.g. `http://localhost:8000` (tRPC lives at `${url}/trpc`). */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>` when given (an HS256 JWT signed with `MNEMO_AUTH_SECRET`). */
  apiKey?: string | undefined;
  /**
   * Instead of `apiKey`: returns a token (e.g. a user token fetched from the app's backend). Called for the first
   * request; its token is then reused until shortly before its `exp` (30 s, or a quarter of its lifetime), and
   * replaced at once when a request comes back 401 (that request is retried once with the new token).
   */
  getToken?: GetToken | undefined;
  /** A fetch implementation, for runtimes or tests that need their own. */
  fetch?: typeof globalThis.fetch | undefined;
  /**
   * The EventSource the subscriptions (`message.onChange`, `session.onChange`) use: browsers have one; in Node
   * (22 and 24 have one only behind --experimental-eventsource) pass one, e.g. `import { EventSource } from 'eventsource'`.
   */
  EventSource?: AnyEventSource | undefined;
}

export type MnemoClient = ReturnType<typeof createMnemoClient>;
/** Any EventSource constructor (the global one, or a ponyfill such as the `eventsource` package's). */
type AnyEventSource = NonNullable<Parameters<typeof httpSubscriptionLink>[0]['EventSource']>;

/** Strips trailing slashes so `${base}/trpc` never becomes `//trpc`. */
export function trimBaseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * The batch link every Mnemo client uses (this one and @mnemo/react's). Calls made in the same tick
 * go in one request, at most 20 per request and in URLs of at most 2,000 characters, so any number
 * of them works (one GET of 100 batched calls outgrew the server's URL limits).
 */
export function mnemoBatchLink(options: MnemoClientOptions, credentials: Credentials = credentialsOf(options)): TRPCLink<AppRouter> {
  const fetch = credentials.fetch ?? options.fetch;
  return httpBatchLink<AppRouter>({
    url: `${trimBaseUrl(options.url)}/trpc`,
    transformer: superjson,
    headers: async () => {
      const token = await credentials.token();
      return token ? { Authorization: `Bearer ${token}` } : {};
    },
    maxItems: 20,
    maxURLLength: 2000,
    ...(fetch && { fetch }),
  });
}

/** Where a client's token comes from: `apiKey` as it is, or `getToken` through a cache (and a fetch that retries a 401). */
interface Credentials {
  token: () => string | undefined | Promise<string>;
  fetch?: typeof globalThis.fetch;
}

function credentialsOf({ apiKey, getToken, fetch }: MnemoClientOptions): Credentials {
  if (!getToken) return { token: () => apiKey };
  if (apiKey) throw new TypeError('pass apiKey or getToken, not both');
  const cache = createTokenCache(getToken);
  return { token: cache.get, fetch: retryingOn401(cache, fetch) };
}

/**
 * Every Mnemo client's links (this one's and @mnemo/react's): subscriptions over SSE (the token
 * as a connection parameter: EventSource cannot send headers), everything else batched.
 */
export function mnemoLinks(options: MnemoClientOptions): TRPCLink<AppRouter>[] {
  const { url, EventSource } = options;
  const credentials = credentialsOf(options);
  return [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: httpSubscriptionLink<AppRouter, AnyEventSource>({
        url: `${trimBaseUrl(url)}/trpc`,
        transformer: superjson,
        // Read at every (re)connection, so a reconnecting subscription gets a fresh token.
        ...((options.apiKey || options.getToken) && { connectionParams: async () => ({ token: (await credentials.token())! }) }),
        ...(EventSource && { EventSource }),
      }),
      false: mnemoBatchLink(options, credentials),
    }),
  ];
}

export function createMnemoClient(options: MnemoClientOptions): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({ links: mnemoLinks(options) });
}

/** True for errors thrown by a Mnemo client call; `err.data?.code` is then the tRPC error code. */
export function isTRPCClientError(cause: unknown): cause is TRPCClientError<AppRouter> {
  return isAnyTRPCClientError<AppRouter>(cause);
}
