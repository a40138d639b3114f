/**
 * Resumable AI SDK replies stored in Mnemo, end to end: the recipe's routes (ai.example.ts) on a
 * real server, the AI SDK's mock model fed by hand, and its real client transport
 * (DefaultChatTransport: `sendMessages`, and `reconnectToStream` as `useChat({ resume: true })` calls it).
 */
import { startTestServer } from '@mnemo/server/testing';
import { DefaultChatTransport, generateId, readUIMessageStream, type UIMessage, type UIMessageChunk } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChunker, saveStreamingReply } from './ai';
import { chatRoutes } from './ai.example';
import { createMnemoClient, type MnemoClient } from './index';

type ModelStreamPart = Awaited<ReturnType<MockLanguageModelV4['doStream']>>['stream'] extends ReadableStream<infer P> ? P : never;
const usage = {
  inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 10, text: 10, reasoning: undefined },
};
const finish: ModelStreamPart = { type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage };

/** A model whose stream the test feeds by hand; `signal` is the abort signal of its call. */
function handFedModel() {
  const state: { feed?: ReadableStreamDefaultController<ModelStreamPart>; signal?: AbortSignal } = {};
  const model = new MockLanguageModelV4({
    doStream: async (options) => {
      state.signal = options.abortSignal;
      return { stream: new ReadableStream<ModelStreamPart>({ start: (c) => void (state.feed = c) }) };
    },
  });
  return {
    model,
    state,
    /** Feeds model stream parts (ignored once the model's stream was cancelled by an abort). */
    send(...parts: ModelStreamPart[]) {
      try {
        for (const part of parts) state.feed!.enqueue(part);
      } catch {}
    },
    close() {
      try {
        state.feed!.close();
      } catch {}
    },
  };
}

/** Polls until `check` gives a value. */
async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Reads a UI message stream in the background, as useChat does: the chunks, and the reply as it grows. */
function follow(stream: ReadableStream<UIMessageChunk>) {
  const chunks: UIMessageChunk[] = [];
  const state: { reply?: UIMessage } = {};
  const [forChunks, forMessage] = stream.tee();
  const done = Promise.all([
    (async () => {
      for await (const chunk of forChunks) chunks.push(chunk);
    })(),
    (async () => {
      for await (const snapshot of readUIMessageStream<UIMessage>({ stream: forMessage })) state.reply = snapshot;
    })(),
  ]);
  const text = () => (state.reply?.parts ?? []).map((p) => (p.type === 'text' ? p.text : '')).join('');
  return { chunks, state, done, text };
}

describe('resumable AI SDK replies, stored in Mnemo', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let mnemo: MnemoClient;
  beforeAll(async () => {
    server = await startTestServer();
    mnemo = createMnemoClient({ url: server.url, EventSource }); // the resume route subscribes: Node needs an EventSource
  });
  afterAll(() => server?.close());

  /** The browser's transport, its requests routed to the recipe's handlers (no network between them). */
  function transportFor(routes: ReturnType<typeof chatRoutes>) {
    return new DefaultChatTransport<UIMessage>({
      api: 'http://chat.test/api/chat',
      fetch: async (input, init) => {
        const request = new Request(input, init);
        const path = new URL(request.url).pathname.split('/');
        if (request.method === 'GET' && path.at(-1) === 'stream') return routes.resume(decodeURIComponent(path.at(-2)!));
        return routes.saveWhileStreaming(request);
      },
    });
  }
  const storedReply = async (chatId: string) =>
    (await mnemo.message.list.query({ sessionId: chatId })).items.find((m) => m.role === 'assistant');
  const question = (text: string): UIMessage => ({ id: generateId(), role: 'user', parts: [{ type: 'text', text }] });

  it('a client that drops mid-reply reconnects with resume: the text continues and ends complete', async () => {
    const chatId = generateId();
    const model = handFedModel();
    const routes = chatRoutes({ mnemo, model: model.model });
    const transport = transportFor(routes);
    const first = await transport.sendMessages({
      trigger: 'submit-message',
      chatId,
      messageId: undefined,
      messages: [question('Tell me a story')],
      abortSignal: undefined,
    });
    const reader = first.getReader();
    await eventually(() => model.state.feed, 'the model call');
    model.send({ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'Once upon' });
    let seen = '';
    while (!seen.includes('Once upon')) {
      const { value } = await reader.read();
      if (value?.type === 'text-delta') seen += value.delta;
    }
    await eventually(async () => ((await storedReply(chatId))?.content === 'Once upon' ? true : undefined), 'the partial reply stored');
    await reader.cancel(); // the tab is closed, the phone loses the network…
    model.send({ type: 'text-delta', id: 't', delta: ' a time' }); // …while the model goes on
    await eventually(async () => ((await storedReply(chatId))?.content === 'Once upon a time' ? true : undefined), 'more stored');

    // The page reloads: useChat({ resume: true }) asks for the chat's stream.
    const resumed = await transport.reconnectToStream({ chatId });
    expect(resumed).not.toBeNull();
    const reading = follow(resumed!);
    await eventually(() => (reading.text() === 'Once upon a time' ? true : undefined), 'the reply so far');
    model.send({ type: 'text-delta', id: 't', delta: ' there was a test.' }, { type: 'text-end', id: 't' }, finish);
    model.close();
    await reading.done;
    const stored = await eventually(async () => {
      const m = await storedReply(chatId);
      return m?.status === 'complete' ? m : undefined;
    }, 'the complete reply');
    expect(stored.content).toBe('Once upon a time there was a test.');
    expect(reading.text()).toBe('Once upon a time there was a test.');
    expect(reading.state.reply?.id).toBe(stored.uuid); // the same message as the one reloaded from Mnemo
    expect(reading.chunks[0]).toEqual({ type: 'start', messageId: stored.uuid });
    expect(reading.chunks.at(-1)).toEqual({ type: 'finish' });
    // Nothing twice: the resumed stream's deltas add up to the reply.
    const deltas = reading.chunks.flatMap((c) => (c.type === 'text-delta' ? [c.delta] : []));
    expect(deltas.join('')).toBe(stored.content);

    // Once it is complete, nothing is in progress: the resume request is answered 204.
    expect(await transport.reconnectToStream({ chatId })).toBeNull();
  });

  it('a stop from a second client: every reader sees it stopped, the model’s stream is aborted, the text stays', async () => {
    const chatId = generateId();
    const model = handFedModel();
    const routes = chatRoutes({ mnemo, model: model.model });
    const transport = transportFor(routes);
    const original = follow(
      await transport.sendMessages({
        trigger: 'submit-message',
        chatId,
        messageId: undefined,
        messages: [question('Count to a thousand')],
        abortSignal: undefined,
      }),
    );
    await eventually(() => model.state.feed, 'the model call');
    model.send({ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: 'One, two,' });
    await eventually(async () => ((await storedReply(chatId))?.content === 'One, two,' ? true : undefined), 'the partial reply stored');
    const otherTab = follow((await transport.reconnectToStream({ chatId }))!);
    await eventually(() => (otherTab.text() === 'One, two,' ? true : undefined), 'the other tab reading');

    // A second device presses Stop.
    const response = await routes.stop(chatId);
    expect(response.status).toBe(204);
    expect(await storedReply(chatId)).toMatchObject({ content: 'One, two,', status: 'stopped' });
    await otherTab.done;
    expect(otherTab.chunks.at(-1)).toEqual({ type: 'abort', reason: 'stopped' });
    // The writer hears of it with the model's next chunk: it aborts the model call.
    model.send({ type: 'text-delta', id: 't', delta: ' three,' });
    await eventually(() => (model.state.signal?.aborted ? true : undefined), 'the model call aborted');
    await original.done;
    expect(original.chunks.some((c) => c.type === 'abort')).toBe(true);
    expect(await storedReply(chatId)).toMatchObject({ content: 'One, two,', status: 'stopped' });
    expect((await routes.stop(chatId)).status).toBe(204); // again: nothing to stop
    expect(await transport.reconnectToStream({ chatId })).toBeNull();
  });

  it('saveStreamingReply stops writing and aborts when its message is stopped', async () => {
    const sessionId = generateId();
    const id = generateId();
    const abortController = new AbortController();
    const states = (async function* () {
      for (let i = 1; i <= 1000 && !abortController.signal.aborted; i++) {
        if (i === 3) await mnemo.message.stop.mutate({ sessionId, uuid: id });
        yield { id, role: 'assistant', parts: [{ type: 'text', text: 'x'.repeat(i), state: 'streaming' }] } satisfies UIMessage;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const stored = await saveStreamingReply(mnemo, { sessionId, reply: states, throttleMs: 0, abortController });
    expect(abortController.signal.aborted).toBe(true);
    expect(stored).toMatchObject({ uuid: id, status: 'stopped' });
    expect((await mnemo.message.get.query({ sessionId, uuid: id })).status).toBe('stopped');
  });

  it('turns stream events into UI message chunks: parts that grow give deltas, tools their input and output', () => {
    const toChunks = createChunker();
    const message = (parts: unknown[]) => ({
      type: 'message' as const,
      message: {
        uuid: 'm1',
        sessionId: 's',
        seq: 2,
        role: 'assistant',
        content: '',
        parts: parts as { type: string }[],
        status: 'streaming' as const,
        metadata: {},
        tokenCount: 0,
        createdAt: new Date(),
        updatedAt: new Date(),
      },
    });
    const tool = { type: 'tool-weather', toolCallId: 'c1', input: { city: 'Lisbon' } };
    expect(toChunks(message([{ type: 'step-start' }, { ...tool, state: 'input-available' }]))).toEqual([
      { type: 'start', messageId: 'm1' },
      { type: 'start-step' },
      { type: 'tool-input-available', toolCallId: 'c1', toolName: 'weather', input: { city: 'Lisbon' } },
    ]);
    const withOutput = [{ type: 'step-start' }, { ...tool, state: 'output-available', output: { celsius: 21 } }];
    expect(toChunks(message([...withOutput, { type: 'step-start' }, { type: 'text', text: 'It is', state: 'streaming' }]))).toEqual([
      { type: 'tool-output-available', toolCallId: 'c1', output: { celsius: 21 } },
      { type: 'finish-step' },
      { type: 'start-step' },
      { type: 'text-start', id: '3' },
      { type: 'text-delta', id: '3', delta: 'It is' },
    ]);
    expect(toChunks(message([...withOutput, { type: 'step-start' }, { type: 'text', text: 'It is 21 °C.', state: 'done' }]))).toEqual([
      { type: 'text-delta', id: '3', delta: ' 21 °C.' },
      { type: 'text-end', id: '3' },
    ]);
    expect(toChunks({ type: 'end', status: 'complete' })).toEqual([{ type: 'finish' }]);
    // A message without parts (appended to through message.update) is one text part that grows.
    const plain = createChunker();
    expect(plain({ ...message([]), message: { ...message([]).message, parts: undefined, content: 'Hi' } })).toEqual([
      { type: 'start', messageId: 'm1' },
      { type: 'text-start', id: '0' },
      { type: 'text-delta', id: '0', delta: 'Hi' },
    ]);
    expect(plain({ type: 'append', text: ' there' })).toEqual([{ type: 'text-delta', id: '0', delta: ' there' }]);
    expect(plain({ type: 'end', status: 'interrupted' })).toEqual([
      { type: 'text-end', id: '0' },
      { type: 'error', errorText: expect.stringContaining('interrupted') },
    ]);
  });
});
