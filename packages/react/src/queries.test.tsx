import { QueryClientProvider, useQuery, useSuspenseQuery } from '@tanstack/react-query';
import { render, screen, waitFor } from '@testing-library/react';
import { Suspense } from 'react';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  allItems,
  createMnemoTRPCClient,
  type Memory,
  MnemoProvider,
  mnemoQueries,
  useMemory,
  useMessages,
  useSessions,
  useUsers,
} from './index';
import { createTestQueryClient, renderMnemoHook, uniqueId, useTestServer } from './test/harness';

const server = useTestServer();

async function sessionWithMessages(count: number): Promise<string> {
  const sessionId = uniqueId('q');
  await server().core.memory.add({
    sessionId,
    messages: Array.from({ length: count }, (_, i) => ({ role: 'user', content: `m${i + 1}` })),
  });
  return sessionId;
}

/** A fetch that counts the tRPC calls it carries (a batch of n calls counts n). */
function countingFetch() {
  const calls: string[] = [];
  const counted: typeof fetch = (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    calls.push(...url.pathname.replace(/^.*\/trpc\//, '').split(','));
    return globalThis.fetch(input, init);
  };
  return { fetch: counted, calls };
}

describe('TanStack options on the hooks', () => {
  it('honours select, enabled and staleTime', async () => {
    const sessionId = await sessionWithMessages(3);
    const { result } = renderMnemoHook(
      () => ({
        count: useMemory(sessionId, { select: (m) => m.messages.length, staleTime: 60_000 }),
        off: useMemory(sessionId, { lastn: 1, enabled: false }),
        plain: useMemory(sessionId, { lastn: 2 }),
        firstIds: useSessions({ limit: 5 }, { select: (d) => d.pages[0]?.items.map((s) => s.sessionId) }),
      }),
      server(),
    );
    await waitFor(() => expect(result.current.count.isSuccess && result.current.plain.isSuccess).toBe(true));
    const count: number | undefined = result.current.count.data; // the type follows `select`
    expect(count).toBe(3);
    expect(result.current.count.isStale).toBe(false);
    expect(result.current.plain.isStale).toBe(true);
    expect(result.current.off.fetchStatus).toBe('idle');
    expect(result.current.off.data).toBeUndefined();
    await waitFor(() => expect(Array.isArray(result.current.firstIds.data)).toBe(true));
    expectTypeOf(result.current.firstIds.data).toEqualTypeOf<string[] | undefined>();
  });

  it('keeps the hooks’ result types for code that names them', () => {
    expectTypeOf<ReturnType<typeof useMemory>['data']>().toEqualTypeOf<Memory | undefined>();
    expectTypeOf<NonNullable<ReturnType<typeof useUsers>['data']>['pages'][number]['items']>().not.toBeUnknown();
  });

  it('placeholderData shows while a new window loads', async () => {
    const sessionId = await sessionWithMessages(3);
    const { result, rerender } = renderMnemoHook(
      ({ lastn }: { lastn: number } = { lastn: 1 }) => useMemory(sessionId, { lastn, placeholderData: (previous) => previous }),
      server(),
    );
    await waitFor(() => expect(result.current.data?.messages).toHaveLength(1));
    rerender({ lastn: 2 });
    expect(result.current.isPlaceholderData).toBe(true);
    expect(result.current.data?.messages).toHaveLength(1);
    await waitFor(() => expect(result.current.data?.messages).toHaveLength(2));
  });
});

describe('mnemoQueries', () => {
  it('a prefetched factory query is what useMemory shows, without a second request', async () => {
    const sessionId = await sessionWithMessages(2);
    const counter = countingFetch();
    const queryClient = createTestQueryClient();
    const queries = mnemoQueries(createMnemoTRPCClient({ url: server().url, fetch: counter.fetch }));
    await queryClient.prefetchQuery(queries.memory(sessionId, { lastn: 5 }));
    await queryClient.prefetchInfiniteQuery(queries.messages(sessionId, { order: 'desc' }));
    expect(counter.calls).toEqual(['memory.get', 'message.list']);

    const { result } = renderMnemoHook(() => useMemory(sessionId, { lastn: 5, staleTime: 60_000 }), {
      ...server(),
      fetch: counter.fetch,
      queryClient,
    });
    expect(result.current.isSuccess).toBe(true); // at the first render: from the cache
    expect(result.current.data?.messages.map((m) => m.content)).toEqual(['m1', 'm2']);
    expect(result.current.data).toBe(queryClient.getQueryData(queries.memory(sessionId, { lastn: 5 }).queryKey));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(counter.calls).toEqual(['memory.get', 'message.list']);

    // The paged factory is useMessages' query too.
    const { result: list } = renderMnemoHook(() => useMessages(sessionId, { order: 'desc', staleTime: 60_000 }), {
      ...server(),
      fetch: counter.fetch,
      queryClient,
    });
    expect(allItems(list.current.data).map((m) => m.content)).toEqual(['m2', 'm1']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(counter.calls).toEqual(['memory.get', 'message.list']);
  });

  it('works with useSuspenseQuery: suspends, then renders the data', async () => {
    const sessionId = await sessionWithMessages(2);
    const queryClient = createTestQueryClient();
    const queries = mnemoQueries(createMnemoTRPCClient({ url: server().url }));
    let fallbacks = 0;
    function Fallback() {
      fallbacks += 1;
      return <p>loading</p>;
    }
    function Chat() {
      const { data } = useSuspenseQuery(queries.memory(sessionId));
      const again = useQuery(queries.session(sessionId));
      return (
        <p>
          {data.messages.map((m) => m.content).join(',')} {again.data?.sessionId}
        </p>
      );
    }
    render(
      <MnemoProvider url={server().url} queryClient={queryClient}>
        <QueryClientProvider client={queryClient}>
          <Suspense fallback={<Fallback />}>
            <Chat />
          </Suspense>
        </QueryClientProvider>
      </MnemoProvider>,
    );
    expect(screen.getByText('loading')).toBeTruthy();
    await waitFor(() => expect(screen.getByText(`m1,m2 ${sessionId}`)).toBeTruthy());
    expect(fallbacks).toBeGreaterThan(0);
  });
});
