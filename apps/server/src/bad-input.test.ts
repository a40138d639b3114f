/**
 * Bad input over REST and tRPC — invalid JSON, wrong types, bad ids and metadata, oversize bodies,
 * unknown routes — gets a 4xx with a JSON error message, never a 5xx, and nothing is written.
 */
import { randomUUID } from 'node:crypto';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import superjson, { SuperJSON } from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from './router';
import { httpClient, type Reply } from './test/http';
import { useTestServer } from './testing';

const MAX_BODY = 200_000;
const server = useTestServer({ env: { MNEMO_MAX_BODY: String(MAX_BODY) } });

// One session with one message and one user exist; every bad request below must leave them as they are.
const SESSION = 'existing-session';
const USER = 'existing-user';
let messageUuid: string;
let snapshot: unknown;
async function everything() {
  const { users, sessions, messages } = server().core.collections;
  const all = (c: typeof users | typeof sessions | typeof messages) => c.find({}, { sort: { _id: 1 } }).toArray();
  return { users: await all(users), sessions: await all(sessions), messages: await all(messages) };
}
beforeAll(async () => {
  const http = httpClient(server().url);
  await http('POST', '/api/v1/user', { user_id: USER, metadata: { keep: 1 } });
  await http('POST', `/api/v1/sessions/${SESSION}/memory`, { messages: [{ role: 'human', content: 'hi', metadata: { keep: 1 } }] });
  messageUuid = (await http('GET', `/api/v1/sessions/${SESSION}/messages`)).json.messages[0].uuid;
  await http('PATCH', `/api/v1/sessions/${SESSION}`, { metadata: { keep: 1 } });
  snapshot = await everything();
});
afterAll(async () => {
  // Checked last: nothing any test in this file sent was written.
  expect(await everything()).toEqual(snapshot);
});

const expect4xx = (reply: Reply, status: number, message?: RegExp) => {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.json).toEqual({ message: expect.any(String) });
  if (message) expect(reply.json.message).toMatch(message);
  expect(reply.headers.get('x-zep-version')).toMatch(/^0\.27\.2-/);
};

const deep = (levels: number): object => (levels === 0 ? {} : { d: deep(levels - 1) });
const BAD_METADATA: [string, string][] = [
  ['a dotted key', '{"a.b": 1}'],
  ['a $ key', '{"$set": 1}'],
  ['a nested $ key', '{"a": {"$where": "x"}}'],
  ['an empty key', '{"": 1}'],
  ['a key with a leading space', '{" a": 1}'],
  ['a nested key with a trailing tab', '{"a": {"b\\t": 1}}'],
  ['a key ending in U+0085 (a space to FerretDB, not to String.trim)', '{"a\\u0085": 1}'],
  ['__proto__', '{"__proto__": {"polluted": true}}'],
  ['constructor', '{"constructor": {"prototype": {"polluted": true}}}'],
  ['prototype', '{"prototype": 1}'],
  ['an array', '[1, 2]'],
  ['a string', '"text"'],
  ['too deep', JSON.stringify(deep(20))],
  ['over 64 KiB', JSON.stringify({ big: 'x'.repeat(70_000) })],
];

describe('bad input over REST', () => {
  const http = () => httpClient(server().url);

  it('invalid JSON → 400, whatever the Content-Type', async () => {
    for (const contentType of ['application/json', 'text/plain', 'application/x-www-form-urlencoded']) {
      expect4xx(await http()('POST', '/api/v1/sessions', '{"session_id": "x"', { 'Content-Type': contentType }), 400, /JSON/);
    }
    expect4xx(await http()('POST', '/api/v1/sessions', 'session_id=x'), 400, /JSON/);
    expect4xx(await http()('PATCH', `/api/v1/sessions/${SESSION}`, '{', { 'Content-Type': 'application/json' }), 400);
  });

  it('wrong JSON types → 400 naming the field', async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', '/api/v1/sessions', { session_id: 123 }, /session_id/],
      ['POST', '/api/v1/sessions', { session_id: 'new-1', metadata: 'x' }, /metadata/],
      ['POST', '/api/v1/sessions', [{ session_id: 'new-2' }], /object/],
      ['POST', '/api/v1/sessions', 'null', /object/],
      ['POST', '/api/v1/sessions', {}, /session_id/],
      ['POST', `/api/v1/sessions/${SESSION}/memory`, { messages: 'hi' }, /messages/],
      ['POST', `/api/v1/sessions/${SESSION}/memory`, { messages: [{ role: 1, content: 'x' }] }, /role/],
      ['POST', `/api/v1/sessions/${SESSION}/memory`, { messages: [{ role: 'h', content: 'x', token_count: 'many' }] }, /token_count/],
      ['POST', `/api/v1/sessions/${SESSION}/memory`, { messages: [{ role: 'h', content: 'x', uuid: 'not an id' }] }, /uuid/],
      ['POST', `/api/v1/sessions/${SESSION}/memory`, { messages: [{ role: 'h', content: 'x', created_at: 'yesterday' }] }, /created_at/],
      ['POST', `/api/v1/sessions/${SESSION}/memory`, { messages: [{ role: '', content: 'x' }] }, /role/],
      ['PATCH', `/api/v1/sessions/${SESSION}/messages/${randomUUID()}`, { token_count: -1 }, /token_count/],
      ['PATCH', `/api/v1/user/${USER}`, { email: 42 }, /email/],
      ['POST', '/api/v1/user', { user_id: ['x'] }, /user_id/],
    ];
    for (const [method, path, body, message] of cases) {
      expect4xx(await http()(method, path, typeof body === 'string' ? body : body, { 'Content-Type': 'application/json' }), 400, message);
    }
  });

  it('bad metadata keys and shapes → 400 on every route that takes metadata', async () => {
    for (const [name, metadata] of BAD_METADATA) {
      const bodies: [string, string, string][] = [
        ['POST', '/api/v1/sessions', `{"session_id": "new-${randomUUID()}", "metadata": ${metadata}}`],
        ['PATCH', `/api/v1/sessions/${SESSION}`, `{"metadata": ${metadata}}`],
        ['POST', `/api/v1/sessions/${SESSION}/memory`, `{"messages": [{"role": "h", "content": "c", "metadata": ${metadata}}]}`],
        ['PATCH', `/api/v1/sessions/${SESSION}/messages/${messageUuid}`, `{"metadata": ${metadata}}`],
        ['POST', '/api/v1/user', `{"user_id": "new-${randomUUID()}", "metadata": ${metadata}}`],
        ['PATCH', `/api/v1/user/${USER}`, `{"metadata": ${metadata}}`],
      ];
      for (const [method, path, body] of bodies) {
        const reply = await http()(method, path, body, { 'Content-Type': 'application/json' });
        expect(reply.status, `${name}: ${method} ${path}`).toBe(400);
        expect(reply.json).toEqual({ message: expect.any(String) });
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('bad ids and query values → 400', async () => {
    expect4xx(await http()('GET', `/api/v1/sessions/${'x'.repeat(257)}`), 400, /256/);
    expect4xx(await http()('POST', '/api/v1/sessions/bad%01id/memory', { messages: [] }), 400, /control/);
    expect4xx(await http()('GET', `/api/v1/sessions/${SESSION}/messages/not%20an%20id`), 400);
    expect4xx(await http()('GET', '/api/v1/user?limit=1.5'), 400, /limit/);
    expect4xx(await http()('GET', `/api/v1/sessions/${SESSION}/memory?lastn=abc`), 400, /lastn/);
    expect4xx(await http()('GET', `/api/v1/sessions/${SESSION}/messages?cursor=x`), 400, /cursor/);
  });

  it('a body over MNEMO_MAX_BODY → 413 JSON', async () => {
    const big = JSON.stringify({ messages: [{ role: 'human', content: 'x'.repeat(MAX_BODY) }] });
    expect4xx(await http()('POST', `/api/v1/sessions/${SESSION}/memory`, big, { 'Content-Type': 'application/json' }), 413);
    expect4xx(await http()('POST', '/api/v1/sessions/new-big/memory', big, { 'Content-Type': 'text/plain' }), 413);
  });

  it('an id far over 256 characters → 400 naming the rule, not 404 or 414', async () => {
    expect4xx(await http()('GET', `/api/v1/sessions/${'a'.repeat(1025)}`), 400, /at most 256 characters/);
    expect4xx(await http()('GET', `/api/v1/user/${'%C3%A9'.repeat(1000)}`), 400, /at most 256 characters/);
  });

  it('unknown routes → 404 JSON; wrong methods → 405 JSON', async () => {
    expect4xx(await http()('GET', '/api/v1/nothing'), 404, /not found/);
    expect4xx(await http()('GET', '/api/v2/sessions'), 404);
    expect4xx(await http()('POST', '/api/v1/users', { user_id: 'plural-is-not-a-route' }), 404);
    expect4xx(await http()('GET', `/api/v1/sessions/${SESSION}/search`), 405);
    expect4xx(await http()('DELETE', `/api/v1/sessions/${SESSION}`), 405);
    expect4xx(await http()('POST', '/healthz'), 405);
  });
});

describe('bad input over tRPC', () => {
  // httpLink (no batching), so each bad call is its own request.
  const trpc = () => createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server().url}/trpc`, transformer: superjson })] });
  const rejectsWith = async (call: Promise<unknown>, code: string) => {
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<AppRouter>).data?.code).toBe(code);
  };

  it('wrong types → BAD_REQUEST', async () => {
    await rejectsWith(trpc().session.add.mutate({ sessionId: 123 as unknown as string }), 'BAD_REQUEST');
    await rejectsWith(trpc().memory.add.mutate({ sessionId: SESSION, messages: 'hi' as never }), 'BAD_REQUEST');
    await rejectsWith(trpc().user.list.query({ limit: 1000 }), 'BAD_REQUEST');
    await rejectsWith(trpc().memory.get.query({ sessionId: SESSION, lastn: -1 }), 'BAD_REQUEST');
  });

  const rawMutation = (path: string, input: string) =>
    fetch(`${server().url}/trpc/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: `{"json": ${input}}` });

  it('bad metadata → BAD_REQUEST (sent raw: the superjson client refuses to send a __proto__ key)', async () => {
    for (const [name, metadata] of BAD_METADATA.filter(([name]) => name !== '__proto__')) {
      for (const [path, input] of [
        ['session.update', `{"sessionId": "${SESSION}", "metadata": ${metadata}}`],
        ['message.update', `{"sessionId": "${SESSION}", "uuid": "${messageUuid}", "metadata": ${metadata}}`],
        ['user.update', `{"userId": "${USER}", "metadata": ${metadata}}`],
        ['memory.add', `{"sessionId": "${SESSION}", "messages": [{"role": "h", "content": "c", "metadata": ${metadata}}]}`],
      ] as const) {
        const response = await rawMutation(path, input);
        expect(response.status, `${name}: ${path}`).toBe(400);
        expect(await response.json()).toMatchObject({ error: { json: { data: { code: 'BAD_REQUEST' } } } });
      }
    }
  });

  it('input that expands as it is decoded (superjson shared references) → 400 within a moment', async () => {
    const row = { values: Array.from({ length: 300 }, (_, i) => i) };
    const grid = Array.from({ length: 300 }, () => ({ row }));
    const input = { sessionId: 'cube', metadata: { cube: Array.from({ length: 300 }, () => ({ grid })) } }; // 27M values
    const body = JSON.stringify(new SuperJSON({ dedupe: true }).serialize(input)); // repeats sent as references
    expect(body.length).toBeLessThan(200_000); // small on the wire
    // The work is measured as this process's CPU time (the server runs in it): a busy machine
    // stretches the wait, not the work.
    const started = process.cpuUsage();
    const response = await fetch(`${server().url}/trpc/session.add`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body,
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toMatch(/more than 32768 values/);
    const { user, system } = process.cpuUsage(started);
    expect((user + system) / 1000).toBeLessThan(2000); // walking it all took 4.9 s
  });

  it('a raw __proto__ key → 400, as over REST (superjson would drop it silently); the word in a text is fine', async () => {
    const response = await rawMutation('session.update', `{"sessionId": "${SESSION}", "metadata": {"__proto__": {"polluted": true}}}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ message: 'a "__proto__" key is not allowed' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The word inside a string passes the check (and this input then fails validation for its "a.b" key).
    const prose = await rawMutation('session.update', `{"sessionId": "${SESSION}", "metadata": {"a.b": "what is \\"__proto__\\": {}?"}}`);
    expect(prose.status).toBe(400);
    expect(JSON.stringify(await prose.json())).toMatch(/a\.b/);
  });

  it('invalid JSON, oversize bodies and unknown procedures → 4xx JSON', async () => {
    const post = (path: string, body: string) =>
      fetch(`${server().url}/trpc/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    const invalid = await post('session.add', '{"json":');
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { json: { data: { code: 'BAD_REQUEST' } } } });

    const big = await post('session.add', JSON.stringify({ json: { sessionId: 'big', metadata: { x: 'x'.repeat(MAX_BODY) } } }));
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ message: expect.any(String) });

    const unknown = await post('session.nothing', '{}');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { json: { data: { code: 'NOT_FOUND' } } } });
  });
});
