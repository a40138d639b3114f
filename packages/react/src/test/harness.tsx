/**
 * Hook tests run against a real Mnemo server (HTTP + tRPC + database), one per test file. Each
 * render gets a fresh QueryClient (no retries) inside a MnemoProvider pointed at that server.
 */
import { startTestServer } from '@mnemo/server/testing';
import { QueryClient } from '@tanstack/react-query';
import { act, cleanup, renderHook, waitFor } from '@testing-library/react';
import { EventSource } from 'eventsource';
import type { ReactNode } from 'react';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { MnemoProvider } from '../provider';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
const clients: QueryClient[] = [];

/** Starts a server for this file (call at the top level); returns a getter. */
export function useTestServer(options: Parameters<typeof startTestServer>[0] = {}): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(options);
  });
  afterEach(() => {
    cleanup();
    for (const client of clients.splice(0)) client.clear();
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => server!;
}

/**
 * A fetch that can hold requests back until released, so a test can look at the cache while a
 * mutation is still on its way to the server. Requests go to the real server.
 */
export function createGatedFetch(base: typeof fetch = globalThis.fetch) {
  let holding = false;
  const waiting: (() => void)[] = [];
  const gated: typeof fetch = async (input, init) => {
    if (holding) await new Promise<void>((resolve) => waiting.push(resolve));
    return base(input, init);
  };
  return {
    fetch: gated,
    /** From now on, requests wait until `release()`. */
    hold() {
      holding = true;
    },
    /** Lets the waiting requests go; with `thenHold`, the ones after them wait again. */
    release({ thenHold = false } = {}) {
      holding = thenHold;
      for (const go of waiting.splice(0)) go();
    },
  };
}

/** A QueryClient without retries, cleared after each test. */
export function createTestQueryClient(): QueryClient {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  clients.push(queryClient);
  return queryClient;
}

export function renderMnemoHook<T>(
  hook: () => T,
  {
    url,
    apiKey,
    getToken,
    fetch,
    queryClient = createTestQueryClient(),
  }: {
    url: string;
    apiKey?: string;
    getToken?: () => string | Promise<string>;
    fetch?: typeof globalThis.fetch;
    queryClient?: QueryClient;
  },
) {
  const wrapper = ({ children }: { children: ReactNode }) => (
    <MnemoProvider url={url} apiKey={apiKey} getToken={getToken} queryClient={queryClient} fetch={fetch} EventSource={EventSource}>
      {children}
    </MnemoProvider>
  );
  const rendered = renderHook(hook, { wrapper });
  return { ...rendered, queryClient };
}

let counter = 0;
/** A unique id for this run (files share nothing, tests in a file share one database). */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

interface InfiniteLike {
  data?: { pages: unknown[] };
  hasNextPage: boolean;
  fetchNextPage: () => Promise<unknown>;
}

/** Loads page after page until the server says there are no more (as infinite scroll does). */
export async function fetchAllPages(result: { current: InfiniteLike }): Promise<void> {
  await waitFor(() => expect(result.current.data).toBeDefined());
  for (let guard = 0; result.current.hasNextPage; guard++) {
    if (guard === 50) throw new Error('more than 50 pages');
    const loaded = result.current.data!.pages.length;
    await act(() => result.current.fetchNextPage());
    await waitFor(() => expect(result.current.data!.pages.length).toBe(loaded + 1));
  }
}
