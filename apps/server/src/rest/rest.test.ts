/**
 * The Zep-compatible REST API over real HTTP against a real database: every route, its statuses
 * and JSON shapes (zep-api-reference.md §3 with DESIGN.md §4's fixes).
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { httpClient, type Reply } from '../test/http';
import { useTestServer } from '../testing';

const server = useTestServer({ messageWindow: 3 });
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Every response, errors included, must carry a version the Zep SDKs accept. */
async function api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply> {
  const reply = await httpClient(server().url)(method, `/api/v1${path}`, body, headers);
  expect(reply.headers.get('x-zep-version')).toMatch(/^0\.27\.2-\S+ \(.+\)$/);
  return reply;
}
const id = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const expectError = (reply: Reply, status: number, message?: RegExp) => {
  expect(reply.status).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.json).toEqual({ message: expect.any(String) });
  if (message) expect(reply.json.message).toMatch(message);
};
const addMessages = (sessionId: string, messages: object[]) =>
  api('POST', `/sessions/${encodeURIComponent(sessionId)}/memory`, { messages });

describe('sessions', () => {
  it('POST /sessions creates a session (201) with the Zep shape', async () => {
    const userId = id('u');
    expect((await api('POST', '/user', { user_id: userId })).status).toBe(201);
    const sessionId = id('s');
    const reply = await api('POST', '/sessions', { session_id: sessionId, user_id: userId, metadata: { a: { b: 1 } } });
    expect(reply.status).toBe(201);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(reply.json).toEqual({
      uuid: expect.stringMatching(UUID),
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
      deleted_at: null,
      session_id: sessionId,
      user_id: userId,
      metadata: { a: { b: 1 } },
    });
    const bare = await api('POST', '/sessions', { session_id: id('s') });
    expect(bare.json).toMatchObject({ user_id: null, metadata: {} });
  });

  it('POST /sessions: duplicate → 409, unknown user → 404, empty id → 400', async () => {
    const sessionId = id('s');
    await api('POST', '/sessions', { session_id: sessionId });
    expectError(await api('POST', '/sessions', { session_id: sessionId }), 409, /already exists/);
    expectError(await api('POST', '/sessions', { session_id: id('s'), user_id: 'nobody-here' }), 404, /user/);
    expectError(await api('POST', '/sessions', { session_id: '' }), 400, /session_id/);
  });

  it('GET /sessions/{id} returns the session; unknown → 404 JSON', async () => {
    const sessionId = `with space/and slash ${randomUUID()}`;
    await api('POST', '/sessions', { session_id: sessionId, metadata: { k: 'v' } });
    const reply = await api('GET', `/sessions/${encodeURIComponent(sessionId)}`);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ session_id: sessionId, metadata: { k: 'v' }, deleted_at: null });
    expectError(await api('GET', '/sessions/does-not-exist'), 404, /not found/);
  });

  it('PATCH /sessions/{id} merges metadata, drops `system`, keeps user_id; {} is a no-op', async () => {
    const sessionId = id('s');
    const created = (await api('POST', '/sessions', { session_id: sessionId, metadata: { a: { x: 1, y: 2 }, keep: true } })).json;
    const reply = await api('PATCH', `/sessions/${sessionId}`, {
      session_id: 'ignored',
      user_id: 'ignored',
      metadata: { a: { y: 3 }, n: null, system: { hack: 1 } },
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ session_id: sessionId, user_id: null, metadata: { a: { x: 1, y: 3 }, keep: true, n: null } });
    expect(reply.json.metadata).not.toHaveProperty('system');
    expect(Date.parse(reply.json.updated_at)).toBeGreaterThan(Date.parse(created.updated_at) - 1);
    expect(reply.json.updated_at).not.toBe(created.updated_at);

    const noop = await api('PATCH', `/sessions/${sessionId}`, { metadata: {} });
    expect(noop.status).toBe(200);
    expect(noop.json).toEqual(reply.json);
    expect((await api('PATCH', `/sessions/${sessionId}`, {})).json).toEqual(reply.json);
    expectError(await api('PATCH', '/sessions/does-not-exist', { metadata: { a: 1 } }), 404);
  });

  it('PATCH metadata {"$delete": true} removes a key of a session, message or user; it is a 400 at creation', async () => {
    const sessionId = id('s');
    await api('POST', '/sessions', { session_id: sessionId, metadata: { a: { b: 1, c: 2 }, d: 3 } });
    const reply = await api('PATCH', `/sessions/${sessionId}`, { metadata: { a: { $delete: true }, d: 4 } });
    expect(reply.status).toBe(200);
    expect(reply.json.metadata).toEqual({ d: 4 });
    expect((await api('GET', `/sessions/${sessionId}`)).json.metadata).toEqual({ d: 4 });
    expect((await api('PATCH', `/sessions/${sessionId}`, { metadata: { a: { $delete: true } } })).json.metadata).toEqual({ d: 4 });

    const uuid = randomUUID();
    await addMessages(sessionId, [{ uuid, role: 'human', content: 'x', metadata: { a: { b: 1, c: 2 } } }]);
    const message = await api('PATCH', `/sessions/${sessionId}/messages/${uuid}`, { metadata: { a: { b: { $delete: true } } } });
    expect(message.json.metadata).toEqual({ a: { c: 2 } });

    const userId = id('u');
    await api('POST', '/user', { user_id: userId, metadata: { a: 1, b: 2 } });
    expect((await api('PATCH', `/user/${userId}`, { metadata: { a: { $delete: true } } })).json.metadata).toEqual({ b: 2 });

    expectError(await api('POST', '/sessions', { session_id: id('s'), metadata: { a: { $delete: true } } }), 400, /metadata update/);
    expectError(await api('PATCH', `/sessions/${sessionId}`, { metadata: { list: [{ $delete: true }] } }), 400, /inside an array/);
  });

  it('GET /sessions: bare array; cursor is an offset; no limit → everything; past the end → []', async () => {
    const before = (await api('GET', '/sessions')).json as { session_id: string }[];
    const mine = [id('list'), id('list'), id('list')];
    for (const sessionId of mine) await api('POST', '/sessions', { session_id: sessionId });
    const all = await api('GET', '/sessions');
    expect(all.status).toBe(200);
    expect(all.json).toHaveLength(before.length + 3);
    expect(all.json.slice(-3).map((s: { session_id: string }) => s.session_id)).toEqual(mine);

    const n = all.json.length;
    const page = await api('GET', `/sessions?limit=2&cursor=${n - 3}`);
    expect(page.json.map((s: { session_id: string }) => s.session_id)).toEqual(mine.slice(0, 2));
    expect((await api('GET', `/sessions?limit=100&cursor=${n}`)).json).toEqual([]);
    // zep-python sends empty values; they mean "absent".
    expect((await api('GET', '/sessions?limit=&cursor=')).json).toHaveLength(n);
    expectError(await api('GET', '/sessions?limit=ten'), 400, /limit/);
    expectError(await api('GET', '/sessions?cursor=-1'), 400, /cursor/);
  });

  it('walking /sessions the way the SDKs chunk (cursor += chunk size) yields every session exactly once', async () => {
    for (let i = 0; i < 5; i++) await api('POST', '/sessions', { session_id: id('chunk') });
    const seen: string[] = [];
    for (let cursor = 0; ; cursor += 4) {
      const page = (await api('GET', `/sessions?limit=4${cursor ? `&cursor=${cursor}` : ''}`)).json as { session_id: string }[];
      if (page.length === 0) break;
      seen.push(...page.map((s) => s.session_id));
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual((await api('GET', '/sessions')).json.map((s: { session_id: string }) => s.session_id));
  });
});

describe('memory', () => {
  it('POST memory returns text OK, creates the session, and GET memory returns the last messages', async () => {
    const sessionId = id('m');
    const reply = await addMessages(sessionId, [
      { role: 'human', content: 'Hi', metadata: { foo: 'bar' } },
      { role: 'ai', content: 'Hello!', token_count: 7 },
    ]);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('OK');
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain/);
    expect((await api('GET', `/sessions/${sessionId}`)).status).toBe(200);

    const memory = await api('GET', `/sessions/${sessionId}/memory`);
    expect(memory.status).toBe(200);
    expect(memory.json).toEqual({
      messages: [
        {
          uuid: expect.stringMatching(UUID),
          created_at: expect.stringMatching(ISO),
          updated_at: expect.stringMatching(ISO),
          role: 'human',
          content: 'Hi',
          metadata: { foo: 'bar' },
          token_count: expect.any(Number),
        },
        expect.objectContaining({ role: 'ai', content: 'Hello!', token_count: 7 }),
      ],
    });
    expect(memory.json.messages[0].token_count).toBeGreaterThan(0);
    expect(memory.json.messages[1]).not.toHaveProperty('metadata'); // omitted when empty, as in Zep
  });

  it('GET memory: lastn, the message window (3 here) by default, lastn=0 → the window', async () => {
    const sessionId = id('m');
    await addMessages(
      sessionId,
      [1, 2, 3, 4, 5].map((i) => ({ role: 'human', content: `m${i}` })),
    );
    const contents = async (query: string) =>
      (await api('GET', `/sessions/${sessionId}/memory${query}`)).json.messages.map((m: { content: string }) => m.content);
    expect(await contents('')).toEqual(['m3', 'm4', 'm5']);
    expect(await contents('?lastn=2')).toEqual(['m4', 'm5']);
    expect(await contents('?lastn=0')).toEqual(['m3', 'm4', 'm5']);
    expect(await contents('?lastn=')).toEqual(['m3', 'm4', 'm5']);
    expectError(await api('GET', `/sessions/${sessionId}/memory?lastn=-1`), 400, /lastn/);
    expectError(await api('GET', '/sessions/never-created/memory'), 404);
  });

  it('POST memory keeps client uuids and created_at, is idempotent per uuid, and accepts an empty batch', async () => {
    const sessionId = id('m');
    const uuid = randomUUID();
    const message = { uuid, role: 'human', content: 'imported', created_at: '2023-05-16T21:59:11.057919Z' };
    await addMessages(sessionId, [message]);
    await addMessages(sessionId, [message]);
    const { messages } = (await api('GET', `/sessions/${sessionId}/memory`)).json;
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ uuid, created_at: '2023-05-16T21:59:11.057Z' });
    // Ids are unique per session (clients make them): another session may use the same one.
    expect((await addMessages(id('other'), [message])).status).toBe(200);

    const empty = id('m');
    expect((await api('POST', `/sessions/${empty}/memory`, {})).text).toBe('OK');
    expect((await api('GET', `/sessions/${empty}/memory`)).json).toEqual({ messages: [] });
  });

  it('DELETE memory deletes the session (200 OK); again → 404; adding memory undeletes it without the old messages', async () => {
    const sessionId = id('m');
    await addMessages(sessionId, [{ role: 'human', content: 'old' }]);
    const reply = await api('DELETE', `/sessions/${sessionId}/memory`);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('OK');
    expectError(await api('GET', `/sessions/${sessionId}`), 404);
    expectError(await api('GET', `/sessions/${sessionId}/memory`), 404);
    expectError(await api('DELETE', `/sessions/${sessionId}/memory`), 404);
    expect((await api('GET', '/sessions')).json.map((s: { session_id: string }) => s.session_id)).not.toContain(sessionId);

    await addMessages(sessionId, [{ role: 'human', content: 'new' }]);
    expect((await api('GET', `/sessions/${sessionId}/memory`)).json.messages.map((m: { content: string }) => m.content)).toEqual(['new']);
  });
});

describe('messages', () => {
  it('GET messages: {messages, total_count, row_count}; cursor is a 1-based page; no limit → all', async () => {
    const sessionId = id('msg');
    await addMessages(
      sessionId,
      [1, 2, 3, 4, 5].map((i) => ({ role: 'human', content: `m${i}` })),
    );
    const list = async (query: string) => (await api('GET', `/sessions/${sessionId}/messages${query}`)).json;
    const all = await list('');
    expect(all).toMatchObject({ total_count: 5, row_count: 5 });
    expect(all.messages.map((m: { content: string }) => m.content)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(all.messages[0]).toEqual({
      uuid: expect.stringMatching(UUID),
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
      role: 'human',
      content: 'm1',
      token_count: expect.any(Number),
    });
    const page2 = await list('?limit=2&cursor=2');
    expect(page2).toMatchObject({ total_count: 5, row_count: 2 });
    expect(page2.messages.map((m: { content: string }) => m.content)).toEqual(['m3', 'm4']);
    expect((await list('?limit=2&cursor=4')).messages).toEqual([]);
    expect(await list('?limit=100&cursor=1')).toMatchObject({ total_count: 5, row_count: 5 });
  });

  it('GET messages of an unknown session → 200 with an empty list', async () => {
    const reply = await api('GET', '/sessions/never-created/messages');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ messages: [], total_count: 0, row_count: 0 });
  });

  it('GET one message; unknown → 404; not a message id → 400', async () => {
    const sessionId = id('msg');
    const uuid = randomUUID();
    await addMessages(sessionId, [{ uuid, role: 'human', content: 'find me' }]);
    const reply = await api('GET', `/sessions/${sessionId}/messages/${uuid}`);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ uuid, role: 'human', content: 'find me' });
    expectError(await api('GET', `/sessions/${sessionId}/messages/${randomUUID()}`), 404);
    expectError(await api('GET', `/sessions/other-session/messages/${uuid}`), 404);
    expectError(await api('GET', `/sessions/${sessionId}/messages/not%20an%20id`), 400, /uuid/i);
  });

  it('PATCH a message merges metadata, keeps token_count unless given, and parses JSON sent as text/plain', async () => {
    const sessionId = id('msg');
    const uuid = randomUUID();
    await addMessages(sessionId, [{ uuid, role: 'human', content: 'x', token_count: 42, metadata: { a: { b: 1 } } }]);
    const before = (await api('GET', `/sessions/${sessionId}/messages/${uuid}`)).json;
    // zep-js sends this PATCH with fetch's default Content-Type, text/plain.
    const reply = await api('PATCH', `/sessions/${sessionId}/messages/${uuid}`, JSON.stringify({ metadata: { a: { c: 2 }, system: 1 } }), {
      'Content-Type': 'text/plain;charset=UTF-8',
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ uuid, content: 'x', token_count: 42, metadata: { a: { b: 1, c: 2 } } });
    expect(reply.json.metadata).not.toHaveProperty('system');
    expect(reply.json.updated_at).not.toBe(before.updated_at);

    const counted = await api('PATCH', `/sessions/${sessionId}/messages/${uuid}`, { token_count: 5 });
    expect(counted.json).toMatchObject({ token_count: 5, metadata: { a: { b: 1, c: 2 } } });
    expectError(await api('PATCH', `/sessions/${sessionId}/messages/${randomUUID()}`, { metadata: { a: 1 } }), 404);
  });
});

describe('users', () => {
  it('POST /user (201) returns the Zep user shape; duplicate → 409; empty id → 400', async () => {
    const userId = id('u');
    const reply = await api('POST', '/user', {
      user_id: userId,
      email: 'ada@example.com',
      first_name: 'Ada',
      last_name: 'Lovelace',
      metadata: { plan: 'pro' },
    });
    expect(reply.status).toBe(201);
    expect(reply.json).toEqual({
      uuid: expect.stringMatching(UUID),
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
      deleted_at: null,
      user_id: userId,
      email: 'ada@example.com',
      first_name: 'Ada',
      last_name: 'Lovelace',
      metadata: { plan: 'pro' },
    });
    const bare = await api('POST', '/user', { user_id: id('u') });
    expect(Object.keys(bare.json).sort()).toEqual(['created_at', 'deleted_at', 'updated_at', 'user_id', 'uuid']);
    expectError(await api('POST', '/user', { user_id: userId }), 409, /already exists/);
    expectError(await api('POST', '/user', { user_id: '' }), 400);
  });

  it('GET /user/{id}; unknown → 404', async () => {
    const userId = id('u');
    await api('POST', '/user', { user_id: userId, first_name: 'Grace' });
    const reply = await api('GET', `/user/${userId}`);
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ user_id: userId, first_name: 'Grace' });
    expectError(await api('GET', '/user/nobody-at-all'), 404);
  });

  it('PATCH /user/{id}: profile fields replace when given, metadata merges (`system` allowed)', async () => {
    const userId = id('u');
    await api('POST', '/user', { user_id: userId, email: 'a@example.com', first_name: 'A', metadata: { a: { x: 1 } } });
    const reply = await api('PATCH', `/user/${userId}`, {
      user_id: 'ignored',
      first_name: 'B',
      metadata: { a: { y: 2 }, system: { s: 1 } },
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({
      user_id: userId,
      email: 'a@example.com',
      first_name: 'B',
      metadata: { a: { x: 1, y: 2 }, system: { s: 1 } },
    });
    expectError(await api('PATCH', '/user/nobody-at-all', { first_name: 'x' }), 404);
  });

  it('GET /user: bare array, offset cursor, no limit → all', async () => {
    const mine = [id('ul'), id('ul'), id('ul')];
    for (const userId of mine) await api('POST', '/user', { user_id: userId });
    const all = (await api('GET', '/user')).json as { user_id: string }[];
    expect(all.slice(-3).map((u) => u.user_id)).toEqual(mine);
    const page = (await api('GET', `/user?limit=2&cursor=${all.length - 2}`)).json as { user_id: string }[];
    expect(page.map((u) => u.user_id)).toEqual(mine.slice(1));
    expect((await api('GET', `/user?limit=5&cursor=${all.length}`)).json).toEqual([]);
    expect((await api('GET', '/user?limit=&cursor=')).json).toHaveLength(all.length);
  });

  it('GET /user/{id}/sessions lists the live sessions; unknown user → 200 []', async () => {
    const userId = id('u');
    await api('POST', '/user', { user_id: userId });
    const [s1, s2] = [id('us'), id('us')];
    await api('POST', '/sessions', { session_id: s1, user_id: userId });
    await api('POST', '/sessions', { session_id: s2, user_id: userId });
    await api('DELETE', `/sessions/${s2}/memory`);
    const reply = await api('GET', `/user/${userId}/sessions`);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual([expect.objectContaining({ session_id: s1, user_id: userId })]);
    const unknown = await api('GET', '/user/nobody-at-all/sessions');
    expect(unknown.status).toBe(200);
    expect(unknown.json).toEqual([]);
  });

  it('DELETE /user/{id} → 200 OK, deletes its sessions; again → 404; the id can be reused', async () => {
    const userId = id('u');
    const sessionId = id('us');
    await api('POST', '/user', { user_id: userId });
    await api('POST', '/sessions', { session_id: sessionId, user_id: userId });
    const reply = await api('DELETE', `/user/${userId}`);
    expect(reply.status).toBe(200);
    expect(reply.text).toBe('OK');
    expectError(await api('GET', `/user/${userId}`), 404);
    expectError(await api('GET', `/sessions/${sessionId}`), 404);
    expectError(await api('DELETE', `/user/${userId}`), 404);
    expect((await api('POST', '/user', { user_id: userId })).status).toBe(201);
  });
});

describe('routing', () => {
  it('a known path with the wrong method → 405 with Allow; an unknown path → 404 JSON', async () => {
    const wrong = await api('DELETE', '/sessions/some-id');
    expectError(wrong, 405);
    expect(wrong.headers.get('allow')).toBe('GET, PATCH, HEAD');
    expect((await api('PUT', '/user')).headers.get('allow')).toBe('POST, GET, HEAD');
    expectError(await api('GET', '/sessions/a/b/c/d'), 404);
    expectError(await api('POST', '/nope', { a: 1 }), 404);
  });

  it('serves its OpenAPI document, covering every route', async () => {
    const reply = await api('GET', '/openapi.json');
    expect(reply.status).toBe(200);
    const doc = reply.json;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/sessions',
      '/sessions/{sessionId}',
      '/sessions/{sessionId}/memory',
      '/sessions/{sessionId}/messages',
      '/sessions/{sessionId}/messages/{uuid}',
      '/sessions/{sessionId}/search',
      '/sessions/{sessionId}/summaries',
      '/user',
      '/user/{userId}',
      '/user/{userId}/sessions',
      '/users/{userId}/search', // a Mnemo addition
    ]);
    expect(doc.paths['/sessions'].post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/CreateSessionRequest',
    });
    expect(doc.paths['/sessions'].get.responses['200'].content['application/json'].schema).toEqual({
      type: 'array',
      items: { $ref: '#/components/schemas/Session' },
    });
    expect(doc.components.schemas.Memory.properties.messages.items).toEqual({ $ref: '#/components/schemas/Message' });
    expect(doc.components.schemas.Session.required).toContain('session_id');
    const userSearch = doc.paths['/users/{userId}/search'].post;
    expect(userSearch.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/UserSearchPayload' });
    expect(userSearch.responses['200'].content['application/json'].schema).toEqual({
      type: 'array',
      items: { $ref: '#/components/schemas/UserSearchResult' },
    });
    expect(userSearch.parameters.map((p: { name: string }) => p.name)).toEqual(['userId', 'limit']);
    expect(doc.components.schemas.UserSearchResult.required).toEqual(expect.arrayContaining(['message', 'dist', 'session_id']));
    expect(doc.components.schemas.UserSearchResult.properties.message).toEqual({ $ref: '#/components/schemas/Message' });
    // The rules the server enforces are documented: ids, uuids, metadata, and the statuses any route may answer.
    const getMessage = doc.paths['/sessions/{sessionId}/messages/{uuid}'].get;
    expect(getMessage.parameters).toEqual([
      expect.objectContaining({ name: 'sessionId', schema: expect.objectContaining({ minLength: 1, maxLength: 256 }) }),
      expect.objectContaining({ name: 'uuid', schema: expect.objectContaining({ type: 'string', pattern: expect.any(String) }) }),
    ]);
    expect(Object.keys(getMessage.responses)).toEqual(expect.arrayContaining(['200', '404', '500', '503']));
    expect(Object.keys(doc.paths['/sessions/{sessionId}'].patch.responses)).toContain('413');
    expect(doc.components.schemas.CreateSessionRequest.properties.metadata.anyOf[0]).toEqual({ $ref: '#/components/schemas/Metadata' });
    expect(doc.components.schemas.Metadata.description).toMatch(/No array directly inside an array/);
  });
});
