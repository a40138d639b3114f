import { fakeSummary, startFakeLlm } from '@mnemo/core/fake-llm';
import { startTestServer } from '@mnemo/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMnemoClient, Memory, MemorySearchPayload, Message, Summary, ZepClient } from '../index';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

describe('summaries through the typed client and the Zep facade', () => {
  let llm: Awaited<ReturnType<typeof startFakeLlm>>;
  let server: TestServer;
  beforeAll(async () => {
    llm = await startFakeLlm();
    server = await startTestServer({ messageWindow: 4, env: { MNEMO_LLM_URL: llm.url } });
  });
  afterAll(async () => {
    await server?.close();
    await llm?.close();
  });

  const turns = ['My name is Ada', 'Hello Ada', 'I write programs', 'For the Analytical Engine', 'Nice'];
  const lines = (n: number) => turns.slice(0, n).map((content, i) => `${i % 2 ? 'ai' : 'human'}: ${content}`);

  it('memory.get answers the summary and the messages after it; memory.summaries lists them', async () => {
    const trpc = createMnemoClient({ url: server.url });
    await trpc.memory.add.mutate({ sessionId: 'typed', messages: turns.map((content, i) => ({ role: i % 2 ? 'ai' : 'human', content })) });
    await server.core.idle();
    const memory = await trpc.memory.get.query({ sessionId: 'typed' });
    expect(memory.summary).toMatchObject({ content: fakeSummary('', lines(3)), recentSeq: 3, sessionId: 'typed' });
    expect(memory.summary?.createdAt).toBeInstanceOf(Date);
    expect(memory.messages.map((m) => m.content)).toEqual(['For the Analytical Engine', 'Nice']);
    expect((await trpc.memory.summaries.query({ sessionId: 'typed' })).items).toEqual([memory.summary]);
    expect(await trpc.memory.searchSummaries.query({ sessionId: 'typed', text: 'programs' })).toEqual([
      { summary: memory.summary, dist: expect.any(Number) },
    ]);
  });

  it('the Zep facade gives Memory.summary and summary search results, as zep-js does', async () => {
    const zep = await ZepClient.init(server.url);
    await zep.memory.addMemory(
      'facade',
      new Memory({ messages: turns.map((content, i) => new Message({ role: i % 2 ? 'ai' : 'human', content })) }),
    );
    await server.core.idle();
    const memory = await zep.memory.getMemory('facade');
    expect(memory.summary).toBeInstanceOf(Summary);
    expect(memory.summary).toMatchObject({ content: fakeSummary('', lines(3)), recent_message_uuid: expect.any(String) });
    expect(memory.toDict().summary?.content).toBe(fakeSummary('', lines(3)));
    const [hit, ...rest] = await zep.memory.searchMemory('facade', new MemorySearchPayload({ text: 'Ada', search_scope: 'summary' }));
    expect(rest).toEqual([]);
    expect(hit?.summary?.content).toBe(fakeSummary('', lines(3)));
    expect(hit?.message).toBeUndefined();
  });
});
