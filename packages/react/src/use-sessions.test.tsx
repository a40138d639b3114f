import { act, renderHook, waitFor } from '@testing-library/react';
import { getQueryKey } from '@trpc/react-query';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import {
  allItems,
  createMnemoQueryClient,
  describeError,
  errorStatus,
  MnemoProvider,
  trpc,
  useAddSession,
  useDeleteSession,
  useSession,
  useSessions,
  useUpdateSessionMetadata,
  useUserSessions,
} from './index';
import { createGatedFetch, fetchAllPages, renderMnemoHook, uniqueId, useTestServer } from './test/harness';

const server = useTestServer();

describe('session queries', () => {
  it('a sidebar: a user’s sessions by latest activity with previews, re-sorted live, filtered, with a total', async () => {
    const userId = uniqueId('sidebar');
    await server().core.users.add({ userId });
    for (const name of ['first', 'second', 'third']) {
      await server().core.sessions.add({ sessionId: `${userId}-${name}`, userId, metadata: { topic: name === 'second' ? 'work' : 'fun' } });
    }
    const { result } = renderMnemoHook(
      () => ({
        sidebar: useUserSessions(userId, { sort: 'activity', withLastMessage: true, withTotal: true, live: true }),
        work: useUserSessions(userId, { metadata: { 'metadata.topic': 'work' } }),
      }),
      server(),
    );
    await waitFor(() => expect(result.current.sidebar.isSuccess && result.current.work.isSuccess).toBe(true));
    const sidebar = () =>
      allItems(result.current.sidebar.data).map((s) => [s.sessionId.slice(userId.length + 1), s.lastMessage?.content ?? null]);
    expect(sidebar()).toEqual([
      ['third', null],
      ['second', null],
      ['first', null],
    ]);
    expect(result.current.sidebar.data?.pages[0]?.total).toBe(3);
    expect(allItems(result.current.work.data).map((s) => s.sessionId)).toEqual([`${userId}-second`]);

    await server().core.memory.add({ sessionId: `${userId}-first`, messages: [{ role: 'user', content: 'newest words' }] });
    await waitFor(() =>
      expect(sidebar()).toEqual([
        ['first', 'newest words'],
        ['third', null],
        ['second', null],
      ]),
    );
  });

  it('useSession returns the session with real Dates, and a 404 for an unknown id', async () => {
    const sessionId = uniqueId('one');
    await server().core.sessions.add({ sessionId, metadata: { topic: 'tea' } });
    const { result } = renderMnemoHook(() => ({ found: useSession(sessionId), missing: useSession('no-such-session') }), server());

    await waitFor(() => expect(result.current.found.isSuccess).toBe(true));
    expect(result.current.found.data).toMatchObject({ sessionId, userId: null, metadata: { topic: 'tea' } });
    expect(result.current.found.data?.createdAt).toBeInstanceOf(Date);
    await waitFor(() => expect(result.current.missing.isError).toBe(true));
    expect(errorStatus(result.current.missing.error)).toBe(404);
    expect(describeError(result.current.missing.error)).toContain('no-such-session');
  });

  it('the provider’s own QueryClient does not retry a 4xx', async () => {
    const { url } = server();
    const wrapper = ({ children }: { children: ReactNode }) => <MnemoProvider url={url}>{children}</MnemoProvider>;
    const { result } = renderHook(() => useSession('still-no-such-session'), { wrapper });
    await waitFor(() => expect(result.current.isError).toBe(true));
    expect(result.current.failureCount).toBe(1);
    const retry = createMnemoQueryClient().getDefaultOptions().queries?.retry as (n: number, e: unknown) => boolean;
    expect(retry(0, new Error('network down'))).toBe(true);
    expect(retry(3, new Error('network down'))).toBe(false);
  });

  it('useSessions pages through every live session, in the server’s order, to the end', async () => {
    const { core } = server();
    for (let i = 0; i < 5; i++) await core.sessions.add({ sessionId: uniqueId('paged') });
    const expected = (await core.sessions.list({ limit: 100 })).items.map((s) => s.sessionId);

    const { result } = renderMnemoHook(() => useSessions({ limit: 2 }), server());
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(result.current.data?.pages[0]?.items).toHaveLength(2);
    await fetchAllPages(result);

    expect(allItems(result.current.data).map((s) => s.sessionId)).toEqual(expected);
    expect(result.current.data?.pages).toHaveLength(Math.ceil(expected.length / 2));
    expect(result.current.data?.pages.at(-1)?.nextCursor).toBeNull();
  });

  it('useUserSessions pages through exactly that user’s sessions', async () => {
    const { core } = server();
    const userId = uniqueId('owner');
    await core.users.add({ userId });
    const mine = [uniqueId('mine'), uniqueId('mine'), uniqueId('mine')];
    for (const sessionId of mine) await core.sessions.add({ sessionId, userId });
    await core.sessions.add({ sessionId: uniqueId('not-mine') });

    const { result } = renderMnemoHook(() => useUserSessions(userId, { limit: 2 }), server());
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    expect(result.current.hasNextPage).toBe(true);
    await fetchAllPages(result);
    expect(result.current.data?.pages).toHaveLength(2);
    expect(allItems(result.current.data).map((s) => s.sessionId)).toEqual(mine);
  });
});

describe('session mutations', () => {
  it('useAddSession: the new session shows up in the lists it joins, other users’ lists are left alone', async () => {
    const { core } = server();
    const [userId, otherId] = [uniqueId('adder'), uniqueId('other')];
    await core.users.add({ userId });
    await core.users.add({ userId: otherId });
    const { result, queryClient } = renderMnemoHook(
      () => ({ all: useSessions(), mine: useUserSessions(userId), other: useUserSessions(otherId), add: useAddSession() }),
      server(),
    );
    await waitFor(() => expect(result.current.all.isSuccess && result.current.mine.isSuccess && result.current.other.isSuccess).toBe(true));
    const otherKey = getQueryKey(trpc.user.sessions, { userId: otherId }, 'infinite');
    const otherFetchedAt = queryClient.getQueryState(otherKey)?.dataUpdatedAt;

    const sessionId = uniqueId('added');
    await act(() => result.current.add.mutateAsync({ sessionId, userId, metadata: { channel: 'web' } }));

    await waitFor(() => expect(allItems(result.current.mine.data).map((s) => s.sessionId)).toEqual([sessionId]));
    await waitFor(() => expect(allItems(result.current.all.data).map((s) => s.sessionId)).toContain(sessionId));
    expect(queryClient.getQueryState(otherKey)).toMatchObject({ isInvalidated: false, dataUpdatedAt: otherFetchedAt });
    expect(queryClient.getQueryData(getQueryKey(trpc.session.get, { sessionId }, 'query'))).toMatchObject({
      sessionId,
      metadata: { channel: 'web' },
    });
  });

  it('useAddSession is optimistic: first in activity lists before the server answers; gone again when refused', async () => {
    const { core } = server();
    const userId = uniqueId('quick');
    await core.users.add({ userId });
    await core.sessions.add({ sessionId: uniqueId('older'), userId });
    const taken = uniqueId('taken');
    await core.sessions.add({ sessionId: taken, userId });
    const gate = createGatedFetch();
    const { result } = renderMnemoHook(
      () => ({
        byActivity: useUserSessions(userId, { sort: 'activity', order: 'desc' }),
        byCreation: useUserSessions(userId),
        add: useAddSession(),
      }),
      { ...server(), fetch: gate.fetch },
    );
    await waitFor(() => expect(result.current.byActivity.isSuccess && result.current.byCreation.isSuccess).toBe(true));
    const ids = (list: 'byActivity' | 'byCreation') => allItems(result.current[list].data).map((s) => s.sessionId);

    gate.hold();
    const sessionId = uniqueId('new');
    act(() => result.current.add.mutate({ sessionId, userId, metadata: { system: { x: 1 }, topic: 'tea' } }));
    await waitFor(() => expect(ids('byActivity')[0]).toBe(sessionId));
    expect(allItems(result.current.byActivity.data)[0]?.metadata).toEqual({ topic: 'tea' });
    expect(ids('byCreation')).not.toContain(sessionId); // its place there is the server's to say (at the end)
    gate.release({ thenHold: true });
    await waitFor(() => expect(result.current.add.isSuccess).toBe(true));
    expect(ids('byActivity')[0]).toBe(sessionId);

    act(() => result.current.add.mutate({ sessionId: taken, userId }));
    await waitFor(() => expect(ids('byActivity').filter((id) => id === taken)).toHaveLength(2));
    gate.release();
    await waitFor(() => expect(result.current.add.isError).toBe(true));
    expect(ids('byActivity').filter((id) => id === taken)).toHaveLength(1);
  });

  it('useUpdateSessionMetadata merges at once with the server’s rules, then takes the server’s answer', async () => {
    const { core } = server();
    const userId = uniqueId('meta-user');
    await core.users.add({ userId });
    const sessionId = uniqueId('meta');
    const before = await core.sessions.add({ sessionId, userId, metadata: { prefs: { lang: 'en' }, keep: true } });
    const gate = createGatedFetch();
    const { result } = renderMnemoHook(
      () => ({ session: useSession(sessionId), list: useUserSessions(userId), update: useUpdateSessionMetadata() }),
      { ...server(), fetch: gate.fetch },
    );
    await waitFor(() => expect(result.current.session.isSuccess && result.current.list.isSuccess).toBe(true));

    gate.hold();
    act(() => result.current.update.mutate({ sessionId, metadata: { prefs: { theme: 'dark' }, system: { x: 1 } } }));
    const merged = { prefs: { lang: 'en', theme: 'dark' }, keep: true };
    await waitFor(() => expect(result.current.session.data?.metadata).toEqual(merged));
    expect(allItems(result.current.list.data)[0]?.metadata).toEqual(merged);
    expect(result.current.update.isPending).toBe(true);

    gate.release();
    await waitFor(() => expect(result.current.update.isSuccess).toBe(true));
    expect(result.current.session.data?.metadata).toEqual(merged);
    expect(result.current.session.data!.updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());
    expect((await core.sessions.get({ sessionId })).metadata).toEqual(merged);
  });

  it('useUpdateSessionMetadata removes a key marked { $delete: true } at once, as the server does', async () => {
    const { core } = server();
    const sessionId = uniqueId('meta-del');
    await core.sessions.add({ sessionId, metadata: { prefs: { lang: 'en', theme: 'dark' }, draft: 'x' } });
    const gate = createGatedFetch();
    const { result } = renderMnemoHook(() => ({ session: useSession(sessionId), update: useUpdateSessionMetadata() }), {
      ...server(),
      fetch: gate.fetch,
    });
    await waitFor(() => expect(result.current.session.isSuccess).toBe(true));

    gate.hold();
    act(() => result.current.update.mutate({ sessionId, metadata: { prefs: { theme: { $delete: true } }, draft: { $delete: true } } }));
    const merged = { prefs: { lang: 'en' } };
    await waitFor(() => expect(result.current.session.data?.metadata).toEqual(merged));
    expect(result.current.update.isPending).toBe(true);

    gate.release();
    await waitFor(() => expect(result.current.update.isSuccess).toBe(true));
    expect(result.current.session.data?.metadata).toEqual(merged);
    expect((await core.sessions.get({ sessionId })).metadata).toEqual(merged);
  });

  it('useUpdateSessionMetadata rolls back when the server rejects the metadata', async () => {
    const { core } = server();
    const sessionId = uniqueId('reject');
    await core.sessions.add({ sessionId, metadata: { ok: 1 } });
    const gate = createGatedFetch();
    const { result } = renderMnemoHook(
      () => ({ session: useSession(sessionId), list: useSessions(), update: useUpdateSessionMetadata() }),
      { ...server(), fetch: gate.fetch },
    );
    await waitFor(() => expect(result.current.session.isSuccess && result.current.list.isSuccess).toBe(true));
    const listBefore = result.current.list.data;

    gate.hold();
    act(() => result.current.update.mutate({ sessionId, metadata: { 'a.b': 1 } }));
    await waitFor(() => expect(result.current.session.data?.metadata).toEqual({ ok: 1, 'a.b': 1 }));
    gate.release();

    await waitFor(() => expect(result.current.update.isError).toBe(true));
    expect(errorStatus(result.current.update.error)).toBe(400);
    expect(describeError(result.current.update.error)).toContain('must not contain "."');
    expect(result.current.session.data?.metadata).toEqual({ ok: 1 });
    expect(result.current.list.data).toEqual(listBefore);
    expect((await core.sessions.get({ sessionId })).metadata).toEqual({ ok: 1 });
  });

  it('useDeleteSession takes the session out of every cached list and the server', async () => {
    const { core } = server();
    const userId = uniqueId('deleter');
    await core.users.add({ userId });
    const [doomed, kept] = [uniqueId('doomed'), uniqueId('kept')];
    await core.sessions.add({ sessionId: doomed, userId });
    await core.sessions.add({ sessionId: kept, userId });
    const { result } = renderMnemoHook(() => ({ all: useSessions(), mine: useUserSessions(userId), remove: useDeleteSession() }), server());
    await waitFor(() => expect(result.current.all.isSuccess && result.current.mine.isSuccess).toBe(true));
    expect(allItems(result.current.all.data).map((s) => s.sessionId)).toContain(doomed);

    await act(() => result.current.remove.mutateAsync({ sessionId: doomed }));
    await waitFor(() => expect(allItems(result.current.mine.data).map((s) => s.sessionId)).toEqual([kept]));
    expect(allItems(result.current.all.data).map((s) => s.sessionId)).not.toContain(doomed);
    await expect(core.sessions.get({ sessionId: doomed })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
