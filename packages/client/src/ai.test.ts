import { readFile } from 'node:fs/promises';
import { startTestServer } from '@mnemo/server/testing';
import { DefaultChatTransport, generateId, readUIMessageStream, simulateReadableStream, tool, type UIMessage } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fromUIMessage, loadChat, saveChat, saveStreamingReply, toUIMessages } from './ai';
import { chatRoutes } from './ai.example';
import { createMnemoClient, type MnemoClient } from './index';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
/** What a model's doStream streams (LanguageModelV4StreamPart). */
type ModelStreamPart = Awaited<ReturnType<MockLanguageModelV4['doStream']>>['stream'] extends ReadableStream<infer P> ? P : never;

const usage = {
  inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 10, text: 10, reasoning: undefined },
};
const finish: ModelStreamPart = { type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage };
const text = (id: string, ...deltas: string[]): ModelStreamPart[] => [
  { type: 'text-start', id },
  ...deltas.map((delta): ModelStreamPart => ({ type: 'text-delta', id, delta })),
  { type: 'text-end', id },
];
const reasoning = (id: string, delta: string): ModelStreamPart[] => [
  { type: 'reasoning-start', id },
  { type: 'reasoning-delta', id, delta },
  { type: 'reasoning-end', id },
];
/** A mock model that streams each list of parts in turn, one list per model call (step). */
const mockModel = (...steps: ModelStreamPart[][]) =>
  new MockLanguageModelV4({ doStream: steps.map((chunks) => ({ stream: simulateReadableStream({ chunks }) })) });

const userMessage = (words: string): UIMessage => ({ id: generateId(), role: 'user', parts: [{ type: 'text', text: words }] });

/**
 * The browser's side, as useChat does it: DefaultChatTransport posts `{ id, messages }` (here to the
 * route handler, no network) and the streamed chunks become the reply with readUIMessageStream.
 * Resolves to the reply as the client last saw it.
 */
async function send(handler: (request: Request) => Promise<Response>, chatId: string, messages: UIMessage[]): Promise<UIMessage> {
  const transport = new DefaultChatTransport<UIMessage>({
    api: 'http://chat.test/api/chat',
    fetch: async (input, init) => handler(new Request(input, init)),
  });
  const chunks = await transport.sendMessages({
    trigger: 'submit-message',
    chatId,
    messageId: undefined,
    messages,
    abortSignal: undefined,
  });
  let reply: UIMessage | undefined;
  for await (const snapshot of readUIMessageStream<UIMessage>({ stream: chunks, terminateOnError: true })) reply = snapshot;
  if (!reply) throw new Error('no reply');
  return reply;
}

/** Polls until `check` gives a value (the streaming saver writes in the background). */
async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('@mnemo/client/ai against a running server', () => {
  let server: TestServer;
  let mnemo: MnemoClient;
  beforeAll(async () => {
    server = await startTestServer();
    mnemo = createMnemoClient({ url: server.url });
  });
  afterAll(() => server?.close());

  it('a new chat has no history', async () => {
    expect(await loadChat(mnemo, generateId())).toEqual([]);
    expect(await chatRoutes({ mnemo, model: mockModel() }).history(generateId())).toEqual([]);
  });

  it('saves on finish: the reloaded chat equals what the AI SDK client saw (reasoning, text, client ids)', async () => {
    const chatId = generateId();
    const routes = chatRoutes({
      mnemo,
      model: mockModel([...reasoning('r1', 'The user greets me.'), ...text('t1', 'Hello', ', ', 'world!'), finish]),
    });
    const question = userMessage('Hi there');
    const reply = await send(routes.saveOnFinish, chatId, [question]);
    expect(reply).toMatchObject({
      role: 'assistant',
      parts: [{ type: 'step-start' }, { type: 'reasoning', text: 'The user greets me.' }, { type: 'text', text: 'Hello, world!' }],
    });
    expect(reply.id).toMatch(/^[A-Za-z0-9]{16}$/); // generateId's

    // onEnd runs as the response ends; the client may read the chat right after.
    const history = await eventually(async () => {
      const h = await routes.history(chatId);
      return h.length === 2 ? h : undefined;
    }, 'the saved chat');
    expect(history).toEqual([question, reply]);

    const { items } = await mnemo.message.list.query({ sessionId: chatId });
    expect(items.map((m) => [m.uuid, m.role, m.content, m.status])).toEqual([
      [question.id, 'user', 'Hi there', 'complete'],
      [reply.id, 'assistant', 'Hello, world!', 'complete'], // content: the text parts, for search
    ]);

    // The next turn: useChat sends the whole chat again; only the new messages are added.
    const routes2 = chatRoutes({ mnemo, model: mockModel([...text('t1', 'Fine, thanks.'), finish]) });
    const followUp = userMessage('How are you?');
    const reply2 = await send(routes2.saveOnFinish, chatId, [...history, followUp]);
    const next = await eventually(async () => {
      const h = await loadChat(mnemo, chatId);
      return h.length === 4 ? h : undefined;
    }, 'the second turn');
    expect(next).toEqual([question, reply, followUp, reply2]);
  });

  it('keeps tool calls and their results across steps', async () => {
    const chatId = generateId();
    const tools = {
      weather: tool({
        description: 'The weather in a city',
        inputSchema: z.object({ city: z.string() }),
        execute: async ({ city }) => ({ city, celsius: 21 }),
      }),
    };
    const model = mockModel(
      [
        { type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: JSON.stringify({ city: 'Lisbon' }) },
        { ...finish, finishReason: { unified: 'tool-calls', raw: undefined } },
      ],
      [...text('t1', 'It is 21 °C in Lisbon.'), finish],
    );
    const routes = chatRoutes({ mnemo, model, tools });
    const question = userMessage('Weather in Lisbon?');
    const reply = await send(routes.saveOnFinish, chatId, [question]);
    expect(reply.parts).toMatchObject([
      { type: 'step-start' },
      {
        type: 'tool-weather',
        toolCallId: 'call-1',
        state: 'output-available',
        input: { city: 'Lisbon' },
        output: { city: 'Lisbon', celsius: 21 },
      },
      { type: 'step-start' },
      { type: 'text', text: 'It is 21 °C in Lisbon.' },
    ]);
    const history = await eventually(async () => {
      const h = await loadChat(mnemo, chatId);
      return h.length === 2 ? h : undefined;
    }, 'the saved chat');
    expect(history).toEqual([question, reply]);
    // The model sees the reloaded tool call and result again on the next turn.
    const next = mockModel([...text('t1', 'Still 21.'), finish]);
    await send(chatRoutes({ mnemo, model: next, tools }).saveOnFinish, chatId, [...history, userMessage('And now?')]);
    expect(JSON.stringify(next.doStreamCalls[0]?.prompt)).toContain('"celsius":21');
  });

  it('saves while streaming: readers see the reply grow, then complete', async () => {
    const chatId = generateId();
    // A model stream this test feeds by hand, so it can look at Mnemo mid-reply.
    let feed!: ReadableStreamDefaultController<ModelStreamPart>;
    const model = new MockLanguageModelV4({
      doStream: async () => ({ stream: new ReadableStream<ModelStreamPart>({ start: (c) => void (feed = c) }) }),
    });
    const routes = chatRoutes({ mnemo, model });
    const question = userMessage('Tell me a story');
    const replying = send(routes.saveWhileStreaming, chatId, [question]);

    const assistantMessage = async (content: string, status: string) => {
      const { items } = await mnemo.message.list.query({ sessionId: chatId });
      const m = items.find((i) => i.role === 'assistant');
      return m?.content === content && m.status === status ? m : undefined;
    };
    await eventually(async () => (feed ? true : undefined), 'the model call');
    for (const part of [
      { type: 'text-start', id: 't1' },
      { type: 'text-delta', id: 't1', delta: 'Once upon' },
    ] as const)
      feed.enqueue(part);
    const partial = await eventually(() => assistantMessage('Once upon', 'streaming'), 'the partial reply');
    expect(partial.parts).toMatchObject([{ type: 'step-start' }, { type: 'text', text: 'Once upon', state: 'streaming' }]);
    // The user's message was saved before the reply started.
    expect((await loadChat(mnemo, chatId))[0]).toEqual(question);

    for (const part of [{ type: 'text-delta', id: 't1', delta: ' a time.' }, { type: 'text-end', id: 't1' }, finish] as const)
      feed.enqueue(part);
    feed.close();
    const reply = await replying;
    const done = await eventually(() => assistantMessage('Once upon a time.', 'complete'), 'the complete reply');
    expect(done.uuid).toBe(reply.id);
    const history = await loadChat(mnemo, chatId);
    expect(history).toEqual([question, reply]);

    // The next turn sends the chat back: the saved reply is already what the client has, so it is not rewritten.
    const followUp = userMessage('And then?');
    const reply2 = await send(chatRoutes({ mnemo, model: mockModel([...text('t1', 'The end.'), finish]) }).saveWhileStreaming, chatId, [
      ...history,
      followUp,
    ]);
    await eventually(async () => {
      const { items } = await mnemo.message.list.query({ sessionId: chatId });
      return items.length === 4 && items[3]?.status === 'complete' ? items : undefined;
    }, 'the second reply');
    expect(await loadChat(mnemo, chatId)).toEqual([question, reply, followUp, reply2]);
    expect((await mnemo.message.get.query({ sessionId: chatId, uuid: reply.id })).updatedAt).toEqual(done.updatedAt);
  });

  it('saveStreamingReply writes the latest state, throttled, and completes it', async () => {
    let requests = 0;
    const counted = createMnemoClient({ url: server.url, fetch: (input, init) => (requests++, fetch(input, init)) });
    const sessionId = generateId();
    const id = generateId();
    async function* growing() {
      for (let i = 1; i <= 40; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        yield { id, role: 'assistant', parts: [{ type: 'text', text: 'x'.repeat(i), state: 'streaming' }] } satisfies UIMessage;
      }
    }
    const started = performance.now();
    const saved = await saveStreamingReply(counted, { sessionId, reply: growing(), throttleMs: 100 });
    const elapsed = performance.now() - started;
    expect(saved).toMatchObject({ uuid: id, content: 'x'.repeat(40), status: 'complete' });
    // 40 states over ≥ 200 ms (longer on a busy machine): an add, at most one update per 100 ms
    // window of the time it took, the final one; not one write per state.
    expect(requests).toBeGreaterThanOrEqual(2);
    expect(requests).toBeLessThanOrEqual(2 + Math.ceil(elapsed / 100));
    expect(requests).toBeLessThan(40);
  });

  it('saveStreamingReply leaves a failed reply streaming, with its last state', async () => {
    const sessionId = generateId();
    const id = generateId();
    const states = ['a', 'ab', 'abc', 'abcd'].map(
      (t): UIMessage => ({ id, role: 'assistant', parts: [{ type: 'text', text: t, state: 'streaming' }] }),
    );
    async function* failing() {
      yield* states;
      throw new Error('model went away');
    }
    await expect(saveStreamingReply(mnemo, { sessionId, reply: failing() })).rejects.toThrow('model went away');
    const stored = await mnemo.message.get.query({ sessionId, uuid: id });
    expect(stored).toMatchObject({ content: 'abcd', status: 'streaming' }); // 'interrupted' once idle for 2 minutes

    // Saving the finished message later (e.g. onEnd's saveChat) completes it.
    const final: UIMessage = { id, role: 'assistant', parts: [{ type: 'text', text: 'abcde', state: 'done' }] };
    await saveChat(mnemo, { sessionId, messages: [final] });
    expect(await mnemo.message.get.query({ sessionId, uuid: id })).toMatchObject({ content: 'abcde', status: 'complete' });
    expect(await loadChat(mnemo, sessionId)).toEqual([final]);
  });

  it('saving twice is idempotent; a changed message is brought up to date', async () => {
    const sessionId = generateId();
    const messages: UIMessage[] = [
      userMessage('one'),
      { id: generateId(), role: 'assistant', parts: [{ type: 'text', text: 'two' }], metadata: { model: 'mock', usage: { tokens: 3 } } },
    ];
    await saveChat(mnemo, { sessionId, messages });
    const first = await mnemo.message.list.query({ sessionId });
    await saveChat(mnemo, { sessionId, messages });
    await saveChat(mnemo, { sessionId, messages: messages.slice(1) });
    const again = await mnemo.message.list.query({ sessionId });
    expect(again).toEqual(first); // nothing added, nothing updated (same updatedAt)
    expect(again.total).toBe(2);
    expect(await loadChat(mnemo, sessionId)).toEqual(messages);

    // A continuation changes the last assistant message in place (e.g. a tool output added on the client).
    const changed: UIMessage = { ...messages[1]!, parts: [...messages[1]!.parts, { type: 'text', text: 'three' }] };
    await saveChat(mnemo, { sessionId, messages: [messages[0]!, changed] });
    expect(await loadChat(mnemo, sessionId)).toEqual([messages[0], changed]);
    expect((await mnemo.message.get.query({ sessionId, uuid: changed.id })).content).toBe('two\nthree');
  });

  it('the same client id in two chats is two messages', async () => {
    const message = userMessage('hello');
    const [a, b] = [generateId(), generateId()];
    await saveChat(mnemo, { sessionId: a, messages: [message] });
    await saveChat(mnemo, { sessionId: b, messages: [{ ...message, parts: [{ type: 'text', text: 'other' }] }] });
    expect((await loadChat(mnemo, a))[0]?.parts).toEqual([{ type: 'text', text: 'hello' }]);
    expect((await loadChat(mnemo, b))[0]?.parts).toEqual([{ type: 'text', text: 'other' }]);
  });

  it('loads the whole chat, past the message window and a page', async () => {
    const sessionId = generateId();
    const messages = Array.from({ length: 130 }, (_, i) => userMessage(`message ${i}`));
    await saveChat(mnemo, { sessionId, messages });
    expect(await loadChat(mnemo, sessionId)).toEqual(messages);
  });

  it('reads messages stored without parts (the Zep API) as one text part', async () => {
    const sessionId = generateId();
    const { messages } = await mnemo.memory.add.mutate({
      sessionId,
      messages: [
        { role: 'human', content: 'Hi', metadata: { lang: 'en' } },
        { role: 'ai', content: 'Hello!' },
      ],
    });
    expect(toUIMessages(messages)).toEqual([
      { id: messages[0]!.uuid, role: 'user', parts: [{ type: 'text', text: 'Hi' }], metadata: { lang: 'en' } },
      { id: messages[1]!.uuid, role: 'assistant', parts: [{ type: 'text', text: 'Hello!' }] },
    ]);
  });

  it('fromUIMessage refuses what cannot be saved as given', () => {
    expect(fromUIMessage({ id: 'm1', role: 'user', parts: [{ type: 'text', text: 'x' }] })).toEqual({
      uuid: 'm1',
      role: 'user',
      parts: [{ type: 'text', text: 'x' }],
    });
    expect(() => fromUIMessage({ id: '', role: 'assistant', parts: [] })).toThrow(/generateMessageId/);
    expect(() => fromUIMessage({ id: 'm2', role: 'user', parts: [], metadata: 'note' })).toThrow(/JSON object/);
  });

  it('regenerate keeps both replies as branches, saved on finish or while streaming; loadChat gives the newest', async () => {
    for (const route of ['saveOnFinish', 'saveWhileStreaming'] as const) {
      const chatId = generateId();
      const question = userMessage('Name a tea');
      const first = await send(chatRoutes({ mnemo, model: mockModel([...text('t1', 'Sencha'), finish]) })[route], chatId, [question]);
      await eventually(
        async () => ((await loadChat(mnemo, chatId)).at(-1)?.id === first.id ? true : undefined),
        `${route}: the first reply`,
      );
      // regenerate(): the client drops the last reply and sends the chat up to the question again.
      const second = await send(chatRoutes({ mnemo, model: mockModel([...text('t1', 'Oolong'), finish]) })[route], chatId, [question]);
      const history = await eventually(async () => {
        const h = await loadChat(mnemo, chatId);
        return h.at(-1)?.id === second.id && h.at(-1)?.parts.some((p) => p.type === 'text' && p.text === 'Oolong') ? h : undefined;
      }, `${route}: the regenerated reply`);
      expect(history.map((m) => m.id)).toEqual([question.id, second.id]);
      const { items } = await mnemo.message.siblings.query({ sessionId: chatId, uuid: second.id });
      expect(items.map((m) => m.uuid)).toEqual([first.id, second.id]);
      // The first reply is one switch away, and stays chosen.
      await mnemo.session.setHead.mutate({ sessionId: chatId, uuid: first.id });
      expect((await loadChat(mnemo, chatId)).map((m) => m.id)).toEqual([question.id, first.id]);
    }
  });

  it('an edited user message becomes a branch beside the original, under a new id; nothing is overwritten', async () => {
    const chatId = generateId();
    const question = userMessage('What is 2+2?');
    const answer = await send(chatRoutes({ mnemo, model: mockModel([...text('t1', '5'), finish]) }).saveOnFinish, chatId, [question]);
    await eventually(async () => ((await loadChat(mnemo, chatId)).length === 2 ? true : undefined), 'the first turn');
    // sendMessage({ text, messageId }): the same id, new parts, the rest of the chat dropped.
    const edited: UIMessage = { ...question, parts: [{ type: 'text', text: 'What is 2+3?' }] };
    const routes = chatRoutes({ mnemo, model: mockModel([...text('t1', '5'), finish], [...text('t1', 'Yes.'), finish]) });
    const answer2 = await send(routes.saveOnFinish, chatId, [edited]);
    const history = await eventually(async () => {
      const h = await loadChat(mnemo, chatId);
      return h.at(-1)?.id === answer2.id ? h : undefined;
    }, 'the edited turn');
    const editedId = history[0]!.id;
    expect(editedId).toMatch(new RegExp(`^${question.id}\\.e[0-9a-z]+$`));
    expect(history.map((m) => m.parts)).toEqual([edited.parts, answer2.parts]);
    const versions = await mnemo.message.siblings.query({ sessionId: chatId, uuid: editedId });
    expect(versions.items.map((m) => [m.uuid, m.content])).toEqual([
      [question.id, 'What is 2+2?'],
      [editedId, 'What is 2+3?'],
    ]);
    // The client still calls it by the old id until a reload: the next turn goes on the edited branch.
    const followUp = userMessage('Sure?');
    const answer3 = await send(routes.saveOnFinish, chatId, [edited, answer2, followUp]);
    const next = await eventually(async () => {
      const h = await loadChat(mnemo, chatId);
      return h.length === 4 ? h : undefined;
    }, 'the turn after the edit');
    expect(next.map((m) => m.id)).toEqual([editedId, answer2.id, followUp.id, answer3.id]);
    expect((await mnemo.message.get.query({ sessionId: chatId, uuid: question.id })).content).toBe('What is 2+2?');
    await mnemo.session.setHead.mutate({ sessionId: chatId, uuid: question.id });
    expect((await loadChat(mnemo, chatId)).map((m) => m.id)).toEqual([question.id, answer.id]);
  });

  it('docs/ai-sdk.md shows ai.example.ts as it is', async () => {
    const doc = await readFile(new URL('../../../docs/ai-sdk.md', import.meta.url), 'utf8');
    const example = await readFile(new URL('./ai.example.ts', import.meta.url), 'utf8');
    expect(doc).toContain(example);
  });
});
