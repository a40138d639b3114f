/**
 * Chat features through the typed client against the real server: new chats, client ids, edit,
 * delete, truncate, streaming replies and live updates (subscriptions over SSE).
 */
import { randomUUID } from 'node:crypto';
import { startTestServer } from '@mnemo/server/testing';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createMnemoClient, type MnemoClient, type RouterOutputs } from './index';
import { codeOf, signToken } from './test-token';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
/** What `onData` receives is `{ id, data }` (tracked events): the event is its data. */
type Event = (RouterOutputs['message']['onChange'] extends AsyncIterable<infer E> ? E : never)['data'];

/** Subscribes and collects events; `next(n)` resolves once `n` events have arrived in all (or throws after `ms`). */
function listen(
  subscribe: (handlers: { onData: (e: { id: string; data: unknown }) => void; onError: (err: unknown) => void }) => { unsubscribe(): void },
) {
  const events: { id: string; data: Event }[] = [];
  let failed: unknown;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  const subscription = subscribe({
    onData: (e) => {
      events.push(e as { id: string; data: Event });
      wake();
    },
    onError: (err) => {
      failed = err;
      wake();
    },
  });
  return {
    events,
    stop: () => subscription.unsubscribe(),
    async next(n: number, ms = 15_000) {
      const deadline = Date.now() + ms;
      while (events.length < n) {
        if (failed) throw failed;
        if (Date.now() > deadline)
          throw new Error(`only ${events.length} of ${n} events after ${ms} ms: ${JSON.stringify(events.map((e) => e.data.type))}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return events.slice(0, n).map((e) => e.data);
    },
  };
}

describe('chat features through the typed client', () => {
  let server: TestServer;
  let trpc: MnemoClient;
  beforeAll(async () => {
    server = await startTestServer();
    trpc = createMnemoClient({ url: server.url, EventSource });
  });
  afterAll(() => server?.close());

  it('a new chat has an empty history; the session itself is still NOT_FOUND', async () => {
    const sessionId = `new-${randomUUID()}`;
    expect(await trpc.memory.get.query({ sessionId })).toEqual({ messages: [] });
    expect(await trpc.message.list.query({ sessionId, order: 'desc' })).toEqual({ items: [], nextCursor: null, total: 0 });
    expect(await codeOf(trpc.session.get.query({ sessionId }))).toBe('NOT_FOUND');
  });

  it('takes SDK-made ids, edits, deletes and truncates; types are inferred', async () => {
    const sessionId = `edit-${randomUUID()}`;
    await trpc.memory.add.mutate({
      sessionId,
      messages: [
        { uuid: 'u1Xa9Kq2', role: 'user', content: 'What is 2+2?' },
        { uuid: 'a1Xa9Kq2', role: 'assistant', content: '5' },
        { uuid: 'u2Xa9Kq2', role: 'user', content: 'Are you sure?' },
      ],
    });
    const edited = await trpc.message.update.mutate({ sessionId, uuid: 'a1Xa9Kq2', content: '4' });
    expectTypeOf(edited.status).toEqualTypeOf<'complete' | 'streaming' | 'stopped' | 'interrupted'>();
    expect(edited).toMatchObject({ content: '4', status: 'complete' });
    expect(await trpc.message.delete.mutate({ sessionId, uuid: 'u2Xa9Kq2' })).toEqual({ deleted: 1 });
    expect(await trpc.message.truncate.mutate({ sessionId, uuid: 'u1Xa9Kq2' })).toEqual({ deleted: 1 });
    expect((await trpc.memory.get.query({ sessionId })).messages.map((m) => [m.uuid, m.content])).toEqual([['u1Xa9Kq2', 'What is 2+2?']]);
    expect(await codeOf(trpc.message.delete.mutate({ sessionId, uuid: 'u2Xa9Kq2' }))).toBe('NOT_FOUND');
    expect(await codeOf(trpc.message.get.query({ sessionId, uuid: 'no spaces allowed' }))).toBe('BAD_REQUEST');
  });

  it('saves a streamed reply as it grows: readers see the partial text and its status', async () => {
    const sessionId = `stream-${randomUUID()}`;
    await trpc.memory.add.mutate({ sessionId, messages: [{ uuid: 'reply', role: 'assistant', content: '', status: 'streaming' }] });
    for (const delta of ['Hel', 'lo', ' there']) await trpc.message.update.mutate({ sessionId, uuid: 'reply', append: delta });
    expect((await trpc.memory.get.query({ sessionId })).messages[0]).toMatchObject({ content: 'Hello there', status: 'streaming' });
    await trpc.message.update.mutate({ sessionId, uuid: 'reply', status: 'complete' });
    expect((await trpc.message.get.query({ sessionId, uuid: 'reply' })).status).toBe('complete');
  });

  it('message.onChange delivers writes from tRPC and REST alike, and resumes from the last event id', async () => {
    const sessionId = `live-${randomUUID()}`;
    const live = listen((handlers) => trpc.message.onChange.subscribe({ sessionId }, handlers));
    expect(await live.next(1)).toEqual([{ type: 'reset' }]);
    await trpc.memory.add.mutate({ sessionId, messages: [{ uuid: 'm1', role: 'user', content: 'from tRPC' }] });
    const rest = await fetch(`${server.url}/api/v1/sessions/${sessionId}/memory`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'assistant', content: 'from REST' }] }),
    });
    expect(rest.status).toBe(200);
    await trpc.message.delete.mutate({ sessionId, uuid: 'm1' });
    const [, added, fromRest, deleted] = await live.next(4);
    expect(added).toMatchObject({ type: 'messages', messages: [{ uuid: 'm1', content: 'from tRPC', seq: 1 }] });
    expect(fromRest).toMatchObject({ type: 'messages', messages: [{ content: 'from REST', seq: 2 }] });
    expect(deleted).toEqual({ type: 'deleted', sessionId, uuids: ['m1'] });
    if (added?.type === 'messages') expect(added.messages[0]!.createdAt).toBeInstanceOf(Date); // superjson
    live.stop();

    // Missed while disconnected: replayed on reconnect with the last id seen (as the link does by itself).
    await trpc.memory.add.mutate({ sessionId, messages: [{ role: 'user', content: 'while away' }] });
    const resumed = listen((handlers) => trpc.message.onChange.subscribe({ sessionId, lastEventId: live.events[1]!.id }, handlers));
    expect((await resumed.next(3)).map((e) => e.type)).toEqual(['messages', 'deleted', 'messages']);
    resumed.stop();
  });

  it('a dropped connection reconnects by itself and resumes: nothing written meanwhile is lost, no reset', async () => {
    const sessionId = `drop-${randomUUID()}`;
    const live = listen((handlers) => trpc.message.onChange.subscribe({ sessionId }, handlers));
    await live.next(1);
    await server.core.memory.add({ sessionId, messages: [{ role: 'user', content: 'before' }] });
    await live.next(2);
    server.app.server.closeAllConnections(); // as a proxy or a flaky network would
    await server.core.memory.add({ sessionId, messages: [{ role: 'user', content: 'while disconnected' }] });
    await server.core.memory.add({ sessionId, messages: [{ role: 'user', content: 'after' }] });
    const events = await live.next(4);
    expect(events.map((e) => (e.type === 'messages' ? e.messages[0]!.content : e.type))).toEqual([
      'reset',
      'before',
      'while disconnected',
      'after',
    ]);
    live.stop();
  });

  it('session.onChange follows one user’s sessions', async () => {
    const userId = `u-${randomUUID()}`;
    await trpc.user.add.mutate({ userId });
    const live = listen((handlers) => trpc.session.onChange.subscribe({ userId }, handlers));
    await live.next(1);
    await trpc.session.add.mutate({ sessionId: `${userId}-s`, userId, metadata: { title: 'hello' } });
    await trpc.session.add.mutate({ sessionId: `someone-else-${randomUUID()}` });
    await trpc.session.delete.mutate({ sessionId: `${userId}-s` });
    const [, created, deleted] = await live.next(3);
    expect(created).toMatchObject({ type: 'session', session: { sessionId: `${userId}-s`, userId, metadata: { title: 'hello' } } });
    expect(deleted).toEqual({ type: 'session-deleted', sessionId: `${userId}-s`, userId });
    live.stop();
  });
});

describe('subscriptions with auth on', () => {
  const secret = 'chat-test-secret-0123456789abcdef';
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ authSecret: secret });
  });
  afterAll(() => server?.close());

  it('need the token (sent as a connection parameter, kept out of the log line)', async () => {
    const token = await signToken(secret);
    const allowed = listen((handlers) =>
      createMnemoClient({ url: server.url, apiKey: token, EventSource }).message.onChange.subscribe({ sessionId: 's' }, handlers),
    );
    expect(await allowed.next(1)).toEqual([{ type: 'reset' }]);
    allowed.stop();
    const refused = listen((handlers) =>
      createMnemoClient({ url: server.url, EventSource }).message.onChange.subscribe({ sessionId: 's' }, handlers),
    );
    await expect(refused.next(1)).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    refused.stop();
  });
});
