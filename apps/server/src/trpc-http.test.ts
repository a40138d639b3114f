/**
 * Every tRPC procedure, reached over real HTTP at /trpc (batched, superjson), with the error codes
 * a client branches on.
 */
import { randomUUID } from 'node:crypto';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import type { AppRouter } from './router';
import { useTestServer } from './testing';

const server = useTestServer();
const client = () => createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${server().url}/trpc`, transformer: superjson })] });
const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function codeOf(call: Promise<unknown>): Promise<{ code: string; httpStatus: number }> {
  const error = await call.then(
    () => expect.unreachable('expected the call to fail'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCClientError);
  const data = (error as TRPCClientError<AppRouter>).data!;
  expect(data).not.toHaveProperty('stack'); // production mode: no stack traces for clients
  return { code: data.code, httpStatus: data.httpStatus };
}

describe('tRPC over HTTP', () => {
  it('user.*: add, get, update, list, sessions, delete', async () => {
    const trpc = client();
    const userId = id('u');
    const user = await trpc.user.add.mutate({ userId, email: 'a@example.com', metadata: { a: 1 } });
    expect(user).toMatchObject({ userId, email: 'a@example.com', metadata: { a: 1 } });
    expect(user.createdAt).toBeInstanceOf(Date); // superjson keeps Dates
    expect(await trpc.user.get.query({ userId })).toEqual(user);
    expect(await trpc.user.update.mutate({ userId, firstName: 'Ada', metadata: { b: 2 } })).toMatchObject({
      firstName: 'Ada',
      metadata: { a: 1, b: 2 },
    });
    const page = await trpc.user.list.query({ limit: 100 });
    expect(page.items.map((u) => u.userId)).toContain(userId);
    await trpc.session.add.mutate({ sessionId: id('s'), userId });
    expect((await trpc.user.sessions.query({ userId })).items).toHaveLength(1);
    await trpc.user.delete.mutate({ userId });

    expect(await codeOf(trpc.user.get.query({ userId }))).toEqual({ code: 'NOT_FOUND', httpStatus: 404 });
    expect(await codeOf(trpc.user.sessions.query({ userId }))).toEqual({ code: 'NOT_FOUND', httpStatus: 404 });
    expect(await codeOf(trpc.user.delete.mutate({ userId }))).toEqual({ code: 'NOT_FOUND', httpStatus: 404 });
    await trpc.user.add.mutate({ userId });
    expect(await codeOf(trpc.user.add.mutate({ userId }))).toEqual({ code: 'CONFLICT', httpStatus: 409 });
    expect(await codeOf(trpc.user.add.mutate({ userId: '' }))).toEqual({ code: 'BAD_REQUEST', httpStatus: 400 });
  });

  it('session.*: add, get, update, list, delete', async () => {
    const trpc = client();
    const sessionId = id('s');
    const session = await trpc.session.add.mutate({ sessionId, metadata: { a: { b: 1 } } });
    expect(session).toMatchObject({ sessionId, userId: null, metadata: { a: { b: 1 } } });
    expect(await trpc.session.get.query({ sessionId })).toEqual(session);
    expect((await trpc.session.update.mutate({ sessionId, metadata: { a: { c: 2 } } })).metadata).toEqual({ a: { b: 1, c: 2 } });

    const more = [id('s'), id('s')];
    for (const s of more) await trpc.session.add.mutate({ sessionId: s });
    const first = await trpc.session.list.query({ limit: 1 });
    expect(first.items).toHaveLength(1);
    expect(first.nextCursor).toEqual(expect.any(String));
    const rest = await trpc.session.list.query({ limit: 100, cursor: first.nextCursor });
    expect([...first.items, ...rest.items].map((s) => s.sessionId)).toEqual(expect.arrayContaining([sessionId, ...more]));

    await trpc.session.delete.mutate({ sessionId });
    expect(await codeOf(trpc.session.get.query({ sessionId }))).toEqual({ code: 'NOT_FOUND', httpStatus: 404 });
    expect(await codeOf(trpc.session.delete.mutate({ sessionId }))).toEqual({ code: 'NOT_FOUND', httpStatus: 404 });
    expect(await codeOf(trpc.session.add.mutate({ sessionId }))).toEqual({ code: 'CONFLICT', httpStatus: 409 });
    expect(await codeOf(trpc.session.add.mutate({ sessionId: id('s'), userId: 'nobody' }))).toEqual({
      code: 'NOT_FOUND',
      httpStatus: 404,
    });
    expect(await codeOf(trpc.session.list.query({ limit: 1, cursor: 'garbage' }))).toEqual({ code: 'BAD_REQUEST', httpStatus: 400 });
  });

  it('memory.* and message.*: add, get, list, get one, update, delete', async () => {
    const trpc = client();
    const sessionId = id('m');
    const added = await trpc.memory.add.mutate({
      sessionId,
      messages: [
        { role: 'human', content: 'Hi' },
        { role: 'ai', content: 'Hello', metadata: { x: 1 } },
      ],
    });
    expect(added.messages.map((m) => m.seq)).toEqual([1, 2]);
    const memory = await trpc.memory.get.query({ sessionId, lastn: 1 });
    expect(memory.messages.map((m) => m.content)).toEqual(['Hello']);

    const page = await trpc.message.list.query({ sessionId, limit: 1 });
    expect(page.items.map((m) => m.content)).toEqual(['Hi']);
    const next = await trpc.message.list.query({ sessionId, limit: 1, cursor: page.nextCursor });
    expect(next.items.map((m) => m.content)).toEqual(['Hello']);

    const uuid = added.messages[1]!.uuid;
    expect(await trpc.message.get.query({ sessionId, uuid })).toMatchObject({ uuid, content: 'Hello' });
    const updated = await trpc.message.update.mutate({ sessionId, uuid, metadata: { y: 2 } });
    expect(updated).toMatchObject({ metadata: { x: 1, y: 2 }, tokenCount: added.messages[1]!.tokenCount });

    expect(await codeOf(trpc.message.get.query({ sessionId, uuid: randomUUID() }))).toEqual({ code: 'NOT_FOUND', httpStatus: 404 });
    expect(await codeOf(trpc.message.get.query({ sessionId, uuid: 'no/pe' }))).toEqual({ code: 'BAD_REQUEST', httpStatus: 400 });
    expect(await codeOf(trpc.message.update.mutate({ sessionId, uuid: randomUUID(), metadata: {} }))).toEqual({
      code: 'NOT_FOUND',
      httpStatus: 404,
    });
    expect(await trpc.message.truncate.mutate({ sessionId, uuid: added.messages[0]!.uuid })).toEqual({ deleted: 1 });
    expect(await codeOf(trpc.message.delete.mutate({ sessionId, uuid }))).toEqual({ code: 'NOT_FOUND', httpStatus: 404 });

    await trpc.memory.delete.mutate({ sessionId });
    expect(await trpc.memory.get.query({ sessionId })).toEqual({ messages: [] });
    expect(await codeOf(trpc.session.get.query({ sessionId }))).toEqual({ code: 'NOT_FOUND', httpStatus: 404 });
    expect((await trpc.message.list.query({ sessionId })).items).toEqual([]);
    expect(await codeOf(trpc.memory.delete.mutate({ sessionId }))).toEqual({ code: 'NOT_FOUND', httpStatus: 404 });
  });

  it('admin.purge hard-deletes soft-deleted records so their ids can be reused', async () => {
    const trpc = client();
    const sessionId = id('p');
    await trpc.memory.add.mutate({ sessionId, messages: [{ role: 'human', content: 'bye' }] });
    await trpc.session.delete.mutate({ sessionId });
    const purged = await trpc.admin.purge.mutate();
    expect(purged.sessions).toBeGreaterThanOrEqual(1);
    expect(purged.messages).toBeGreaterThanOrEqual(1);
    expect(await server().core.collections.sessions.countDocuments({ sessionId })).toBe(0);
    await expect(trpc.session.add.mutate({ sessionId })).resolves.toMatchObject({ sessionId });
  });

  it('an unknown procedure → 404', async () => {
    const response = await fetch(`${server().url}/trpc/nope.nothing`);
    expect(response.status).toBe(404);
    expect(response.headers.get('x-zep-version')).toMatch(/^0\.27\.2-/);
  });
});
