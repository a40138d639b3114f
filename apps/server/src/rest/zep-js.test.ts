/**
 * The published Zep JavaScript SDK (@getzep/zep-js 0.10.0, installed from npm as a devDependency),
 * unchanged, against a real Mnemo server: what a Zep user switching over runs.
 */
import { randomUUID } from 'node:crypto';
import { AuthenticationError, Memory, Message, NotFoundError, Session, ZepClient } from '@getzep/zep-js';
import { describe, expect, it, vi } from 'vitest';
import { createToken } from '../auth';
import { useTestServer } from '../testing';

const server = useTestServer();
const authServer = useTestServer({ authSecret: 'zep-js-secret-0123456789abcdef0123' });
const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function connect(url = server().url, apiKey?: string): Promise<ZepClient> {
  const warn = vi.spyOn(console, 'warn');
  const client = await ZepClient.init(url, apiKey);
  expect(warn).not.toHaveBeenCalled(); // no "incompatible server version" warning
  return client;
}

describe('zep-js 0.10 against Mnemo', () => {
  it('sessions: addSession, getSession, updateSession, listSessions, listSessionsChunked', async () => {
    const zep = await connect(`${server().url}/`); // a trailing slash makes zep-js call //healthz
    const sessionId = id('zs');
    const added = await zep.memory.addSession(new Session({ session_id: sessionId, metadata: { a: { b: 1 } } }));
    expect(added).toBeInstanceOf(Session);
    expect(added).toMatchObject({ session_id: sessionId, metadata: { a: { b: 1 } } });
    expect((await zep.memory.getSession(sessionId)).uuid).toBe(added.uuid);
    const updated = await zep.memory.updateSession(new Session({ session_id: sessionId, metadata: { a: { c: 2 } } }));
    expect(updated.metadata).toEqual({ a: { b: 1, c: 2 } });

    for (let i = 0; i < 4; i++) await zep.memory.addSession(new Session({ session_id: id('zs'), metadata: {} }));
    const all = await zep.memory.listSessions();
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(await zep.memory.listSessions(2, all.length - 1)).toHaveLength(1);
    const chunked: string[] = [];
    for await (const chunk of zep.memory.listSessionsChunked(2)) chunked.push(...chunk.map((s) => s.session_id));
    expect(chunked).toEqual(all.map((s) => s.session_id));

    await expect(zep.memory.getSession('no-such-session')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('memory: addMemory → "OK", getMemory, deleteMemory, then NotFoundError', async () => {
    const zep = await connect();
    const sessionId = id('zm');
    const result = await zep.memory.addMemory(
      sessionId,
      new Memory({
        messages: [
          new Message({ role: 'human', content: 'Who was Ada Lovelace?', metadata: { topic: 'history' } }),
          new Message({ role: 'ai', content: 'A mathematician.' }),
        ],
      }),
    );
    expect(result).toBe('OK');
    const memory = await zep.memory.getMemory(sessionId);
    expect(memory?.messages.map((m) => [m.role, m.content])).toEqual([
      ['human', 'Who was Ada Lovelace?'],
      ['ai', 'A mathematician.'],
    ]);
    expect(memory?.messages[0]?.metadata).toEqual({ topic: 'history' });
    expect(memory?.messages[0]?.token_count).toBeGreaterThan(0);
    expect((await zep.memory.getMemory(sessionId, 1))?.messages).toHaveLength(1);

    expect(await zep.memory.deleteMemory(sessionId)).toBe('OK');
    await expect(zep.memory.getMemory(sessionId)).rejects.toBeInstanceOf(NotFoundError);
    await expect(zep.memory.deleteMemory(sessionId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('messages: getSessionMessages, getSessionMessage, updateSessionMessageMetadata', async () => {
    const zep = await connect();
    const sessionId = id('zmsg');
    await zep.memory.addMemory(sessionId, new Memory({ messages: [1, 2, 3].map((i) => new Message({ role: 'human', content: `m${i}` })) }));
    const messages = await zep.message.getSessionMessages(sessionId);
    expect(messages.map((m) => m.content)).toEqual(['m1', 'm2', 'm3']);
    expect((await zep.message.getSessionMessages(sessionId, 2, 2)).map((m) => m.content)).toEqual(['m3']);
    const uuid = messages[1]!.uuid!;
    expect((await zep.message.getSessionMessage(sessionId, uuid)).content).toBe('m2');
    const updated = await zep.message.updateSessionMessageMetadata(sessionId, uuid, { foo: 'bar' });
    expect(updated.metadata).toEqual({ foo: 'bar' });
    expect(updated.token_count).toBe(messages[1]!.token_count);
    await expect(zep.message.getSessionMessage(sessionId, randomUUID())).rejects.toBeInstanceOf(NotFoundError);
  });

  it('users: add, get, update, list, listChunked, getSessions, delete', async () => {
    const zep = await connect();
    const userId = id('zu');
    const user = await zep.user.add({ user_id: userId, email: 'ada@example.com', first_name: 'Ada', metadata: { a: 1 } });
    expect(user).toMatchObject({ user_id: userId, email: 'ada@example.com', first_name: 'Ada', metadata: { a: 1 } });
    expect((await zep.user.get(userId)).uuid).toBe(user.uuid);
    expect(await zep.user.update({ user_id: userId, last_name: 'Lovelace', metadata: { b: 2 } })).toMatchObject({
      first_name: 'Ada',
      last_name: 'Lovelace',
      metadata: { a: 1, b: 2 },
    });
    await zep.memory.addSession(new Session({ session_id: id('zus'), user_id: userId, metadata: {} }));
    expect(await zep.user.getSessions(userId)).toHaveLength(1);
    expect(await zep.user.getSessions('nobody-at-all')).toEqual([]);

    const all = await zep.user.list();
    const chunked: string[] = [];
    for await (const chunk of zep.user.listChunked(1)) chunked.push(...chunk.map((u) => u.user_id));
    expect(chunked).toEqual(all.map((u) => u.user_id));

    expect(await zep.user.delete(userId)).toBe('OK');
    await expect(zep.user.get(userId)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('auth: AuthenticationError without a key, works with a token from the secret', async () => {
    const anonymous = await connect(authServer().url); // /healthz stays open
    await expect(anonymous.memory.listSessions()).rejects.toBeInstanceOf(AuthenticationError);
    const zep = await connect(authServer().url, await createToken('zep-js-secret-0123456789abcdef0123'));
    expect(await zep.memory.listSessions()).toEqual([]);
  });
});
