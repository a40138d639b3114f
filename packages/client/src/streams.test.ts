/**
 * Resumable replies through the real server and the typed client (SSE): `message.stream` resumes
 * after a dropped connection and after a server restart, `message.stop` works from another client,
 * and the Zep REST view of a streaming or stopped message is what it always was.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { type Core, createCore } from '@mnemo/core';
import { createApp } from '@mnemo/server/app';
import { parseEnv } from '@mnemo/server/env';
import { startTestServer } from '@mnemo/server/testing';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createMnemoClient, type MnemoClient, type RouterOutputs } from './index';
import { readReply, stopReply, writeReply } from './streams.example';

type StreamEvent = (RouterOutputs['message']['stream'] extends AsyncIterable<infer E> ? E : never)['data'];

/** A reader over SSE: collects the events; `until(check)` waits until they satisfy it. */
function readStream(client: MnemoClient, input: { sessionId: string; uuid: string }) {
  const events: { id: string; data: StreamEvent }[] = [];
  let failed: unknown;
  let completed = false;
  const subscription = client.message.stream.subscribe(input, {
    onData: (e) => events.push(e),
    onError: (err) => (failed = err),
    onComplete: () => (completed = true),
  });
  return {
    events,
    data: () => events.map((e) => e.data),
    get completed() {
      return completed;
    },
    stop: () => subscription.unsubscribe(),
    async until(check: (events: StreamEvent[]) => boolean, what: string, ms = 20_000) {
      const deadline = Date.now() + ms;
      while (!check(events.map((e) => e.data))) {
        if (failed) throw failed;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(events.map((e) => e.data))}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

/** The text a reader has, rebuilt from its events. */
function textOf(events: StreamEvent[]): string {
  let text = '';
  for (const e of events) {
    if (e.type === 'message') text = e.message.content;
    if (e.type === 'append') text += e.text;
  }
  return text;
}
const ended = (events: StreamEvent[]) => events.some((e) => e.type === 'end');

async function eventuallyTrue(check: () => boolean | Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('message.stream and message.stop through the server', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let writer: MnemoClient;
  let reader: MnemoClient;
  beforeAll(async () => {
    server = await startTestServer();
    writer = createMnemoClient({ url: server.url });
    reader = createMnemoClient({ url: server.url, EventSource });
  });
  afterAll(() => server?.close());

  const startReply = async (sessionId: string, uuid: string) =>
    writer.memory.add.mutate({ sessionId, messages: [{ role: 'assistant', content: '', uuid, status: 'streaming' }] });

  it('resumes after a dropped connection: the client reconnects with its last event id and gets exactly the rest', async () => {
    const sessionId = randomUUID();
    await startReply(sessionId, 'r1');
    const r = readStream(reader, { sessionId, uuid: 'r1' });
    await r.until((e) => e.length === 1, 'the message');
    for (const word of ['one ', 'two ']) await writer.message.update.mutate({ sessionId, uuid: 'r1', append: word });
    await r.until((e) => textOf(e) === 'one two ', 'two appends');
    server.app.server.closeAllConnections(); // the network drops every connection
    // The writer's keep-alive connection went too: a request caught on it is retried (as a writer would).
    const write = (input: { append?: string; status?: 'complete' }) =>
      writer.message.update
        .mutate({ sessionId, uuid: 'r1', ...input })
        .catch(() => writer.message.update.mutate({ sessionId, uuid: 'r1', ...input }));
    for (const word of ['three ', 'four']) await write({ append: word });
    await write({ status: 'complete' });
    await r.until(ended, 'the end');
    expect(textOf(r.data())).toBe('one two three four');
    // One whole message at the start, then deltas only: nothing was sent twice.
    expect(r.data().filter((e) => e.type === 'message')).toHaveLength(1);
    expect(r.data().at(-1)).toEqual({ type: 'end', status: 'complete' });
  });

  it('several readers; a stop from another client ends the reply for all, and the writer’s next append is told so', async () => {
    const sessionId = randomUUID();
    await startReply(sessionId, 'r1');
    const readers = [0, 1, 2].map(() => readStream(createMnemoClient({ url: server.url, EventSource }), { sessionId, uuid: 'r1' }));
    await writer.message.update.mutate({ sessionId, uuid: 'r1', append: 'Half an' });
    for (const r of readers) await r.until((e) => textOf(e) === 'Half an', 'the first append');
    const other = createMnemoClient({ url: server.url });
    const stopped = await other.message.stop.mutate({ sessionId, uuid: 'r1' });
    expect(stopped).toMatchObject({ content: 'Half an', status: 'stopped' });
    expect(await other.message.stop.mutate({ sessionId, uuid: 'r1' })).toEqual(stopped); // idempotent
    const answer = await writer.message.update.mutate({ sessionId, uuid: 'r1', append: 'swer' });
    expect(answer).toMatchObject({ content: 'Half an', status: 'stopped' });
    for (const r of readers) {
      await r.until(ended, 'the end');
      expect(r.data().at(-1)).toEqual({ type: 'end', status: 'stopped' });
      expect(textOf(r.data())).toBe('Half an');
    }
  });

  it('the Zep REST view of a streaming and of a stopped message is what it always was', async () => {
    const sessionId = randomUUID();
    await writer.memory.add.mutate({ sessionId, messages: [{ role: 'assistant', content: 'Done.', uuid: 'done' }] });
    await startReply(sessionId, 'r1');
    await writer.message.update.mutate({ sessionId, uuid: 'r1', append: 'Partial' });
    const rest = async (uuid: string): Promise<Record<string, unknown>> =>
      (await (await fetch(`${server.url}/api/v1/sessions/${sessionId}/messages/${uuid}`)).json()) as Record<string, unknown>;
    const done = await rest('done');
    const streaming = await rest('r1');
    expect(Object.keys(streaming).sort()).toEqual(Object.keys(done).sort());
    expect(streaming).toMatchObject({ uuid: 'r1', role: 'assistant', content: 'Partial' });
    await writer.message.stop.mutate({ sessionId, uuid: 'r1' });
    const stopped = await rest('r1');
    expect(Object.keys(stopped).sort()).toEqual(Object.keys(done).sort());
    expect(stopped).toMatchObject({ content: 'Partial' });
    const memory = (await (await fetch(`${server.url}/api/v1/sessions/${sessionId}/memory`)).json()) as { messages: { content: string }[] };
    expect(memory.messages.map((m) => m.content)).toEqual(['Done.', 'Partial']);
  });

  it('the recipe of docs/streams.md: a reader follows the writer; a stop from a third client ends both', async () => {
    const sessionId = randomUUID();
    // The model's pieces, fed by the test.
    const queue: string[] = [];
    let wake: (() => void) | undefined;
    const feed = (piece: string) => {
      queue.push(piece);
      wake?.();
    };
    const pieces = (async function* () {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        yield queue.shift()!;
      }
    })();
    const writing = writeReply(writer, sessionId, 'r1', pieces);
    feed('Once upon');
    let seen = '';
    await eventuallyTrue(
      async () => (await writer.message.get.query({ sessionId, uuid: 'r1' }).catch(() => null))?.content === 'Once upon',
    );
    const reading = readReply(reader, sessionId, 'r1', (text) => (seen = text));
    await eventuallyTrue(() => seen === 'Once upon');
    feed(' a time');
    await eventuallyTrue(() => seen === 'Once upon a time');
    expect(await stopReply(createMnemoClient({ url: server.url }), sessionId, 'r1')).toMatchObject({ status: 'stopped' });
    expect(await reading).toBe('stopped');
    feed(' there was'); // the writer's next append is answered 'stopped'
    expect(await writing).toBe('stopped');
    expect(await writer.message.get.query({ sessionId, uuid: 'r1' })).toMatchObject({ content: 'Once upon a time', status: 'stopped' });
  });

  it('docs/streams.md shows streams.example.ts as it is', async () => {
    const doc = await readFile(new URL('../../../docs/streams.md', import.meta.url), 'utf8');
    expect(doc).toContain(await readFile(new URL('./streams.example.ts', import.meta.url), 'utf8'));
  });

  it('refuses a malformed event id and an unknown message', async () => {
    const sessionId = randomUUID();
    await startReply(sessionId, 'r1');
    const bad = readStream(reader, { sessionId, uuid: 'r1', lastEventId: 'x' } as { sessionId: string; uuid: string });
    await expect(bad.until(() => false, 'an error', 5000)).rejects.toMatchObject({ data: { code: 'BAD_REQUEST' } });
    const unknown = readStream(reader, { sessionId, uuid: 'nope' });
    await expect(unknown.until(() => false, 'an error', 5000)).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
    await expect(writer.message.stop.mutate({ sessionId, uuid: 'nope' })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
  });
});

describe('message.stream across a server restart', () => {
  const dbName = `test_${randomUUID().slice(0, 8)}`;
  let core: Core | undefined;
  let app: ReturnType<typeof createApp> | undefined;
  /** Mnemo on this file's database, on `port` (0: a free one), as `pnpm start` runs it. */
  async function start(port = 0): Promise<number> {
    core = createCore({ mongoUri: inject('mongoUri'), dbName, singleWriter: inject('singleWriter') ?? true });
    await core.init();
    await core.store.loaded();
    app = createApp({ config: parseEnv({ LOG_LEVEL: 'silent' }), core });
    await app.listen({ host: '127.0.0.1', port });
    return (app.server.address() as AddressInfo).port;
  }
  /** Stops it as SIGTERM does (subscriptions break off, connections close), keeping the database. */
  async function stop() {
    const closing = app!.close();
    app!.server.closeAllConnections();
    await closing;
    await core!.close();
  }
  afterAll(async () => {
    await app?.close();
    const drift = (await core?.store.verify()) ?? [];
    await core?.db.dropDatabase();
    await core?.close();
    expect(drift).toEqual([]);
  });

  it('a reader reconnects to the restarted server and gets exactly the rest: offsets come from what was stored', async () => {
    const port = await start();
    const url = `http://127.0.0.1:${port}`;
    const sessionId = randomUUID();
    const writer = createMnemoClient({ url });
    await writer.memory.add.mutate({ sessionId, messages: [{ role: 'assistant', content: 'Before', uuid: 'r1', status: 'streaming' }] });
    await writer.message.update.mutate({ sessionId, uuid: 'r1', append: ' the restart,' });
    const r = readStream(createMnemoClient({ url, EventSource }), { sessionId, uuid: 'r1' });
    await r.until((e) => textOf(e) === 'Before the restart,', 'the text so far');
    await stop();
    await start(port); // the same address: the reader's EventSource reconnects by itself
    await writer.message.update.mutate({ sessionId, uuid: 'r1', append: ' after it.' });
    await writer.message.update.mutate({ sessionId, uuid: 'r1', status: 'complete' });
    await r.until(ended, 'the end');
    r.stop();
    expect(textOf(r.data())).toBe('Before the restart, after it.');
    expect(r.data().filter((e) => e.type === 'message')).toHaveLength(1);
    expect(r.data().slice(1)).toEqual([
      { type: 'append', text: ' after it.' },
      { type: 'end', status: 'complete' },
    ]);
  });
});
