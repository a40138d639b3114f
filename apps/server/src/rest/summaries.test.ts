/**
 * Summaries through Zep's REST API and the published Zep SDK (@getzep/zep-js 0.10.0), against a
 * real server whose summarizer asks a fake OpenAI-compatible model (MNEMO_LLM_URL).
 */
import { randomUUID } from 'node:crypto';
import { fakeSummary, startFakeLlm } from '@mnemo/core/fake-llm';
import { Memory, Message, MemorySearchPayload, Summary, ZepClient } from '@getzep/zep-js';
import { afterAll, describe, expect, it } from 'vitest';
import { httpClient } from '../test/http';
import { useTestServer } from '../testing';

const llm = await startFakeLlm();
afterAll(() => llm.close());
const server = useTestServer({
  messageWindow: 6,
  env: { MNEMO_LLM_URL: llm.url, MNEMO_LLM_MODEL: 'fake-model', MNEMO_LLM_API_KEY: 'sk-x' },
});
const plain = useTestServer({ messageWindow: 6 });
const api = (method: string, path: string, body?: unknown) => httpClient(`${server().url}/api/v1`)(method, path, body);
const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const turns = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ role: (from + i) % 2 ? 'human' : 'ai', content: `turn ${from + i} about Lisbon` }));
const lines = (from: number, to: number) => turns(from, to).map((m) => `${m.role}: ${m.content}`);

describe('Zep REST: summaries', () => {
  it('get-memory returns the summary and, without lastn, only the messages after it', async () => {
    const sessionId = id('rs');
    expect((await api('POST', `/sessions/${sessionId}/memory`, { messages: turns(1, 6) })).status).toBe(200);
    await server().core.idle();
    const memory = (await api('GET', `/sessions/${sessionId}/memory`)).json;
    const all = (await api('GET', `/sessions/${sessionId}/memory?lastn=10`)).json;
    expect(memory.messages.map((m: { content: string }) => m.content)).toEqual([
      'turn 4 about Lisbon',
      'turn 5 about Lisbon',
      'turn 6 about Lisbon',
    ]);
    expect(memory.summary).toEqual({
      uuid: expect.any(String),
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      content: fakeSummary('', lines(1, 3)),
      recent_message_uuid: all.messages[2].uuid,
      token_count: expect.any(Number),
    });
    expect(all.messages).toHaveLength(6);
    expect(all.summary).toEqual(memory.summary);
    expect(llm.requests.at(-1)).toMatchObject({ model: 'fake-model', authorization: 'Bearer sk-x' });

    // The list route, and a search of the summaries.
    const listed = await api('GET', `/sessions/${sessionId}/summaries`);
    expect(listed.json).toEqual([memory.summary]);
    const found = await api('POST', `/sessions/${sessionId}/search`, { text: 'lisbon', search_scope: 'summary' });
    expect(found.status).toBe(200);
    expect(found.json).toEqual([{ message: null, summary: memory.summary, dist: expect.any(Number), embedding: null }]);
    expect((await api('GET', '/sessions/no-such-session/summaries')).status).toBe(404);
    const byUser = await api('POST', '/users/somebody/search', { text: 'x', search_scope: 'summary' });
    expect([byUser.status, byUser.json.message]).toEqual([400, expect.stringMatching(/not a user’s/)]);
  });

  it('summaries go with the session and come back with it', async () => {
    const sessionId = id('rd');
    await api('POST', `/sessions/${sessionId}/memory`, { messages: turns(1, 6) });
    await server().core.idle();
    const { summary } = (await api('GET', `/sessions/${sessionId}/memory`)).json;
    expect((await api('DELETE', `/sessions/${sessionId}/memory`)).status).toBe(200);
    expect((await api('GET', `/sessions/${sessionId}/summaries`)).status).toBe(404);
    await server().core.sessions.restore({ sessionId });
    expect((await api('GET', `/sessions/${sessionId}/memory`)).json.summary).toEqual(summary);
  });

  it('without MNEMO_LLM_URL: no summary, the last window of messages, as before', async () => {
    const sessionId = id('rp');
    await httpClient(`${plain().url}/api/v1`)('POST', `/sessions/${sessionId}/memory`, { messages: turns(1, 8) });
    await plain().core.idle();
    const memory = (await httpClient(`${plain().url}/api/v1`)('GET', `/sessions/${sessionId}/memory`)).json;
    expect(Object.keys(memory)).toEqual(['messages']);
    expect(memory.messages).toHaveLength(6);
  });
});

describe('zep-js 0.10 reads summaries', () => {
  it('Memory.summary from getMemory, and a summary search', async () => {
    const zep = await ZepClient.init(server().url);
    const sessionId = id('zj');
    await zep.memory.addMemory(sessionId, new Memory({ messages: turns(1, 9).map((m) => new Message(m)) }));
    await server().core.idle();
    const memory = await zep.memory.getMemory(sessionId);
    expect(memory?.summary).toBeInstanceOf(Summary);
    // 9 messages at once: all but the newest 3 in one summary.
    expect(memory?.summary?.content).toBe(fakeSummary('', lines(1, 6)));
    expect(memory?.messages.map((m) => m.content)).toEqual(['turn 7 about Lisbon', 'turn 8 about Lisbon', 'turn 9 about Lisbon']);
    const all = await zep.memory.getMemory(sessionId, 9);
    expect(memory?.summary?.recent_message_uuid).toBe(all?.messages[5]?.uuid);
    expect(memory?.summary?.token_count).toBeGreaterThan(0);

    // Progressive: the next 3 are folded into it.
    await zep.memory.addMemory(sessionId, new Memory({ messages: turns(10, 12).map((m) => new Message(m)) }));
    await server().core.idle();
    const next = await zep.memory.getMemory(sessionId);
    expect(next?.summary?.content).toBe(fakeSummary(fakeSummary('', lines(1, 6)), lines(7, 9)));

    const results = await zep.memory.searchMemory(sessionId, new MemorySearchPayload({ text: 'Lisbon', search_scope: 'summary' }));
    expect(results.map((r) => [r.message, r.summary?.content])).toEqual([
      [undefined, next?.summary?.content],
      [undefined, memory?.summary?.content],
    ]);
  });
});
