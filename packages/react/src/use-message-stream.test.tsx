/** useMessageStream and useStopMessage against a real server: a reply rendered live as it streams, stopped from a tab. */
import { act, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { useMemory, useMessageStream, useStopMessage } from './index';
import { renderMnemoHook, uniqueId, useTestServer } from './test/harness';

const server = useTestServer();

describe('useMessageStream', () => {
  it('renders a reply as it streams and ends; the cached history gets its final state', async () => {
    const sessionId = uniqueId('stream');
    const { core } = server();
    await core.memory.add({ sessionId, messages: [{ uuid: 'r1', role: 'assistant', content: 'Once', status: 'streaming' }] });
    const { result } = renderMnemoHook(() => ({ stream: useMessageStream(sessionId, 'r1'), memory: useMemory(sessionId) }), server());
    await waitFor(() => expect(result.current.stream.message?.content).toBe('Once'));
    expect(result.current.stream.ended).toBeUndefined();
    await core.memory.updateMessage({ sessionId, uuid: 'r1', append: ' upon' });
    await waitFor(() => expect(result.current.stream.message?.content).toBe('Once upon'));
    await core.memory.updateMessage({ sessionId, uuid: 'r1', append: ' a time.', status: 'complete' });
    await waitFor(() => expect(result.current.stream.ended).toBe('complete'));
    expect(result.current.stream.message).toMatchObject({ content: 'Once upon a time.', status: 'complete' });
    await waitFor(() => expect(result.current.memory.data?.messages).toMatchObject([{ content: 'Once upon a time.', status: 'complete' }]));
  });

  it('useStopMessage stops it: the reader sees it stopped, with the text it had; the writer’s next append changes nothing', async () => {
    const sessionId = uniqueId('stop');
    const { core } = server();
    await core.memory.add({ sessionId, messages: [{ uuid: 'r1', role: 'assistant', content: 'Half', status: 'streaming' }] });
    const { result } = renderMnemoHook(() => ({ stream: useMessageStream(sessionId, 'r1'), stop: useStopMessage() }), server());
    await waitFor(() => expect(result.current.stream.message?.content).toBe('Half'));
    await act(() => result.current.stop.mutateAsync({ sessionId, uuid: 'r1' }));
    await waitFor(() => expect(result.current.stream.ended).toBe('stopped'));
    expect(await core.memory.updateMessage({ sessionId, uuid: 'r1', append: ' more' })).toMatchObject({
      content: 'Half',
      status: 'stopped',
    });
    expect(result.current.stream.message).toMatchObject({ content: 'Half', status: 'stopped' });
  });

  it('reports a message that is not there', async () => {
    const sessionId = uniqueId('none');
    const { result } = renderMnemoHook(() => useMessageStream(sessionId, 'nope'), server());
    await waitFor(() => expect(result.current.error).toMatchObject({ data: { code: 'NOT_FOUND' } }));
  });
});
