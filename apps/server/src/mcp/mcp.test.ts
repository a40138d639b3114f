/**
 * MCP over Streamable HTTP (/mcp), through the MCP SDK's own Client against the real server: the
 * tools and the session resources, every tool called, a user token that cannot reach another user's
 * data through any tool or resource, bad input that comes back as a tool error and writes nothing,
 * the domain's codes in tool errors, the rate limit. Results are read back from the database (core),
 * not only from the answers.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type DomainErrorCode, DomainError } from '@mnemo/core';
import { createUserToken } from '@mnemo/core/auth-tokens';
import { TRPCClientError } from '@trpc/client';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../auth';
import { useTestServer } from '../testing';
import { DATABASE_UNAVAILABLE, TRPC_CODE } from '../trpc';
import { failureOf, SESSION_URI_PREFIX, sessionUri, TOOLS } from './server';

const SECRET = 'mcp-test-secret-0123456789abcdef';
const server = useTestServer({ authSecret: SECRET });
/** In bob's messages and metadata only: must never reach ada's token. */
const BOB_SECRET = 'bobsecretword';

const clients: Client[] = [];
async function connect(token?: string): Promise<Client> {
  const client = new Client({ name: 'mnemo-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(`${server().url}/mcp`), {
    requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} },
  });
  await client.connect(transport);
  clients.push(client);
  return client;
}
afterAll(async () => {
  for (const client of clients) await client.close();
});

/** A tool call's result; the text of its first content item. */
async function call(client: Client, name: string, args: Record<string, unknown>) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
  return { ...result, text };
}

let admin: Client;
let ada: Client;
beforeAll(async () => {
  const { core } = server();
  await core.users.add({ userId: 'ada' });
  await core.users.add({ userId: 'bob' });
  await core.sessions.add({ sessionId: 'ada-1', userId: 'ada', metadata: { topic: 'travel' } });
  await core.memory.add({
    sessionId: 'ada-1',
    messages: [
      { role: 'user', content: 'I am planning a trip to Lisbon in May', metadata: { kind: 'plan' } },
      { role: 'assistant', content: 'Lisbon in May is lovely; pack light layers.' },
    ],
  });
  await core.sessions.add({ sessionId: 'bob-1', userId: 'bob', metadata: { note: BOB_SECRET } });
  await core.memory.add({ sessionId: 'bob-1', messages: [{ role: 'user', content: `my password hint is ${BOB_SECRET} and Lisbon` }] });
  admin = await connect(await createToken(SECRET));
  ada = await connect(await createUserToken({ secret: SECRET, userId: 'ada' }));
});

describe('MCP over Streamable HTTP', () => {
  it('lists every tool with a JSON Schema of its input, and the session resource template', async () => {
    const { tools } = await ada.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(Object.keys(TOOLS).sort());
    for (const t of tools) {
      expect(t.inputSchema.type).toBe('object');
      expect(t.description).toMatch(/Example/);
    }
    const search = tools.find((t) => t.name === 'search_memory')!;
    expect(Object.keys(search.inputSchema.properties!)).toEqual(
      expect.arrayContaining(['text', 'metadata', 'sessionId', 'userId', 'limit', 'startDate']),
    );
    expect(search.annotations?.readOnlyHint).toBe(true);
    const add = tools.find((t) => t.name === 'add_messages')!;
    expect(add.inputSchema.required).toEqual(expect.arrayContaining(['sessionId', 'messages']));
    const { resourceTemplates } = await ada.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual([`${SESSION_URI_PREFIX}{sessionId}`]);
  });

  it('adds messages with a user token, to a new session of that user, and finds them again', async () => {
    const added = await call(ada, 'add_messages', {
      sessionId: 'ada-2',
      messages: [
        { role: 'user', content: 'My cat is called Turing', metadata: { kind: 'fact' }, uuid: 'ada-2-m1' },
        { role: 'assistant', content: 'Turing the cat, noted.' },
      ],
    });
    expect(added.isError).toBeFalsy();
    expect(added.text).toMatch(/Stored 2 messages in ada-2/);
    const session = await server().core.sessions.get({ sessionId: 'ada-2' });
    expect(session.userId).toBe('ada');
    const stored = await server().core.memory.get({ sessionId: 'ada-2' });
    expect(stored.messages.map((m) => [m.uuid === 'ada-2-m1' || m.role, m.content])).toEqual([
      [true, 'My cat is called Turing'],
      ['assistant', 'Turing the cat, noted.'],
    ]);
    // A retry with the same uuid stores nothing twice.
    await call(ada, 'add_messages', {
      sessionId: 'ada-2',
      messages: [{ role: 'user', content: 'My cat is called Turing', uuid: 'ada-2-m1' }],
    });
    expect((await server().core.sessions.get({ sessionId: 'ada-2' })).messageCount).toBe(2);

    const all = await call(ada, 'search_memory', { text: 'what is my cat called' });
    expect(all.isError).toBeFalsy();
    expect(all.text).toMatch(/ada-2 #1 user .*Turing/);
    const results = (all.structuredContent as { results: { message: { sessionId: string; content: string }; score: number }[] }).results;
    expect(results[0]!.message).toMatchObject({ sessionId: 'ada-2', content: 'My cat is called Turing' });

    const one = await call(ada, 'search_memory', { sessionId: 'ada-1', text: 'Lisbon trip' });
    expect(one.text).toMatch(/#1 user .*Lisbon in May/);
    const byMetadata = await call(ada, 'search_memory', { metadata: { 'metadata.kind': 'fact' } });
    expect(byMetadata.text).toMatch(/Turing/);
    expect(byMetadata.text).not.toMatch(/Lisbon/);
  });

  it('gives the recent messages, the sessions by activity, one session, and merges metadata', async () => {
    const recent = await call(ada, 'get_recent_messages', { sessionId: 'ada-1', lastn: 1 });
    expect(recent.text).toBe(
      `[#2 assistant ${(await server().core.memory.get({ sessionId: 'ada-1' })).messages[1]!.createdAt.toISOString()}] Lisbon in May is lovely; pack light layers.`,
    );
    expect((recent.structuredContent as { messages: unknown[] }).messages).toHaveLength(1);

    await call(ada, 'add_messages', { sessionId: 'ada-1', messages: [{ role: 'user', content: 'Also Porto?' }] });
    const list = await call(ada, 'list_sessions', { limit: 10 });
    const lines = list.text.split('\n');
    expect(lines[0]).toMatch(/^ada-1 \(user ada\): 3 messages, last active .*; last: user: Also Porto\?$/);
    expect(list.text).toMatch(/^ada-2 /m);
    const page = await call(ada, 'list_sessions', { limit: 1 });
    const { nextCursor } = page.structuredContent as { nextCursor: string };
    expect(page.text).toContain(`cursor "${nextCursor}"`);
    const next = await call(ada, 'list_sessions', { limit: 1, cursor: nextCursor });
    expect(next.text).toMatch(/^ada-2 /);

    const got = await call(ada, 'get_session', { sessionId: 'ada-1' });
    expect(got.text).toMatch(/^ada-1 \(user ada\): 3 messages/);
    expect(got.text).toContain('metadata: {"topic":"travel"}');

    const merged = await call(ada, 'update_session_metadata', { sessionId: 'ada-1', metadata: { trip: { city: 'Lisbon' } } });
    expect(merged.isError).toBeFalsy();
    expect((await server().core.sessions.get({ sessionId: 'ada-1' })).metadata).toEqual({ topic: 'travel', trip: { city: 'Lisbon' } });
  });

  it('lists and reads sessions as Markdown resources', async () => {
    const { resources } = await ada.listResources();
    expect(resources.map((r) => r.uri).sort()).toEqual([sessionUri('ada-1'), sessionUri('ada-2')]);
    const read = await ada.readResource({ uri: sessionUri('ada-1') });
    const text = (read.contents[0] as { text: string }).text;
    expect(read.contents[0]!.mimeType).toBe('text/markdown');
    expect(text).toMatch(/^# Session ada-1\n/);
    expect(text).toMatch(/## user · #1 · .*\n\nI am planning a trip to Lisbon in May/);
    // Ids that need encoding survive the URI.
    await call(admin, 'add_messages', { sessionId: 'a b/é?', messages: [{ role: 'user', content: 'odd id' }] });
    const odd = await admin.readResource({ uri: sessionUri('a b/é?') });
    expect((odd.contents[0] as { text: string }).text).toMatch(/^# Session a b\/é\?\n[\s\S]*odd id/);
  });

  it('lets an admin token name the user of each call, and asks for one where it matters', async () => {
    const noUser = await call(admin, 'search_memory', { text: 'Lisbon' });
    expect(noUser).toMatchObject({ isError: true, text: 'VALIDATION: userId: an admin token must name the user' });
    const bobs = await call(admin, 'search_memory', { text: 'Lisbon', userId: 'bob' });
    expect(bobs.text).toMatch(/^\[bob-1 #1 user/);
    expect(bobs.text).not.toMatch(/ada-/);
    const list = await call(admin, 'list_sessions', { userId: 'ada' });
    expect(list.text).toMatch(/^ada-1/);
    expect(list.text).not.toMatch(/bob/);

    // A new session of an admin's add_messages belongs to the user it names; another user's is refused.
    await call(admin, 'add_messages', { sessionId: 'bob-2', userId: 'bob', messages: [{ role: 'user', content: 'hello' }] });
    expect((await server().core.sessions.get({ sessionId: 'bob-2' })).userId).toBe('bob');
    const wrong = await call(admin, 'add_messages', { sessionId: 'bob-2', userId: 'ada', messages: [{ role: 'user', content: 'x' }] });
    expect(wrong).toMatchObject({ isError: true, text: 'VALIDATION: session "bob-2" belongs to another user' });
    expect((await server().core.sessions.get({ sessionId: 'bob-2' })).messageCount).toBe(1);
  });

  it("keeps another user's data out of reach of a user token, through every tool and resource", async () => {
    const bobBefore = await server().core.sessions.get({ sessionId: 'bob-1' });
    const attempts: [string, Record<string, unknown>, RegExp | 'empty'][] = [
      ['search_memory', { sessionId: 'bob-1', text: 'Lisbon' }, /^NOT_FOUND: /],
      ['search_memory', { userId: 'bob', text: 'Lisbon' }, /^NOT_FOUND: /],
      ['get_recent_messages', { sessionId: 'bob-1' }, 'empty'],
      ['add_messages', { sessionId: 'bob-1', messages: [{ role: 'user', content: 'intrusion' }] }, /^NOT_FOUND: /],
      ['get_session', { sessionId: 'bob-1' }, /^NOT_FOUND: /],
      ['update_session_metadata', { sessionId: 'bob-1', metadata: { note: 'overwritten' } }, /^NOT_FOUND: /],
    ];
    expect(new Set(attempts.map(([name]) => name))).toEqual(new Set(Object.keys(TOOLS).filter((t) => t !== 'list_sessions')));
    for (const [name, args, expected] of attempts) {
      const result = await call(ada, name, args);
      if (expected === 'empty') expect(result.text, name).toBe('No messages.');
      else expect(result, name).toMatchObject({ isError: true, text: expect.stringMatching(expected) });
      expect(JSON.stringify(result), name).not.toContain(BOB_SECRET);
    }
    // Listing names bob, but a user token lists its own sessions whatever it asks.
    const listed = await call(ada, 'list_sessions', { userId: 'bob' });
    expect(listed.text).not.toMatch(/bob/);
    expect(JSON.stringify(listed)).not.toContain(BOB_SECRET);
    // Searching all of one's own sessions never ranks bob's (he also said "Lisbon").
    expect(JSON.stringify(await call(ada, 'search_memory', { text: 'Lisbon password hint' }))).not.toContain(BOB_SECRET);

    const { resources } = await ada.listResources();
    expect(resources.some((r) => r.uri === sessionUri('bob-1'))).toBe(false);
    await expect(ada.readResource({ uri: sessionUri('bob-1') })).rejects.toThrow(/NOT_FOUND: session "bob-1" not found/);

    const bobAfter = await server().core.sessions.get({ sessionId: 'bob-1' });
    expect(bobAfter).toEqual(bobBefore);
  });

  it("keeps another tenant's data out of reach: the same user id in another tenant sees none of it", async () => {
    const elsewhere = await connect(await createUserToken({ secret: SECRET, userId: 'ada', tenant: 'acme' }));
    expect((await call(elsewhere, 'get_session', { sessionId: 'ada-1' })).text).toBe('NOT_FOUND: session "ada-1" not found');
    expect((await call(elsewhere, 'list_sessions', {})).text).toBe('No sessions.');
    expect((await call(elsewhere, 'get_recent_messages', { sessionId: 'ada-1' })).text).toBe('No messages.');
    expect(JSON.stringify(await call(elsewhere, 'search_memory', { text: 'Lisbon' }))).not.toMatch(/Lisbon in May/);
    expect((await elsewhere.listResources()).resources).toEqual([]);
  });

  it('answers bad input with a tool error naming the problem, and writes nothing', async () => {
    const { core } = server();
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['add_messages', { sessionId: 'ada-bad', messages: [{ role: 'user' }] }, /^VALIDATION: messages\.0\.content: give content or parts$/],
      [
        'add_messages',
        { sessionId: 'ada-bad', messages: [{ role: 'user', content: 'x', metadata: { 'a.b': 1 } }] },
        /^VALIDATION: messages\.0\.metadata: /,
      ],
      ['add_messages', { sessionId: 'ada-bad', messages: [] }, /^VALIDATION: messages: /],
      ['add_messages', { sessionId: '', messages: [{ role: 'user', content: 'x' }] }, /^VALIDATION: sessionId: must not be empty/],
      ['add_messages', { sessionId: 'ada-bad', messages: 'hello' }, /^VALIDATION: messages: /],
      ['update_session_metadata', { sessionId: 'ada-1', metadata: { $set: 1 } }, /^VALIDATION: metadata: /],
      ['search_memory', {}, /^VALIDATION: empty query: give text, a metadata filter or a date range$/],
      ['search_memory', { text: 'x', metadata: { 'metadata.a': { $where: '1' } } }, /^VALIDATION: metadata: .*\$where/],
      ['search_memory', { text: 'x', sessionId: 'ada-1', userId: 'ada' }, /^VALIDATION: userId: give sessionId .* not both$/],
      ['get_recent_messages', { sessionId: 'ada-1', lastn: 0 }, /^VALIDATION: lastn: /],
      ['list_sessions', { limit: 1000 }, /^VALIDATION: limit: /],
    ];
    const before = await core.sessions.get({ sessionId: 'ada-1' });
    for (const [name, args, expected] of cases) {
      const result = await call(ada, name, args);
      expect(result, `${name} ${JSON.stringify(args)}`).toMatchObject({ isError: true, text: expect.stringMatching(expected) });
      expect(result.text).not.toMatch(/\n\s+at /); // no stack
    }
    await expect(core.sessions.get({ sessionId: 'ada-bad' })).rejects.toThrow(/not found/);
    expect(await core.sessions.get({ sessionId: 'ada-1' })).toEqual(before);
    await expect(ada.callTool({ name: 'forget_everything', arguments: {} })).rejects.toThrow(/no tool named "forget_everything"/);
    await expect(ada.readResource({ uri: 'mnemo://users/ada' })).rejects.toThrow(/NOT_FOUND: no resource/);
  });

  it('refuses a request without a valid token (401), and answers other methods than POST with 405', async () => {
    await expect(connect()).rejects.toThrow(/401|no token/i);
    await expect(connect('not-a-token')).rejects.toThrow(/401|unauthorized/i);
    const get = await fetch(`${server().url}/mcp`, { headers: { accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });
});

describe('tool errors', () => {
  const internal = () => 'internal server error (request r1)';
  it.each(Object.entries(TRPC_CODE))(
    'a %s domain error (tRPC %s) is a tool error with the domain code, on either side of the client',
    (domain, trpc) => {
      const cause = new DomainError(domain as DomainErrorCode, 'what went wrong');
      const serverSide = new TRPCError({ code: trpc, message: cause.message, cause });
      const clientSide = TRPCClientError.from({ error: { message: cause.message, code: -32000, data: { code: trpc } } });
      for (const error of [serverSide, clientSide]) {
        const failure = failureOf(error, internal);
        expect([failure.code, failure.message]).toEqual([domain, 'what went wrong']);
      }
    },
  );

  it('says nothing of an unexpected error but what onInternal returns; a database outage is UNAVAILABLE', () => {
    const failure = failureOf(new Error('secret detail at line 3'), internal);
    expect([failure.code, failure.message]).toEqual(['INTERNAL', 'internal server error (request r1)']);
    const down = failureOf(new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: DATABASE_UNAVAILABLE }), internal);
    expect([down.code, down.message]).toEqual(['UNAVAILABLE', DATABASE_UNAVAILABLE]);
  });
});

describe('/mcp under a rate limit', () => {
  const limited = useTestServer({ authSecret: SECRET, env: { MNEMO_RATE_LIMIT: '3/min' } });
  it('counts MCP requests against the token’s budget, as /api and /trpc do (429 past it)', async () => {
    const token = await createToken(SECRET);
    const post = () =>
      fetch(`${limited().url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
    for (let i = 0; i < 3; i++) {
      const reply = await post();
      expect(reply.status).toBe(200);
      expect(((await reply.json()) as { result: { tools: unknown[] } }).result.tools).toHaveLength(Object.keys(TOOLS).length);
    }
    const refused = await post();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
