/** The chat hooks against a real server: new chats, scroll-back, edit, delete, regenerate, live updates between "tabs". */
import { act, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import {
  allItems,
  useAddMemory,
  useDeleteMessage,
  useMemory,
  useMessages,
  useRestoreMessage,
  useTruncateMessages,
  useUpdateMessage,
  useUserSessions,
  withUuids,
} from './index';
import { createGatedFetch, fetchAllPages, renderMnemoHook, uniqueId, useTestServer } from './test/harness';

const server = useTestServer();
const contents = (messages: { content: string }[] | undefined) => messages?.map((m) => m.content);

async function chat(count: number): Promise<string> {
  const sessionId = uniqueId('chat');
  const messages = Array.from({ length: count }, (_, i) => ({
    uuid: `m${i + 1}`,
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: `m${i + 1}`,
  }));
  await server().core.memory.add({ sessionId, messages });
  return sessionId;
}

describe('chat hooks', () => {
  it('a new chat loads as an empty history, not an error', async () => {
    const sessionId = uniqueId('new');
    const { result } = renderMnemoHook(
      () => ({ memory: useMemory(sessionId), messages: useMessages(sessionId, { order: 'desc' }) }),
      server(),
    );
    await waitFor(() => expect(result.current.memory.isSuccess && result.current.messages.isSuccess).toBe(true));
    expect(result.current.memory.data).toEqual({ messages: [] });
    expect(allItems(result.current.messages.data)).toEqual([]);
  });

  it('useMessages({ order: "desc" }) opens at the newest messages and loads older ones page by page', async () => {
    const sessionId = await chat(5);
    const { result } = renderMnemoHook(() => useMessages(sessionId, { order: 'desc', limit: 2 }), server());
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(contents(allItems(result.current.data))).toEqual(['m5', 'm4']);
    await act(() => result.current.fetchNextPage());
    await act(() => result.current.fetchNextPage());
    await waitFor(() => expect(contents(allItems(result.current.data))).toEqual(['m5', 'm4', 'm3', 'm2', 'm1']));
    expect(result.current.hasNextPage).toBe(false);
  });

  it('edits, deletes and truncates optimistically, and rolls back what the server refuses', async () => {
    const sessionId = await chat(4);
    const gate = createGatedFetch();
    const { result } = renderMnemoHook(
      () => ({
        memory: useMemory(sessionId),
        older: useMessages(sessionId, { order: 'desc' }),
        update: useUpdateMessage(),
        remove: useDeleteMessage(),
        truncate: useTruncateMessages(),
      }),
      { ...server(), fetch: gate.fetch },
    );
    await waitFor(() => expect(result.current.memory.isSuccess && result.current.older.isSuccess).toBe(true));
    const shown = () => [contents(result.current.memory.data?.messages), contents(allItems(result.current.older.data))];

    gate.hold();
    act(() => result.current.update.mutate({ sessionId, uuid: 'm2', append: ' (edited)' }));
    await waitFor(() =>
      expect(shown()).toEqual([
        ['m1', 'm2 (edited)', 'm3', 'm4'],
        ['m4', 'm3', 'm2 (edited)', 'm1'],
      ]),
    );
    gate.release({ thenHold: true });
    await waitFor(() => expect(result.current.update.isSuccess).toBe(true));

    act(() => result.current.truncate.mutate({ sessionId, uuid: 'm2' }));
    await waitFor(() =>
      expect(shown()).toEqual([
        ['m1', 'm2 (edited)'],
        ['m2 (edited)', 'm1'],
      ]),
    );
    gate.release(); // its re-fetches go through too
    await waitFor(() => expect(result.current.truncate.isSuccess).toBe(true));

    gate.hold();
    act(() => result.current.remove.mutate({ sessionId, uuid: 'no-such-message' }));
    gate.release();
    await waitFor(() => expect(result.current.remove.isError).toBe(true));
    expect(shown()).toEqual([
      ['m1', 'm2 (edited)'],
      ['m2 (edited)', 'm1'],
    ]);
    expect(contents((await server().core.memory.get({ sessionId })).messages)).toEqual(['m1', 'm2 (edited)']);
  });
});

describe('undo', () => {
  it('useRestoreMessage puts a deleted message back in its place, in every cached page and window', async () => {
    const sessionId = await chat(5);
    const { result } = renderMnemoHook(
      () => ({
        memory: useMemory(sessionId),
        older: useMessages(sessionId, { order: 'desc', limit: 2 }),
        remove: useDeleteMessage(),
        restore: useRestoreMessage(),
      }),
      server(),
    );
    await waitFor(() => expect(result.current.memory.isSuccess && result.current.older.isSuccess).toBe(true));
    await act(() => result.current.older.fetchNextPage());
    await act(() => result.current.older.fetchNextPage());
    const shown = () => [contents(result.current.memory.data?.messages), contents(allItems(result.current.older.data))];
    await act(() => result.current.remove.mutateAsync({ sessionId, uuid: 'm3' }));
    await waitFor(() =>
      expect(shown()).toEqual([
        ['m1', 'm2', 'm4', 'm5'],
        ['m5', 'm4', 'm2', 'm1'],
      ]),
    );
    // No re-fetch brings it back (restore re-reads no list): the hook places the server's answer.
    await act(() => result.current.restore.mutateAsync({ sessionId, uuid: 'm3' }));
    await waitFor(() =>
      expect(shown()).toEqual([
        ['m1', 'm2', 'm3', 'm4', 'm5'],
        ['m5', 'm4', 'm3', 'm2', 'm1'],
      ]),
    );
    expect(contents((await server().core.memory.get({ sessionId })).messages)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
  });
});

describe('live updates', () => {
  it('two tabs of one chat see each other’s messages, edits and deletes', async () => {
    const sessionId = await chat(2);
    const tabA = renderMnemoHook(
      () => ({ memory: useMemory(sessionId, { live: true }), scroll: useMessages(sessionId, { order: 'desc', live: true }) }),
      server(),
    );
    const tabB = renderMnemoHook(
      () => ({ memory: useMemory(sessionId, { live: true }), add: useAddMemory(), remove: useDeleteMessage() }),
      server(),
    );
    await waitFor(() => expect(tabA.result.current.memory.isSuccess && tabB.result.current.memory.isSuccess).toBe(true));

    // Tab A neither polls nor refetches: only the live update can bring it the message (quickly, but
    // how quickly depends on the machine).
    await act(() => tabB.result.current.add.mutateAsync(withUuids({ sessionId, messages: [{ role: 'user', content: 'from tab B' }] })));
    await waitFor(() => expect(contents(tabA.result.current.memory.data?.messages)).toEqual(['m1', 'm2', 'from tab B']));
    await waitFor(() => expect(contents(allItems(tabA.result.current.scroll.data))).toEqual(['from tab B', 'm2', 'm1']));

    // A backend worker (core directly, no HTTP) streams a reply: the tab sees it grow.
    await server().core.memory.add({ sessionId, messages: [{ uuid: 'bot', role: 'assistant', content: 'Thinking', status: 'streaming' }] });
    await server().core.memory.updateMessage({ sessionId, uuid: 'bot', append: '… done', status: 'complete' });
    await waitFor(() =>
      expect(tabA.result.current.memory.data?.messages.at(-1)).toMatchObject({ content: 'Thinking… done', status: 'complete' }),
    );

    await act(() => tabB.result.current.remove.mutateAsync({ sessionId, uuid: 'm1' }));
    await waitFor(() => expect(contents(tabA.result.current.memory.data?.messages)).toEqual(['m2', 'from tab B', 'Thinking… done']));
  });

  it('a live chat scrolled far back is not re-read page by page after a send or a delete; a non-live one is', async () => {
    const sessionId = await chat(7);
    const reads = { live: 0, still: 0 };
    const counting =
      (which: keyof typeof reads): typeof fetch =>
      (input, init) => {
        if (String(input).includes('message.list')) reads[which] += 1;
        return fetch(input, init);
      };
    const render = (which: keyof typeof reads) =>
      renderMnemoHook(
        () => ({
          scroll: useMessages(sessionId, { order: 'desc', limit: 2, live: which === 'live' }),
          add: useAddMemory(),
          remove: useDeleteMessage(),
        }),
        { ...server(), fetch: counting(which) },
      );
    const live = render('live');
    const still = render('still');
    for (const tab of [live, still]) {
      await waitFor(() => expect(tab.result.current.scroll.isSuccess).toBe(true));
      await fetchAllPages({
        get current() {
          return tab.result.current.scroll;
        },
      });
    }
    const [liveBefore, stillBefore] = [reads.live, reads.still];
    await act(() => live.result.current.add.mutateAsync({ sessionId, messages: [{ role: 'user', content: 'sent live' }] }));
    await act(() => live.result.current.remove.mutateAsync({ sessionId, uuid: 'm3' }));
    const expected = ['sent live', 'm7', 'm6', 'm5', 'm4', 'm2', 'm1'];
    await waitFor(() => expect(contents(allItems(live.result.current.scroll.data))).toEqual(expected));
    // The other tab (not live) learns of those writes only through the re-read its own send makes.
    await act(() => still.result.current.add.mutateAsync({ sessionId, messages: [{ role: 'user', content: 'sent still' }] }));
    await waitFor(() => expect(contents(allItems(still.result.current.scroll.data))).toEqual(['sent still', ...expected]));
    await waitFor(() => expect(contents(allItems(live.result.current.scroll.data))).toEqual(['sent still', ...expected]));
    expect(reads.live - liveBefore).toBe(0);
    expect(reads.still - stillBefore).toBeGreaterThan(0);
  });

  it('a user’s session list shows sessions made elsewhere', async () => {
    const userId = uniqueId('u');
    await server().core.users.add({ userId });
    const { result } = renderMnemoHook(() => useUserSessions(userId, { live: true }), server());
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    await server().core.sessions.add({ sessionId: `${userId}-a`, userId });
    await waitFor(() => expect(allItems(result.current.data).map((s) => s.sessionId)).toEqual([`${userId}-a`]));
    await server().core.sessions.update({ sessionId: `${userId}-a`, metadata: { title: 'Renamed' } });
    await waitFor(() => expect(allItems(result.current.data)[0]?.metadata).toEqual({ title: 'Renamed' }));
    await server().core.sessions.delete({ sessionId: `${userId}-a` });
    await waitFor(() => expect(allItems(result.current.data)).toEqual([]));
  });
});
