import { act, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import {
  allItems,
  describeError,
  useAddMemory,
  useMemory,
  useMessages,
  useSearchMemory,
  useSearchUser,
  useSession,
  useSessions,
  useUpdateMessage,
  withUuids,
} from './index';
import { createGatedFetch, fetchAllPages, renderMnemoHook, uniqueId, useTestServer } from './test/harness';

const server = useTestServer();

/** A session holding `count` messages "m1".."m<count>", alternating user/assistant. */
async function sessionWithMessages(count: number): Promise<string> {
  const sessionId = uniqueId('chat');
  const messages = Array.from({ length: count }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: `m${i + 1}`,
  }));
  await server().core.memory.add({ sessionId, messages });
  return sessionId;
}

const contents = (messages: { content: string }[] | undefined) => messages?.map((m) => m.content);

describe('memory and message queries', () => {
  it('useMemory returns the last N messages, oldest first', async () => {
    const sessionId = await sessionWithMessages(5);
    const { result } = renderMnemoHook(() => ({ last3: useMemory(sessionId, { lastn: 3 }), all: useMemory(sessionId) }), server());
    await waitFor(() => expect(result.current.last3.isSuccess && result.current.all.isSuccess).toBe(true));
    expect(contents(result.current.last3.data?.messages)).toEqual(['m3', 'm4', 'm5']);
    expect(contents(result.current.all.data?.messages)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(result.current.all.data?.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('useMessages pages through a session in order, to the end', async () => {
    const sessionId = await sessionWithMessages(5);
    const { result } = renderMnemoHook(() => useMessages(sessionId, { limit: 2 }), server());
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    await fetchAllPages(result);
    expect(result.current.data?.pages.map((p) => contents(p.items))).toEqual([['m1', 'm2'], ['m3', 'm4'], ['m5']]);
  });
});

describe('useAddMemory', () => {
  it('shows the messages at once, reconciles them with the server’s, then re-fetches', async () => {
    const sessionId = await sessionWithMessages(2);
    const gate = createGatedFetch();
    const { result } = renderMnemoHook(
      () => ({
        memory: useMemory(sessionId),
        messages: useMessages(sessionId),
        firstPage: useMessages(sessionId, { limit: 1 }),
        add: useAddMemory(),
      }),
      { ...server(), fetch: gate.fetch },
    );
    await waitFor(() =>
      expect(result.current.memory.isSuccess && result.current.messages.isSuccess && result.current.firstPage.isSuccess).toBe(true),
    );

    gate.hold();
    act(() =>
      result.current.add.mutate({
        sessionId,
        messages: [
          { role: 'user', content: 'hello there' },
          { role: 'assistant', content: 'hi!', metadata: { model: 'x' } },
        ],
      }),
    );
    await waitFor(() => expect(contents(result.current.memory.data?.messages)).toEqual(['m1', 'm2', 'hello there', 'hi!']));
    const sent = result.current.add.variables!.messages.map((m) => m.uuid);
    expect(result.current.memory.data?.messages.slice(2).map((m) => m.uuid)).toEqual(sent);
    expect(contents(allItems(result.current.messages.data))).toEqual(['m1', 'm2', 'hello there', 'hi!']);
    // A list whose end is not loaded yet does not get them appended to its first page.
    expect(contents(allItems(result.current.firstPage.data))).toEqual(['m1']);
    expect(result.current.add.isPending).toBe(true);

    // Someone else writes meanwhile: the re-fetch after the mutation brings it in.
    await server().core.memory.add({ sessionId, messages: [{ role: 'user', content: 'from elsewhere' }] });
    gate.release();
    await waitFor(() => expect(result.current.add.isSuccess).toBe(true));
    await waitFor(() =>
      expect(contents(result.current.memory.data?.messages)).toEqual(['m1', 'm2', 'from elsewhere', 'hello there', 'hi!']),
    );
    const stored = (await server().core.memory.get({ sessionId })).messages;
    expect(result.current.memory.data?.messages).toEqual(stored);
    expect(stored.slice(3).map((m) => m.uuid)).toEqual(sent);
    expect(stored.slice(3).map((m) => m.seq)).toEqual([4, 5]);
    expect(stored[4]?.tokenCount).toBeGreaterThan(0);
    await waitFor(() => expect(allItems(result.current.messages.data)).toEqual(stored));
  });

  it('reconciles exactly: the optimistic message keeps its uuid and takes the server’s seq and tokenCount', async () => {
    const sessionId = await sessionWithMessages(1);
    const gate = createGatedFetch();
    const { result } = renderMnemoHook(() => ({ memory: useMemory(sessionId), add: useAddMemory() }), {
      ...server(),
      fetch: gate.fetch,
    });
    await waitFor(() => expect(result.current.memory.isSuccess).toBe(true));
    gate.hold();
    act(() => result.current.add.mutate({ sessionId, messages: [{ role: 'user', content: 'count my tokens please' }] }));
    await waitFor(() => expect(result.current.memory.data?.messages).toHaveLength(2));
    const optimistic = result.current.memory.data!.messages[1]!;
    expect(optimistic).toMatchObject({ seq: 2, tokenCount: 0, content: 'count my tokens please' });

    // Let the mutation through but hold the re-fetch after it, to see the reconciled cache itself.
    gate.release({ thenHold: true });
    await waitFor(() => expect(result.current.memory.data?.messages[1]?.tokenCount).toBeGreaterThan(0));
    const reconciled = result.current.memory.data!.messages[1]!;
    expect(reconciled.uuid).toBe(optimistic.uuid);
    expect(reconciled).toEqual((await server().core.memory.get({ sessionId })).messages[1]);
    // The mutation stays pending until the re-fetch it started is back.
    expect(result.current.add.isPending).toBe(true);
    gate.release();
    await waitFor(() => expect(result.current.add.isSuccess).toBe(true));
  });

  it('rolls back when the server rejects the batch, and resending the same uuid stores it once', async () => {
    const sessionId = await sessionWithMessages(2);
    const gate = createGatedFetch();
    const { result } = renderMnemoHook(() => ({ memory: useMemory(sessionId), messages: useMessages(sessionId), add: useAddMemory() }), {
      ...server(),
      fetch: gate.fetch,
    });
    await waitFor(() => expect(result.current.memory.isSuccess && result.current.messages.isSuccess).toBe(true));
    const memoryBefore = result.current.memory.data;
    const messagesBefore = result.current.messages.data;

    gate.hold();
    act(() => result.current.add.mutate({ sessionId, messages: [{ role: 'user', content: 'bad', metadata: { 'a.b': 1 } }] }));
    await waitFor(() => expect(contents(result.current.memory.data?.messages)).toEqual(['m1', 'm2', 'bad']));
    gate.release();
    await waitFor(() => expect(result.current.add.isError).toBe(true));
    expect(describeError(result.current.add.error)).toContain('must not contain "."');
    expect(result.current.memory.data).toEqual(memoryBefore);
    expect(result.current.messages.data).toEqual(messagesBefore);
    expect(contents((await server().core.memory.get({ sessionId })).messages)).toEqual(['m1', 'm2']);

    const message = { role: 'user', content: 'once', uuid: crypto.randomUUID() };
    await act(() => result.current.add.mutateAsync({ sessionId, messages: [message] }));
    await act(() => result.current.add.mutateAsync({ sessionId, messages: [message] }));
    await waitFor(() => expect(contents(result.current.memory.data?.messages)).toEqual(['m1', 'm2', 'once']));
  });

  it('sends one after another: quick successive sends are stored in the order they were made', async () => {
    const sessionId = await sessionWithMessages(1);
    const gate = createGatedFetch();
    const { result } = renderMnemoHook(() => ({ memory: useMemory(sessionId), add: useAddMemory() }), {
      ...server(),
      fetch: gate.fetch,
    });
    await waitFor(() => expect(result.current.memory.isSuccess).toBe(true));
    gate.hold();
    act(() => {
      result.current.add.mutate({ sessionId, messages: [{ role: 'user', content: 'first' }] });
      result.current.add.mutate({ sessionId, messages: [{ role: 'user', content: 'second' }] });
    });
    await waitFor(() => expect(contents(result.current.memory.data?.messages)).toEqual(['m1', 'first', 'second']));
    gate.release();
    await waitFor(async () =>
      expect(contents((await server().core.memory.get({ sessionId })).messages)).toEqual(['m1', 'first', 'second']),
    );
    await waitFor(async () => expect(result.current.memory.data).toEqual(await server().core.memory.get({ sessionId })));
  });

  it('shows a message sent during the first load at once, then the server’s messages with it exactly once', async () => {
    const sessionId = await sessionWithMessages(3);
    const gate = createGatedFetch();
    gate.hold(); // the first memory.get and message.list stay on their way
    const { result } = renderMnemoHook(
      () => ({
        memory: useMemory(sessionId),
        last2: useMemory(sessionId, { lastn: 2 }),
        scrollBack: useMessages(sessionId, { order: 'desc' }),
        add: useAddMemory(),
      }),
      { ...server(), fetch: gate.fetch },
    );
    await waitFor(() => expect(result.current.memory.fetchStatus).toBe('fetching'));
    expect(result.current.memory.data).toBeUndefined();

    act(() =>
      result.current.add.mutate({
        sessionId,
        messages: [
          { role: 'user', content: 'first' },
          { role: 'user', content: 'sent while loading' },
          { role: 'user', content: 'third' },
        ],
      }),
    );
    await waitFor(() => expect(contents(result.current.memory.data?.messages)).toEqual(['first', 'sent while loading', 'third']), {
      interval: 1,
    });
    // The server is held back (the gate; the add is still pending below): only the optimistic update can show it.
    expect(result.current.memory.isSuccess).toBe(true);
    expect(contents(result.current.last2.data?.messages)).toEqual(['sent while loading', 'third']);
    expect(contents(allItems(result.current.scrollBack.data))).toEqual(['third', 'sent while loading', 'first']);
    expect(result.current.add.isPending).toBe(true);

    gate.release();
    await waitFor(() => expect(result.current.add.isSuccess).toBe(true));
    const expected = ['m1', 'm2', 'm3', 'first', 'sent while loading', 'third'];
    await waitFor(() => expect(contents(result.current.memory.data?.messages)).toEqual(expected));
    await waitFor(() => expect(contents(result.current.last2.data?.messages)).toEqual(['sent while loading', 'third']));
    await waitFor(() => expect(contents(allItems(result.current.scrollBack.data))).toEqual([...expected].reverse()));
    const stored = (await server().core.memory.get({ sessionId })).messages;
    expect(contents(stored)).toEqual(expected);
    expect(result.current.memory.data?.messages).toEqual(stored);
    expect(result.current.last2.data?.messages).toEqual(stored.slice(-2));
  });

  it('adding to a new session creates it and refreshes the session lists', async () => {
    const sessionId = uniqueId('fresh');
    const { result } = renderMnemoHook(() => ({ list: useSessions(), add: useAddMemory() }), server());
    await waitFor(() => expect(result.current.list.isSuccess).toBe(true));
    await act(() => result.current.add.mutateAsync({ sessionId, messages: [{ role: 'user', content: 'first' }] }));
    await waitFor(() => expect(allItems(result.current.list.data).map((s) => s.sessionId)).toContain(sessionId));
  });
});

describe('useUpdateMessage', () => {
  it('merges into the cached message at once, then takes the server’s message; rolls back on rejection', async () => {
    const sessionId = await sessionWithMessages(2);
    const [first] = (await server().core.memory.get({ sessionId })).messages;
    await server().core.memory.updateMessage({ sessionId, uuid: first!.uuid, metadata: { tags: { a: 1 } } });
    const gate = createGatedFetch();
    const { result } = renderMnemoHook(
      () => ({
        memory: useMemory(sessionId),
        messages: useMessages(sessionId),
        session: useSession(sessionId),
        update: useUpdateMessage(),
      }),
      { ...server(), fetch: gate.fetch },
    );
    await waitFor(() => expect(result.current.memory.isSuccess && result.current.messages.isSuccess).toBe(true));
    const metaOf = () => [result.current.memory.data?.messages[0]?.metadata, allItems(result.current.messages.data)[0]?.metadata];

    gate.hold();
    act(() => result.current.update.mutate({ sessionId, uuid: first!.uuid, metadata: { tags: { b: 2 }, system: { no: 1 } } }));
    await waitFor(() => expect(metaOf()).toEqual([{ tags: { a: 1, b: 2 } }, { tags: { a: 1, b: 2 } }]));
    gate.release();
    await waitFor(() => expect(result.current.update.isSuccess).toBe(true));
    const stored = await server().core.memory.message({ sessionId, uuid: first!.uuid });
    expect(stored.metadata).toEqual({ tags: { a: 1, b: 2 } });
    expect(result.current.memory.data?.messages[0]).toEqual(stored);

    gate.hold();
    act(() => result.current.update.mutate({ sessionId, uuid: first!.uuid, metadata: { $bad: true } }));
    await waitFor(() => expect(metaOf()[0]).toEqual({ tags: { a: 1, b: 2 }, $bad: true }));
    gate.release();
    await waitFor(() => expect(result.current.update.isError).toBe(true));
    expect(metaOf()).toEqual([{ tags: { a: 1, b: 2 } }, { tags: { a: 1, b: 2 } }]);
  });

  it('useSearchMemory finds messages and is refreshed when messages are added', async () => {
    const sessionId = await sessionWithMessages(2);
    const { result } = renderMnemoHook(() => ({ search: useSearchMemory({ sessionId, text: 'penguins' }), add: useAddMemory() }), server());
    await waitFor(() => expect(result.current.search.isSuccess).toBe(true));
    expect(result.current.search.data).toEqual([]);
    await act(() =>
      result.current.add.mutateAsync(withUuids({ sessionId, messages: [{ role: 'user', content: 'Penguins cannot fly.' }] })),
    );
    await waitFor(() => expect(result.current.search.data?.map((r) => r.message.content)).toEqual(['Penguins cannot fly.']));
  });

  it('useSearchUser searches all of a user’s sessions, names their sessions, and is refreshed when messages are added', async () => {
    const userId = uniqueId('user');
    const [first, second, stranger] = [uniqueId('chat'), uniqueId('chat'), uniqueId('nobody')];
    await server().core.users.add({ userId });
    for (const sessionId of [first, second]) await server().core.sessions.add({ sessionId, userId });
    await server().core.memory.add({ sessionId: first, messages: [{ role: 'user', content: 'Otters nap on the ice.' }] });
    await server().core.memory.add({ sessionId: uniqueId('chat'), messages: [{ role: 'user', content: 'Otters of nobody.' }] });
    const { result } = renderMnemoHook(
      () => ({
        search: useSearchUser({ userId, text: 'otter' }),
        idle: useSearchUser(undefined),
        unknown: useSearchUser({ userId: stranger, text: 'otter' }),
        add: useAddMemory(),
      }),
      server(),
    );
    await waitFor(() => expect(result.current.search.isSuccess).toBe(true));
    expect(result.current.search.data?.map((r) => [r.message.sessionId, r.message.content])).toEqual([[first, 'Otters nap on the ice.']]);
    expect(result.current.idle.fetchStatus).toBe('idle');
    await waitFor(() => expect(result.current.unknown.isError).toBe(true));
    expect(describeError(result.current.unknown.error)).toMatch(/not found/);

    await act(() =>
      result.current.add.mutateAsync(withUuids({ sessionId: second, messages: [{ role: 'user', content: 'An otter, an otter!' }] })),
    );
    await waitFor(() =>
      expect(result.current.search.data?.map((r) => [r.message.sessionId, r.message.content])).toEqual([
        [second, 'An otter, an otter!'],
        [first, 'Otters nap on the ice.'],
      ]),
    );
  });
});
