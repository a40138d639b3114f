import { randomUUID } from 'node:crypto';
import { startTestServer } from '@mnemo/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMnemoClient, type MnemoClient } from './index';
import { codeOf, signToken } from './test-token';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

describe('createMnemoClient against a running server', () => {
  let server: TestServer;
  let trpc: MnemoClient;
  beforeAll(async () => {
    server = await startTestServer();
    trpc = createMnemoClient({ url: server.url });
  });
  afterAll(() => server?.close());

  it('message.list pages backward, newest first, for scroll-back', async () => {
    const sessionId = `back-${randomUUID()}`;
    await trpc.memory.add.mutate({ sessionId, messages: ['one', 'two', 'three'].map((content) => ({ role: 'user', content })) });
    const newest = await trpc.message.list.query({ sessionId, limit: 2, order: 'desc' });
    expect(newest.items.map((m) => m.content)).toEqual(['three', 'two']);
    const older = await trpc.message.list.query({ sessionId, limit: 2, order: 'desc', cursor: newest.nextCursor });
    expect(older).toMatchObject({ items: [{ content: 'one' }], nextCursor: null, total: 3 });
  });

  it('answers any number of calls made in the same tick (batches are split to fit the server)', async () => {
    const sessionId = `many-${randomUUID()}`;
    await trpc.memory.add.mutate({ sessionId, messages: [{ role: 'user', content: 'hi' }] });
    const replies = await Promise.all(Array.from({ length: 300 }, () => trpc.memory.get.query({ sessionId, lastn: 1 })));
    expect(replies.every((r) => r.messages[0]?.content === 'hi')).toBe(true);
    const ids = Array.from({ length: 120 }, (_, i) => `batch-${i}-${'x'.repeat(200)}`);
    expect(await Promise.all(ids.map((id) => codeOf(trpc.session.get.query({ sessionId: id }))))).toEqual(ids.map(() => 'NOT_FOUND'));
  });

  it('user.add / get / update / list / sessions / delete round-trip, with Dates', async () => {
    const userId = `u-${randomUUID()}`;
    const added = await trpc.user.add.mutate({ userId, email: 'ada@example.com', firstName: 'Ada', metadata: { tier: 'free' } });
    expect(added).toMatchObject({ userId, email: 'ada@example.com', firstName: 'Ada', metadata: { tier: 'free' } });
    expect(added.createdAt).toBeInstanceOf(Date);
    expect(added.updatedAt).toBeInstanceOf(Date);

    const got = await trpc.user.get.query({ userId });
    expect(got).toEqual(added);

    const updated = await trpc.user.update.mutate({ userId, lastName: 'Lovelace', metadata: { plan: { seats: 2 } } });
    expect(updated).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', metadata: { tier: 'free', plan: { seats: 2 } } });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(added.updatedAt.getTime());

    const listed = await trpc.user.list.query({ limit: 100 });
    expect(listed.items.map((u) => u.userId)).toContain(userId);
    expect(listed.items.find((u) => u.userId === userId)?.createdAt).toBeInstanceOf(Date);

    await trpc.session.add.mutate({ sessionId: `${userId}-s1`, userId });
    await trpc.session.add.mutate({ sessionId: `${userId}-s2`, userId });
    const sessions = await trpc.user.sessions.query({ userId, limit: 1 });
    expect(sessions.items.map((s) => s.sessionId)).toEqual([`${userId}-s1`]);
    const rest = await trpc.user.sessions.query({ userId, limit: 1, cursor: sessions.nextCursor });
    expect(rest.items.map((s) => s.sessionId)).toEqual([`${userId}-s2`]);

    await trpc.user.delete.mutate({ userId });
    expect(await codeOf(trpc.user.get.query({ userId }))).toBe('NOT_FOUND');
    expect(await codeOf(trpc.session.get.query({ sessionId: `${userId}-s1` }))).toBe('NOT_FOUND');
  });

  it('session.add / get / update / list / delete round-trip, with Dates', async () => {
    const sessionId = `s-${randomUUID()}`;
    const added = await trpc.session.add.mutate({ sessionId, metadata: { foo: 'bar' } });
    expect(added).toMatchObject({ sessionId, userId: null, metadata: { foo: 'bar' } });
    expect(added.createdAt).toBeInstanceOf(Date);

    expect(await trpc.session.get.query({ sessionId })).toEqual(added);

    const updated = await trpc.session.update.mutate({ sessionId, metadata: { qax: 'baz' } });
    expect(updated.metadata).toEqual({ foo: 'bar', qax: 'baz' });
    expect(updated.updatedAt).toBeInstanceOf(Date);

    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof trpc.session.list.query>> = await trpc.session.list.query({ limit: 2, cursor });
      ids.push(...page.items.map((s) => s.sessionId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(ids).toContain(sessionId);
    expect(new Set(ids).size).toBe(ids.length);

    await trpc.session.delete.mutate({ sessionId });
    expect(await codeOf(trpc.session.get.query({ sessionId }))).toBe('NOT_FOUND');
  });

  it('memory.add / get / search / delete and message.list / get / update', async () => {
    const sessionId = `m-${randomUUID()}`;
    const createdAt = new Date('2024-01-02T03:04:05.678Z');
    const { messages: stored } = await trpc.memory.add.mutate({
      sessionId,
      messages: [
        { role: 'human', content: 'Hello', metadata: { lang: 'en' }, createdAt },
        { role: 'ai', content: 'Hi! How can I help?' },
        { role: 'human', content: 'Tell me a joke', tokenCount: 42 },
      ],
    });
    expect(stored.map((m) => m.content)).toEqual(['Hello', 'Hi! How can I help?', 'Tell me a joke']);
    expect(stored[0]?.createdAt).toEqual(createdAt);
    expect(stored[1]?.tokenCount).toBeGreaterThan(0);
    expect(stored[2]?.tokenCount).toBe(42);

    // Adding the same uuid again stores nothing twice.
    await trpc.memory.add.mutate({ sessionId, messages: [{ uuid: stored[0]!.uuid, role: 'human', content: 'Hello' }] });

    const memory = await trpc.memory.get.query({ sessionId, lastn: 2 });
    expect(memory.messages.map((m) => m.content)).toEqual(['Hi! How can I help?', 'Tell me a joke']);
    expect(memory.messages[0]?.createdAt).toBeInstanceOf(Date);

    const page1 = await trpc.message.list.query({ sessionId, limit: 2 });
    expect(page1.items.map((m) => m.seq)).toEqual([1, 2]);
    const page2 = await trpc.message.list.query({ sessionId, limit: 2, cursor: page1.nextCursor });
    expect(page2).toMatchObject({ items: [{ content: 'Tell me a joke', seq: 3 }], nextCursor: null });

    const one = await trpc.message.get.query({ sessionId, uuid: stored[0]!.uuid });
    expect(one).toEqual(stored[0]);

    const changed = await trpc.message.update.mutate({ sessionId, uuid: stored[0]!.uuid, metadata: { sentiment: 'happy' } });
    expect(changed.metadata).toEqual({ lang: 'en', sentiment: 'happy' });
    expect(changed.tokenCount).toBe(stored[0]!.tokenCount);

    const [joke] = await trpc.memory.search.query({ sessionId, text: 'jokes', limit: 1 });
    expect(joke?.message).toMatchObject({ content: 'Tell me a joke', seq: 3 });
    expect(joke?.dist).toBeGreaterThan(0);
    expect(await codeOf(trpc.memory.search.query({ sessionId }))).toBe('BAD_REQUEST');

    await trpc.memory.delete.mutate({ sessionId });
    expect(await trpc.memory.get.query({ sessionId })).toEqual({ messages: [] }); // a deleted chat reads as a new one
    expect(await codeOf(trpc.session.get.query({ sessionId }))).toBe('NOT_FOUND');
    expect(await codeOf(trpc.message.get.query({ sessionId, uuid: stored[0]!.uuid }))).toBe('NOT_FOUND');
  });

  it('admin.purge hard-deletes soft-deleted records, after which the id can be reused', async () => {
    const sessionId = `p-${randomUUID()}`;
    await trpc.memory.add.mutate({ sessionId, messages: [{ role: 'human', content: 'bye' }] });
    await trpc.memory.delete.mutate({ sessionId });
    expect(await codeOf(trpc.session.add.mutate({ sessionId }))).toBe('CONFLICT');

    const purged = await trpc.admin.purge.mutate({ graceMs: 0 });
    expect(purged.sessions).toBeGreaterThanOrEqual(1);
    expect(purged.messages).toBeGreaterThanOrEqual(1);
    expect((await trpc.session.add.mutate({ sessionId })).sessionId).toBe(sessionId);
  });

  it('reports NOT_FOUND, CONFLICT and BAD_REQUEST on err.data.code', async () => {
    const sessionId = `e-${randomUUID()}`;
    expect(await codeOf(trpc.session.get.query({ sessionId }))).toBe('NOT_FOUND');
    expect(await codeOf(trpc.session.update.mutate({ sessionId, metadata: { a: 1 } }))).toBe('NOT_FOUND');
    expect(await codeOf(trpc.session.add.mutate({ sessionId, userId: `nobody-${randomUUID()}` }))).toBe('NOT_FOUND');
    expect(await codeOf(trpc.message.get.query({ sessionId, uuid: randomUUID() }))).toBe('NOT_FOUND');

    await trpc.session.add.mutate({ sessionId });
    expect(await codeOf(trpc.session.add.mutate({ sessionId }))).toBe('CONFLICT');

    expect(await codeOf(trpc.session.add.mutate({ sessionId: '' }))).toBe('BAD_REQUEST');
    expect(await codeOf(trpc.session.update.mutate({ sessionId, metadata: { $where: 1 } }))).toBe('BAD_REQUEST');
    expect(await codeOf(trpc.message.get.query({ sessionId, uuid: 'not an id' }))).toBe('BAD_REQUEST');
    expect(await codeOf(trpc.session.list.query({ limit: 101 }))).toBe('BAD_REQUEST');
    expect(await codeOf(trpc.session.list.query({ cursor: 'garbage' }))).toBe('BAD_REQUEST');

    // Nothing of the rejected writes was stored.
    expect((await trpc.session.get.query({ sessionId })).metadata).toEqual({});
  });

  it('batches concurrent calls into one request and still resolves each', async () => {
    const requests: string[] = [];
    const counting = createMnemoClient({
      url: `${server.url}/`,
      fetch: (input, init) => {
        requests.push(String(input instanceof Request ? input.url : input));
        return fetch(input, init);
      },
    });
    const ids = [randomUUID(), randomUUID()].map((id) => `b-${id}`);
    const sessions = await Promise.all(ids.map((sessionId) => counting.session.add.mutate({ sessionId })));
    expect(sessions.map((s) => s.sessionId)).toEqual(ids);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toContain('/trpc/session.add,session.add?batch=1');
  });
});

describe('createMnemoClient with auth on', () => {
  const secret = `secret-${randomUUID()}`;
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ authSecret: secret });
  });
  afterAll(() => server?.close());

  it('sends the apiKey as a bearer token, which the server accepts', async () => {
    const token = await signToken(secret);
    const seen: (string | null)[] = [];
    const trpc = createMnemoClient({
      url: server.url,
      apiKey: token,
      fetch: (input, init) => {
        seen.push(new Headers(init?.headers).get('authorization'));
        return fetch(input, init);
      },
    });
    const sessionId = `a-${randomUUID()}`;
    await trpc.session.add.mutate({ sessionId });
    expect((await trpc.session.get.query({ sessionId })).sessionId).toBe(sessionId);
    expect(seen).toEqual([`Bearer ${token}`, `Bearer ${token}`]);
  });

  it('is UNAUTHORIZED without a key, with a wrong key and with an expired token', async () => {
    const without = createMnemoClient({ url: server.url });
    expect(await codeOf(without.session.list.query())).toBe('UNAUTHORIZED');
    const wrong = createMnemoClient({ url: server.url, apiKey: await signToken('another secret') });
    expect(await codeOf(wrong.session.list.query())).toBe('UNAUTHORIZED');
    const expired = createMnemoClient({ url: server.url, apiKey: await signToken(secret, { expiresIn: '-1m' }) });
    expect(await codeOf(expired.session.list.query())).toBe('UNAUTHORIZED');
  });
});
