import { act, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { useAddMemory, useMemory, useMessages, useSetHead, useSiblings } from './index';
import { renderMnemoHook, uniqueId, useTestServer } from './test/harness';

const server = useTestServer();

describe('conversation trees through the hooks', () => {
  it('a regenerate adds a branch, the picker fields come with the messages, useSetHead switches and the caches follow', async () => {
    const sessionId = uniqueId('tree');
    await server().core.memory.add({
      sessionId,
      messages: [
        { role: 'user', content: 'Name a tea', uuid: 'q' },
        { role: 'assistant', content: 'Sencha', uuid: 'a1' },
      ],
    });
    const { result } = renderMnemoHook(
      () => ({
        memory: useMemory(sessionId),
        pages: useMessages(sessionId, { order: 'desc' }),
        versions: useSiblings(sessionId, 'a1'),
        add: useAddMemory(),
        setHead: useSetHead(),
      }),
      server(),
    );
    await waitFor(() => expect(result.current.memory.isSuccess && result.current.pages.isSuccess).toBe(true));
    // Regenerate: a second answer under the question.
    await act(() =>
      result.current.add.mutateAsync({ sessionId, parentId: 'q', messages: [{ role: 'assistant', content: 'Oolong', uuid: 'a2' }] }),
    );
    await waitFor(() => expect(result.current.memory.data?.messages.map((m) => m.uuid)).toEqual(['q', 'a2']));
    expect(result.current.memory.data?.messages[1]).toMatchObject({ parentId: 'q', siblingIndex: 1, siblingCount: 2 });
    await waitFor(() => expect(result.current.versions.data?.items.map((m) => m.uuid)).toEqual(['a1', 'a2']));
    // Back to the first answer: every cache of the session reads the other branch.
    await act(() => result.current.setHead.mutateAsync({ sessionId, uuid: 'a1' }));
    await waitFor(() => expect(result.current.memory.data?.messages.map((m) => m.content)).toEqual(['Name a tea', 'Sencha']));
    await waitFor(() => expect(result.current.pages.data?.pages[0]?.items.map((m) => m.uuid)).toEqual(['a1', 'q']));
    expect(result.current.versions.data?.index).toBe(0);
  });
});
