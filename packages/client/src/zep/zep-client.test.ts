import { randomUUID } from 'node:crypto';
import { startTestServer } from '@mnemo/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APIError,
  AuthenticationError,
  CreateUserRequest,
  Memory,
  MemorySearchPayload,
  MemorySearchResult,
  Message,
  NotFoundError,
  Session,
  UpdateUserRequest,
  User,
  ZepClient,
} from '../index';
import { signToken } from '../test-token';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;

describe('ZepClient facade', () => {
  let server: TestServer;
  let client: ZepClient;
  beforeAll(async () => {
    server = await startTestServer({ messageWindow: 3 });
    client = await ZepClient.init(server.url);
  });
  afterAll(() => server?.close());

  it('init checks /healthz and fails on a server that does not answer', async () => {
    expect(client.baseURL).toBe(server.url);
    expect(client.headers).toEqual({});
    await expect(ZepClient.init('http://127.0.0.1:9')).rejects.toThrow(/Failed to connect to Zep server/);
  });

  it('user: add, get, update, list, listChunked, getSessions, delete', async () => {
    const prefix = `u-${randomUUID()}`;
    const added = await client.user.add(
      new CreateUserRequest({ user_id: `${prefix}-0`, email: 'ada@example.com', first_name: 'Ada', metadata: { tier: 'free' } }),
    );
    expect(added).toBeInstanceOf(User);
    expect(added.toDict()).toEqual({
      user_id: `${prefix}-0`,
      uuid: expect.any(String),
      created_at: expect.any(Date),
      updated_at: expect.any(Date),
      email: 'ada@example.com',
      first_name: 'Ada',
      metadata: { tier: 'free' },
    });
    for (let i = 1; i < 5; i++) await client.user.add({ user_id: `${prefix}-${i}` });

    expect(await client.user.get(`${prefix}-0`)).toEqual(added);

    const updated = await client.user.update(
      new UpdateUserRequest({ user_id: `${prefix}-0`, last_name: 'Lovelace', metadata: { plan: 'pro' } }),
    );
    expect(updated).toMatchObject({ first_name: 'Ada', last_name: 'Lovelace', metadata: { tier: 'free', plan: 'pro' } });

    const all = (await client.user.list()).map((u) => u.user_id);
    expect(all).toEqual(Array.from({ length: 5 }, (_, i) => `${prefix}-${i}`));
    expect((await client.user.list(2, 3)).map((u) => u.user_id)).toEqual([`${prefix}-3`, `${prefix}-4`]);
    const chunks: string[][] = [];
    for await (const chunk of client.user.listChunked(2)) chunks.push(chunk.map((u) => u.user_id));
    expect(chunks).toEqual([all.slice(0, 2), all.slice(2, 4), all.slice(4)]);

    await client.memory.addSession(new Session({ session_id: `${prefix}-a`, user_id: `${prefix}-1`, metadata: {} }));
    await client.memory.addSession(new Session({ session_id: `${prefix}-b`, user_id: `${prefix}-1`, metadata: {} }));
    const sessions = await client.user.getSessions(`${prefix}-1`);
    expect(sessions.every((s) => s instanceof Session)).toBe(true);
    expect(sessions.map((s) => s.session_id)).toEqual([`${prefix}-a`, `${prefix}-b`]);

    expect(await client.user.delete(`${prefix}-1`)).toBe('OK');
    await expect(client.user.get(`${prefix}-1`)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.memory.getSession(`${prefix}-a`)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.user.getSessions(`${prefix}-1`)).rejects.toBeInstanceOf(NotFoundError);

    const duplicate = await client.user.add({ user_id: `${prefix}-0` }).catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(APIError);
    expect(duplicate).toMatchObject({ code: 409 });
  });

  it('memory: addMemory, getMemory (window and lastn), deleteMemory', async () => {
    const sessionId = `m-${randomUUID()}`;
    const memory = new Memory({
      messages: [
        { role: 'human', content: 'Hello', metadata: { lang: 'en' } },
        { role: 'ai', content: 'Hi! How can I help?' },
        { role: 'human', content: 'What is the capital of France?' },
        { role: 'ai', content: 'Paris.', token_count: 7 },
      ],
    });
    // The session does not exist yet: adding memory creates it.
    expect(await client.memory.addMemory(sessionId, memory)).toBe('OK');
    expect((await client.memory.getSession(sessionId)).session_id).toBe(sessionId);

    const windowed = await client.memory.getMemory(sessionId); // the server's window: 3
    expect(windowed).toBeInstanceOf(Memory);
    expect(windowed.messages.map((m) => m.content)).toEqual(['Hi! How can I help?', 'What is the capital of France?', 'Paris.']);
    const [first] = windowed.messages;
    expect(first).toBeInstanceOf(Message);
    expect(first?.toDict()).toEqual({
      uuid: expect.any(String),
      created_at: expect.stringMatching(/Z$/),
      updated_at: expect.stringMatching(/Z$/),
      role: 'ai',
      content: 'Hi! How can I help?',
      token_count: expect.any(Number),
      metadata: {},
    });
    expect(first!.token_count).toBeGreaterThan(0);
    expect(windowed.messages[2]?.token_count).toBe(7);

    const last = await client.memory.getMemory(sessionId, 1);
    expect(last.messages.map((m) => m.content)).toEqual(['Paris.']);

    // A message carrying a uuid already stored is not stored twice (chat UIs resending history).
    await client.memory.addMemory(sessionId, new Memory({ messages: [last.messages[0]!.toDict()] }));
    expect((await client.message.getSessionMessages(sessionId)).map((m) => m.content)).toHaveLength(4);

    expect(await client.memory.deleteMemory(sessionId)).toBe('OK');
    await expect(client.memory.getMemory(sessionId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.memory.deleteMemory(sessionId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('message: getSessionMessages (1-based pages), getSessionMessage, updateSessionMessageMetadata', async () => {
    const sessionId = `msg-${randomUUID()}`;
    const contents = ['one', 'two', 'three', 'four', 'five'];
    await client.memory.addMemory(sessionId, new Memory({ messages: contents.map((content) => ({ role: 'human', content })) }));

    const all = await client.message.getSessionMessages(sessionId);
    expect(all.map((m) => m.content)).toEqual(contents);
    expect((await client.message.getSessionMessages(sessionId, 2)).map((m) => m.content)).toEqual(['one', 'two']);
    expect((await client.message.getSessionMessages(sessionId, 2, 2)).map((m) => m.content)).toEqual(['three', 'four']);
    expect((await client.message.getSessionMessages(sessionId, 2, 3)).map((m) => m.content)).toEqual(['five']);
    expect(await client.message.getSessionMessages(sessionId, 2, 4)).toEqual([]);

    const uuid = all[1]!.uuid!;
    const one = await client.message.getSessionMessage(sessionId, uuid);
    expect(one.toDict()).toEqual(all[1]!.toDict());

    await client.message.updateSessionMessageMetadata(sessionId, uuid, { foo: { bar: 1 } });
    const updated = await client.message.updateSessionMessageMetadata(sessionId, uuid, { foo: { baz: 2 }, system: 'dropped' });
    expect(updated.metadata).toEqual({ foo: { bar: 1, baz: 2 } });
    expect(updated.token_count).toBe(one.token_count);
    expect((await client.message.getSessionMessage(sessionId, uuid)).metadata).toEqual({ foo: { bar: 1, baz: 2 } });

    await expect(client.message.getSessionMessage(sessionId, randomUUID())).rejects.toBeInstanceOf(NotFoundError);
    expect(await client.message.getSessionMessages(`nope-${randomUUID()}`)).toEqual([]); // as Zep's REST API answers
  });

  it('errors: NotFoundError for unknown sessions, APIError with the status for bad input', async () => {
    const unknown = `unknown-${randomUUID()}`;
    const notFound = await client.memory.getSession(unknown).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect(notFound).toMatchObject({ name: 'NotFoundError', code: 404, message: expect.stringContaining(unknown) });
    await expect(client.memory.updateSession(new Session({ session_id: unknown, metadata: { a: 1 } }))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(client.memory.getMemory(unknown)).rejects.toBeInstanceOf(NotFoundError);

    const bad = await client.memory
      .addSession(new Session({ session_id: `bad-${randomUUID()}`, metadata: { $set: 1 } }))
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(APIError);
    expect(bad).toMatchObject({ code: 400 });
    await expect(client.memory.listSessions(-1)).rejects.toBeInstanceOf(APIError);

    // Like zep-js, empty ids are refused before any request.
    await expect(client.memory.getSession('')).rejects.toThrow('sessionId must be provided');
  });

  it('searchMemory ranks messages by text and filters by metadata, as zep-js does', async () => {
    const sessionId = `search-${randomUUID()}`;
    await client.memory.addMemory(
      sessionId,
      new Memory({
        messages: [
          new Message({ role: 'user', content: 'Remind me to water the tomatoes.', metadata: { kind: 'garden' } }),
          new Message({ role: 'user', content: 'Book a table for two at 8pm.', metadata: { kind: 'dinner' } }),
        ],
      }),
    );
    const [best] = await client.memory.searchMemory(sessionId, new MemorySearchPayload({ text: 'watering tomato plants' }));
    expect(best).toBeInstanceOf(MemorySearchResult);
    expect(best?.message).toBeInstanceOf(Message);
    expect(best?.message?.content).toBe('Remind me to water the tomatoes.');
    expect(best?.dist).toBeGreaterThan(0);
    const dinner = await client.searchMemory(sessionId, { metadata: { 'metadata.kind': 'dinner' } }, 5);
    expect(dinner.map((r) => r.message?.content)).toEqual(['Book a table for two at 8pm.']);
    expect(dinner[0]?.metadata).toEqual({ kind: 'dinner' });
    await expect(client.memory.searchMemory(sessionId, {})).rejects.toBeInstanceOf(APIError);
    await expect(client.memory.searchMemory(`missing-${randomUUID()}`, { text: 'x' })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('ZepClient with auth on', () => {
  const secret = `secret-${randomUUID()}`;
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ authSecret: secret });
  });
  afterAll(() => server?.close());

  it('sends the api key; a missing or wrong key is an AuthenticationError', async () => {
    const token = await signToken(secret);
    const client = await ZepClient.init(server.url, token); // /healthz stays open
    expect(client.headers).toEqual({ Authorization: `Bearer ${token}` });
    const sessionId = `auth-${randomUUID()}`;
    await client.memory.addSession(new Session({ session_id: sessionId, metadata: {} }));
    expect((await client.memory.getSession(sessionId)).session_id).toBe(sessionId);

    const anonymous = await ZepClient.init(server.url);
    const denied = await anonymous.memory.getSession(sessionId).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(AuthenticationError);
    expect(denied).toMatchObject({ code: 401 });
    const forged = new ZepClient(server.url, await signToken('not the secret'));
    await expect(forged.memory.listSessions()).rejects.toBeInstanceOf(AuthenticationError);
  });
});
