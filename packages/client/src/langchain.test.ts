import { randomUUID } from 'node:crypto';
import {
  AIMessage,
  type BaseMessage,
  ChatMessage,
  FunctionMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from '@langchain/core/messages';
import type { ChatPromptValueInterface } from '@langchain/core/prompt_values';
import { ChatPromptTemplate, MessagesPlaceholder } from '@langchain/core/prompts';
import { RunnableLambda, RunnableWithMessageHistory } from '@langchain/core/runnables';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { startTestServer } from '@mnemo/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMnemoClient, type MnemoClient } from './index';
import { MnemoChatMessageHistory } from './langchain';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

/** The class and every field of each message, as LangChain's own serialization sees them. */
function shapes(messages: BaseMessage[]) {
  return messages.map((m) => ({ class: m.constructor.name, ...m.toDict() }));
}

describe('MnemoChatMessageHistory (@mnemo/client/langchain) against a running server', () => {
  let server: TestServer;
  let trpc: MnemoClient;
  /** tRPC procedure paths of the requests the counting client sent, e.g. ['memory.add']. */
  let sent: string[];
  let counted: MnemoClient;
  beforeAll(async () => {
    server = await startTestServer();
    trpc = createMnemoClient({ url: server.url });
    sent = [];
    counted = createMnemoClient({
      url: server.url,
      fetch: (input, init) => {
        sent.push(...new URL(String(input)).pathname.replace(/^\/trpc\//, '').split(','));
        return fetch(input, init);
      },
    });
  });
  afterAll(() => server?.close());

  const history = (sessionId = `lc-${randomUUID()}`) => new MnemoChatMessageHistory({ client: trpc, sessionId });

  it('round-trips human, AI and system messages, with ids, additional_kwargs and response_metadata', async () => {
    const h = history();
    const messages = [
      new SystemMessage({ content: 'You are terse.', id: 'sys-1' }),
      new HumanMessage({
        content: 'Hi, I am Ada.',
        id: 'human-1',
        name: 'ada',
        // Neither would pass as Mnemo metadata (nested arrays, padded keys); parts keep them, and keys Mongo dislikes.
        additional_kwargs: { grid: [[1, 2], [3]], ' padded ': true, 'a.b': { $ref: 'c' } },
      }),
      new AIMessage({
        content: 'Hello Ada.',
        id: 'chatcmpl-abc:0',
        response_metadata: { model_name: 'gpt-x', finish_reason: 'stop', logprobs: { content: [[{ token: 'Hello' }]] } },
        usage_metadata: { input_tokens: 10, output_tokens: 3, total_tokens: 13 },
      }),
      new HumanMessage('no id here'),
    ];
    await h.addMessages(messages);

    const back = await h.getMessages();
    expect(shapes(back)).toEqual(shapes(messages));
    expect(back).toEqual(messages);
    expect(back[1]!.additional_kwargs).toEqual({ grid: [[1, 2], [3]], ' padded ': true, 'a.b': { $ref: 'c' } });

    // What other Mnemo clients see: roles, text, and the LangChain ids as Mnemo ids.
    const { messages: stored } = await trpc.memory.get.query({ sessionId: h.sessionId, lastn: 10 });
    expect(stored.map((m) => [m.role, m.content])).toEqual([
      ['system', 'You are terse.'],
      ['user', 'Hi, I am Ada.'],
      ['assistant', 'Hello Ada.'],
      ['user', 'no id here'],
    ]);
    expect(stored.slice(0, 3).map((m) => m.uuid)).toEqual(['sys-1', 'human-1', 'chatcmpl-abc:0']);
    expect(stored[1]!.parts?.[0]).toEqual({ type: 'text', text: 'Hi, I am Ada.' });
  });

  it('round-trips an AI message with tool_calls and the ToolMessages that answer it', async () => {
    const h = history();
    const messages = [
      new HumanMessage('Weather in Paris and Oslo?'),
      new AIMessage({
        content: '',
        tool_calls: [
          { id: 'call_1', name: 'get_weather', args: { city: 'Paris', days: [1, 2] }, type: 'tool_call' },
          { id: 'call_2', name: 'get_weather', args: { city: 'Oslo' }, type: 'tool_call' },
        ],
        invalid_tool_calls: [{ id: 'call_3', name: 'get_weather', args: '{"city": ', error: 'bad JSON', type: 'invalid_tool_call' }],
        additional_kwargs: {
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","days":[1,2]}' } }],
        },
      }),
      new ToolMessage({
        content: '18°C, sunny',
        tool_call_id: 'call_1',
        name: 'get_weather',
        status: 'success',
        artifact: { raw: [[18, 'C']] },
      }),
      new ToolMessage({ content: 'service down', tool_call_id: 'call_2', name: 'get_weather', status: 'error' }),
      new AIMessage({
        content: [
          { type: 'text', text: 'Paris: 18°C.' },
          { type: 'text', text: ' Oslo: unknown.' },
        ],
      }),
      new ChatMessage({ content: 'Looks right.', role: 'critic' }),
      new FunctionMessage({ content: '{"ok":true}', name: 'legacy_fn' }),
    ];
    await h.addMessages(messages);

    const back = await h.getMessages();
    expect(shapes(back)).toEqual(shapes(messages));
    expect(back).toEqual(messages);
    const ai = back[1] as AIMessage;
    expect(ai).toBeInstanceOf(AIMessage);
    expect(ai.tool_calls).toEqual([
      { id: 'call_1', name: 'get_weather', args: { city: 'Paris', days: [1, 2] }, type: 'tool_call' },
      { id: 'call_2', name: 'get_weather', args: { city: 'Oslo' }, type: 'tool_call' },
    ]);
    const [tool1, tool2] = back.slice(2, 4) as ToolMessage[];
    expect(tool1).toBeInstanceOf(ToolMessage);
    expect([tool1!.tool_call_id, tool1!.name, tool1!.status, tool1!.artifact]).toEqual([
      'call_1',
      'get_weather',
      'success',
      { raw: [[18, 'C']] },
    ]);
    expect([tool2!.tool_call_id, tool2!.status]).toEqual(['call_2', 'error']);
    expect(back[4]!.content).toEqual(messages[4]!.content);
    expect(back[5]).toBeInstanceOf(ChatMessage);
    expect((back[5] as ChatMessage).role).toBe('critic');
    expect(back[6]).toBeInstanceOf(FunctionMessage);

    const { messages: stored } = await trpc.memory.get.query({ sessionId: h.sessionId, lastn: 10 });
    expect(stored.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'assistant', 'critic', 'function']);
    expect(stored[4]!.content).toBe('Paris: 18°C. Oslo: unknown.');
  });

  it('adds a batch in one memory.add call and reads sessions longer than one page, oldest first', async () => {
    const h = new MnemoChatMessageHistory({ client: counted, sessionId: `long-${randomUUID()}` });
    const messages = Array.from({ length: 250 }, (_, i) => (i % 2 ? new AIMessage(`answer ${i}`) : new HumanMessage(`question ${i}`)));
    sent.length = 0;
    await h.addMessages(messages);
    expect(sent).toEqual(['memory.add']);

    sent.length = 0;
    const back = await h.getMessages();
    expect(sent.filter((p) => p === 'message.list').length).toBe(3);
    expect(back).toHaveLength(250);
    expect(back.map((m) => m.text)).toEqual(messages.map((m) => m.text));
    expect(shapes(back)).toEqual(shapes(messages));

    await h.addMessage(new HumanMessage('one more'));
    expect((await h.getMessages()).at(-1)?.text).toBe('one more');
  });

  it('splits a batch larger than the server takes in one call (1,000) into calls that keep the order', async () => {
    const h = new MnemoChatMessageHistory({ client: counted, sessionId: `huge-${randomUUID()}` });
    const messages = Array.from({ length: 1001 }, (_, i) => new HumanMessage(`m${i}`));
    sent.length = 0;
    await h.addMessages(messages);
    expect(sent).toEqual(['memory.add', 'memory.add']);
    expect((await h.getMessages()).map((m) => m.text)).toEqual(messages.map((m) => m.text));
  });

  it('a new session has no messages; clear empties one, and clearing a missing session is fine', async () => {
    const h = history();
    expect(await h.getMessages()).toEqual([]);
    await h.clear(); // never existed

    await h.addUserMessage('hello');
    await h.addAIMessage('hi there');
    expect((await h.getMessages()).map((m) => [m.type, m.text])).toEqual([
      ['human', 'hello'],
      ['ai', 'hi there'],
    ]);
    await h.clear();
    expect(await h.getMessages()).toEqual([]);
    await h.clear(); // already cleared

    // The session id can be used again after a clear, also with the same message ids.
    await h.addMessages([new HumanMessage({ content: 'again', id: 'm-1' })]);
    await h.clear();
    await h.addMessages([new HumanMessage({ content: 'again', id: 'm-1' })]);
    expect((await h.getMessages()).map((m) => [m.id, m.text])).toEqual([['m-1', 'again']]);
  });

  it("drops a __proto__ key, as LangChain's own stored form (toDict) does, instead of failing the write", async () => {
    const h = history();
    await h.addMessage(new HumanMessage({ content: 'x', additional_kwargs: { ['__proto__']: { polluted: true }, kept: 1 } }));
    const [back] = await h.getMessages();
    expect(Object.keys(back!.additional_kwargs)).toEqual(['kept']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('stores a message with a given id once, however often it is added', async () => {
    const h = history();
    const message = new HumanMessage({ content: 'only once', id: 'msg-once' });
    await h.addMessage(message);
    await h.addMessages([message, new AIMessage({ content: 'reply', id: 'msg-reply' })]);
    expect((await h.getMessages()).map((m) => m.id)).toEqual(['msg-once', 'msg-reply']);
  });

  it('reads messages other clients wrote, by role, with the Mnemo id as message id', async () => {
    const sessionId = `foreign-${randomUUID()}`;
    const { messages: added } = await trpc.memory.add.mutate({
      sessionId,
      messages: [
        { role: 'system', content: 'be nice' },
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'tool', content: '42', metadata: { tool_call_id: 'call_9' } },
        { role: 'narrator', content: 'meanwhile' },
      ],
    });
    const back = await history(sessionId).getMessages();
    expect(back.map((m) => [m.constructor.name, m.text, m.id])).toEqual([
      ['SystemMessage', 'be nice', added[0]!.uuid],
      ['HumanMessage', 'hi', added[1]!.uuid],
      ['AIMessage', 'hello', added[2]!.uuid],
      ['ToolMessage', '42', added[3]!.uuid],
      ['ChatMessage', 'meanwhile', added[4]!.uuid],
    ]);
    expect((back[3] as ToolMessage).tool_call_id).toBe('call_9');
    expect((back[4] as ChatMessage).role).toBe('narrator');
  });

  it('works as the history of RunnableWithMessageHistory, with a fake chat model', async () => {
    const prompt = ChatPromptTemplate.fromMessages([
      ['system', 'You are a helpful assistant.'],
      new MessagesPlaceholder('history'),
      ['human', '{question}'],
    ]);
    const seen: BaseMessage[][] = [];
    const model = new FakeListChatModel({ responses: ['Nice to meet you, Ada.', 'Your name is Ada.'] });
    const chain = prompt
      .pipe(
        RunnableLambda.from((value: ChatPromptValueInterface) => {
          seen.push(value.toChatMessages());
          return value;
        }),
      )
      .pipe(model);
    const withHistory = new RunnableWithMessageHistory({
      runnable: chain,
      getMessageHistory: (sessionId) => new MnemoChatMessageHistory({ url: server.url, sessionId }),
      inputMessagesKey: 'question',
      historyMessagesKey: 'history',
    });
    const sessionId = `chain-${randomUUID()}`;
    const config = { configurable: { sessionId } };

    const first = await withHistory.invoke({ question: 'Hi, I am Ada.' }, config);
    expect(first.text).toBe('Nice to meet you, Ada.');
    const second = await withHistory.invoke({ question: 'What is my name?' }, config);
    expect(second.text).toBe('Your name is Ada.');

    // The second prompt carried the first turn, read back from Mnemo.
    expect(seen[1]!.map((m) => [m.type, m.text])).toEqual([
      ['system', 'You are a helpful assistant.'],
      ['human', 'Hi, I am Ada.'],
      ['ai', 'Nice to meet you, Ada.'],
      ['human', 'What is my name?'],
    ]);
    const stored = await new MnemoChatMessageHistory({ client: trpc, sessionId }).getMessages();
    expect(stored.map((m) => [m.type, m.text])).toEqual([
      ['human', 'Hi, I am Ada.'],
      ['ai', 'Nice to meet you, Ada.'],
      ['human', 'What is my name?'],
      ['ai', 'Your name is Ada.'],
    ]);
  });
});
