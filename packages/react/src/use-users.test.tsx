import { act, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import {
  allItems,
  errorStatus,
  useAddUser,
  useDeleteUser,
  useSession,
  useSessions,
  useUpdateUser,
  useUser,
  useUsers,
  useUserSessions,
} from './index';
import { fetchAllPages, renderMnemoHook, uniqueId, useTestServer } from './test/harness';

const server = useTestServer();

describe('user queries', () => {
  it('useUser returns the user, and a 404 for an unknown id', async () => {
    const userId = uniqueId('ada');
    await server().core.users.add({ userId, email: 'ada@example.com', firstName: 'Ada', metadata: { plan: 'pro' } });
    const { result } = renderMnemoHook(() => ({ found: useUser(userId), missing: useUser('no-such-user') }), server());
    await waitFor(() => expect(result.current.found.isSuccess).toBe(true));
    expect(result.current.found.data).toMatchObject({ userId, email: 'ada@example.com', firstName: 'Ada', metadata: { plan: 'pro' } });
    await waitFor(() => expect(result.current.missing.isError).toBe(true));
    expect(errorStatus(result.current.missing.error)).toBe(404);
  });

  it('useUsers pages through every live user to the end', async () => {
    const { core } = server();
    for (let i = 0; i < 3; i++) await core.users.add({ userId: uniqueId('paged-user') });
    const expected = (await core.users.list({ limit: 100 })).items.map((u) => u.userId);
    const { result } = renderMnemoHook(() => useUsers({ limit: 2 }), server());
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    await fetchAllPages(result);
    expect(allItems(result.current.data).map((u) => u.userId)).toEqual(expected);
    expect(result.current.data?.pages.at(-1)?.nextCursor).toBeNull();
  });
});

describe('user mutations', () => {
  it('useAddUser: the new user shows up in the user list; a duplicate is a 409 shown as an error', async () => {
    const { result } = renderMnemoHook(() => ({ users: useUsers(), add: useAddUser() }), server());
    await waitFor(() => expect(result.current.users.isSuccess).toBe(true));
    const userId = uniqueId('newbie');
    await act(() => result.current.add.mutateAsync({ userId, firstName: 'New' }));
    await waitFor(() => expect(allItems(result.current.users.data).map((u) => u.userId)).toContain(userId));

    act(() => result.current.add.mutate({ userId }));
    await waitFor(() => expect(result.current.add.isError).toBe(true));
    expect(errorStatus(result.current.add.error)).toBe(409);
  });

  it('useUpdateUser: the cached user and its row in the list take the merged result', async () => {
    const userId = uniqueId('upd');
    await server().core.users.add({ userId, metadata: { a: { x: 1 } } });
    const { result } = renderMnemoHook(() => ({ user: useUser(userId), users: useUsers(), update: useUpdateUser() }), server());
    await waitFor(() => expect(result.current.user.isSuccess && result.current.users.isSuccess).toBe(true));
    await act(() => result.current.update.mutateAsync({ userId, lastName: 'Lovelace', metadata: { a: { y: 2 } } }));
    await waitFor(() => expect(result.current.user.data).toMatchObject({ lastName: 'Lovelace', metadata: { a: { x: 1, y: 2 } } }));
    expect(allItems(result.current.users.data).find((u) => u.userId === userId)).toEqual(result.current.user.data);
  });

  it('useDeleteUser removes the user and their sessions from the cached lists', async () => {
    const { core } = server();
    const [userId, otherId] = [uniqueId('leaving'), uniqueId('staying')];
    await core.users.add({ userId });
    await core.users.add({ userId: otherId });
    const [theirs, others] = [uniqueId('theirs'), uniqueId('others')];
    await core.sessions.add({ sessionId: theirs, userId });
    await core.sessions.add({ sessionId: others, userId: otherId });
    const { result } = renderMnemoHook(
      () => ({
        users: useUsers(),
        sessions: useSessions(),
        otherSessions: useUserSessions(otherId),
        theirSession: useSession(theirs),
        remove: useDeleteUser(),
      }),
      server(),
    );
    await waitFor(() =>
      expect(result.current.users.isSuccess && result.current.sessions.isSuccess && result.current.theirSession.isSuccess).toBe(true),
    );

    await act(() => result.current.remove.mutateAsync({ userId }));
    await waitFor(() => expect(allItems(result.current.users.data).map((u) => u.userId)).not.toContain(userId));
    await waitFor(() => expect(allItems(result.current.sessions.data).map((s) => s.sessionId)).not.toContain(theirs));
    const sessionIds = allItems(result.current.sessions.data).map((s) => s.sessionId);
    expect(sessionIds).not.toContain(theirs);
    expect(sessionIds).toContain(others);
    expect(allItems(result.current.otherSessions.data).map((s) => s.sessionId)).toEqual([others]);
    await expect(core.sessions.get({ sessionId: theirs })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
