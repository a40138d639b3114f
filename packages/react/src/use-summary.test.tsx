import { fakeSummary, startFakeLlm } from '@mnemo/core/fake-llm';
import { waitFor } from '@testing-library/react';
import { afterAll, describe, expect, it } from 'vitest';
import { useMemory, useSummary } from './index';
import { renderMnemoHook, uniqueId, useTestServer } from './test/harness';

const llm = await startFakeLlm();
afterAll(() => llm.close());
const server = useTestServer({ messageWindow: 4, env: { MNEMO_LLM_URL: llm.url } });

describe('useSummary', () => {
  it('is null until the server has summarised the session, then shows the summary live, with what it covers', async () => {
    const sessionId = uniqueId('sum');
    await server().core.memory.add({ sessionId, messages: [{ role: 'user', content: 'hello' }] });
    const { result } = renderMnemoHook(() => ({ summary: useSummary(sessionId, { live: true }), memory: useMemory(sessionId) }), server());
    await waitFor(() => expect(result.current.summary.isSuccess).toBe(true));
    expect(result.current.summary.data).toBeNull();

    const added = await server().core.memory.add({
      sessionId,
      messages: ['I live in Porto', 'Nice city', 'I like trams'].map((content) => ({ role: 'user', content })),
    });
    // Made in the background; the subscription brings it, and get-memory drops the messages it covers.
    await waitFor(() => expect(result.current.summary.data?.content).toBe(fakeSummary('', ['user: hello', 'user: I live in Porto'])));
    expect(result.current.summary.data).toMatchObject({ recentSeq: 2, recentMessageUuid: added.messages[0]!.uuid });
    expect(result.current.summary.data?.createdAt).toBeInstanceOf(Date);
    await waitFor(() => expect(result.current.memory.data?.messages.map((m) => m.content)).toEqual(['Nice city', 'I like trams']));
  });
});
