import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { type AppRouter, type GetToken, type MnemoClientOptions, mnemoLinks } from '@mnemo/client';
import type { TRPCClient } from '@trpc/client';
import { type ReactNode, useMemo, useRef, useState } from 'react';
import { errorStatus, isClientError } from './errors';
import { trpc } from './trpc';

export interface MnemoProviderProps {
  /** Base URL of the Mnemo server, e.g. `http://localhost:8000` (tRPC is served under `/trpc`). */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>` when the server has auth on. */
  apiKey?: string | undefined;
  /**
   * Instead of `apiKey`: returns a token, e.g. a user token from the app's backend (README, "Tokens for
   * browsers"). Its token is kept until shortly before its `exp`, then `getToken` is called again; a request
   * refused with 401 gets a new token and is retried once. May be a new function at every render (the latest
   * one is called); the client is not rebuilt for it.
   */
  getToken?: GetToken | undefined;
  /** The app's QueryClient; by default one is created that does not retry 4xx errors. */
  queryClient?: QueryClient | undefined;
  /** A fetch implementation for the tRPC link (defaults to the global one). */
  fetch?: typeof globalThis.fetch | undefined;
  /** The EventSource live updates use (browsers have one; in Node 20 tests, the `eventsource` package's). */
  EventSource?: MnemoClientOptions['EventSource'] | undefined;
  children: ReactNode;
}

/**
 * A QueryClient with Mnemo's defaults: 4xx errors are final; a network failure (no answer at all, e.g.
 * the server is down) is retried once after 300 ms, so a UI can say so promptly; server errors (5xx)
 * retry up to 3 times with the usual backoff.
 */
export function createMnemoQueryClient(): QueryClient {
  const isNetworkError = (error: unknown) => errorStatus(error) === undefined;
  const retry = (failureCount: number, error: unknown) => !isClientError(error) && failureCount < (isNetworkError(error) ? 1 : 3);
  const retryDelay = (failureCount: number, error: unknown) => (isNetworkError(error) ? 300 : Math.min(1000 * 2 ** failureCount, 30_000));
  return new QueryClient({ defaultOptions: { queries: { retry, retryDelay }, mutations: { retry: false } } });
}

export function createMnemoTRPCClient(options: MnemoClientOptions): TRPCClient<AppRouter> {
  return trpc.createClient({ links: mnemoLinks(options) });
}

/** Provides the tRPC client and the QueryClient every Mnemo hook uses. */
export function MnemoProvider({ url, apiKey, getToken, queryClient, fetch, EventSource, children }: MnemoProviderProps) {
  const [ownQueryClient] = useState(() => queryClient ?? createMnemoQueryClient());
  const client = queryClient ?? ownQueryClient;
  const latestGetToken = useRef(getToken);
  latestGetToken.current = getToken;
  const usesGetToken = getToken !== undefined;
  const trpcClient = useMemo(
    () => createMnemoTRPCClient({ url, apiKey, fetch, EventSource, ...(usesGetToken && { getToken: () => latestGetToken.current!() }) }),
    [url, apiKey, usesGetToken, fetch, EventSource],
  );
  return (
    <trpc.Provider client={trpcClient} queryClient={client}>
      <QueryClientProvider client={client}>{children}</QueryClientProvider>
    </trpc.Provider>
  );
}
