/**
 * `mnemo mcp`, the stdio MCP server, as a desktop agent runs it: the real CLI in a child process,
 * driven by the MCP SDK's own Client over stdio, talking to a real server with a user token. Every
 * tool and the resources work through it, the server's scope holds (another user's data stays out of
 * reach), errors come back as tool errors, and the process exits by itself, cleanly, when its client
 * goes away.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  type CallToolResult,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { createUserToken } from '@mnemo/core/auth-tokens';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestServer } from '../testing';
import { sessionUri, TOOLS } from './server';

const SECRET = 'mcp-stdio-secret-0123456789abcdef';
const server = useTestServer({ authSecret: SECRET });
const BOB_SECRET = 'bobstdiosecret';
/** The CLI as `pnpm mnemo` runs it (node runs bin.ts through tsx), from apps/server. */
const SERVER_DIR = new URL('../..', import.meta.url).pathname;
const CLI = ['--import', 'tsx', 'src/bin.ts', 'mcp'];

const clients: Client[] = [];
async function connectStdio(args: string[], env: Record<string, string>): Promise<{ client: Client; transport: StdioClientTransport }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [...CLI, ...args], cwd: SERVER_DIR, env, stderr: 'pipe' });
  const client = new Client({ name: 'mnemo-stdio-test', version: '1' });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}
afterAll(async () => {
  for (const client of clients) await client.close();
});

async function call(client: Client, name: string, args: Record<string, unknown>) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  return { ...result, text: result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n') };
}

let ada: Client;
let adaToken: string;
beforeAll(async () => {
  const { core } = server();
  await core.users.add({ userId: 'ada' });
  await core.users.add({ userId: 'bob' });
  await core.sessions.add({ sessionId: 'bob-1', userId: 'bob', metadata: { note: BOB_SECRET } });
  await core.memory.add({ sessionId: 'bob-1', messages: [{ role: 'user', content: `bob's garden notes ${BOB_SECRET}` }] });
  adaToken = await createUserToken({ secret: SECRET, userId: 'ada', ttl: '1h' });
  // The token from the environment, as the docs configure it.
  ({ client: ada } = await connectStdio(['--url', server().url], { MNEMO_TOKEN: adaToken }));
}, 60_000);

describe('mnemo mcp (stdio)', () => {
  it('calls every tool through the running server, as the token’s user', async () => {
    const { tools } = await ada.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(Object.keys(TOOLS).sort());
    const calls: [string, Record<string, unknown>, RegExp][] = [
      [
        'add_messages',
        { sessionId: 'ada-garden', messages: [{ role: 'user', content: 'My tomatoes need more sun' }] },
        /^Stored 1 messages in ada-garden/,
      ],
      ['search_memory', { text: 'tomatoes sun' }, /^\[ada-garden #1 user .*\] My tomatoes need more sun \(score/],
      ['get_recent_messages', { sessionId: 'ada-garden' }, /^\[#1 user .*\] My tomatoes need more sun$/],
      ['list_sessions', {}, /^ada-garden \(user ada\): 1 messages/],
      ['get_session', { sessionId: 'ada-garden' }, /^ada-garden \(user ada\): 1 messages/],
      [
        'update_session_metadata',
        { sessionId: 'ada-garden', metadata: { plant: 'tomato' } },
        /^Metadata of ada-garden: \{"plant":"tomato"\}$/,
      ],
    ];
    expect(calls.map(([name]) => name).sort()).toEqual(Object.keys(TOOLS).sort());
    for (const [name, args, expected] of calls) {
      const result = await call(ada, name, args);
      expect(result.isError, `${name}: ${result.text}`).toBeFalsy();
      expect(result.text, name).toMatch(expected);
    }
    const stored = await server().core.sessions.get({ sessionId: 'ada-garden' });
    expect(stored).toMatchObject({ userId: 'ada', messageCount: 1, metadata: { plant: 'tomato' } });

    const { resources } = await ada.listResources();
    expect(resources.map((r) => r.uri)).toEqual([sessionUri('ada-garden')]);
    const read = await ada.readResource({ uri: sessionUri('ada-garden') });
    expect((read.contents[0] as { text: string }).text).toMatch(/^# Session ada-garden\n[\s\S]*My tomatoes need more sun$/);
  });

  it("keeps another user's data out of reach, and reports the server's errors as tool errors", async () => {
    const attempts: [string, Record<string, unknown>, RegExp][] = [
      ['search_memory', { sessionId: 'bob-1', text: 'garden' }, /^NOT_FOUND: session "bob-1" not found$/],
      ['search_memory', { userId: 'bob', text: 'garden' }, /^NOT_FOUND: user "bob" not found$/],
      ['get_recent_messages', { sessionId: 'bob-1' }, /^No messages\.$/],
      [
        'add_messages',
        { sessionId: 'bob-1', messages: [{ role: 'user', content: 'intrusion' }] },
        /^NOT_FOUND: session "bob-1" not found$/,
      ],
      ['list_sessions', { userId: 'bob' }, /^(?![\s\S]*bob)/],
      ['get_session', { sessionId: 'bob-1' }, /^NOT_FOUND: session "bob-1" not found$/],
      ['update_session_metadata', { sessionId: 'bob-1', metadata: { note: 'x' } }, /^NOT_FOUND: session "bob-1" not found$/],
      // Refused by the server's own validation (not the tool's): the message comes through the client.
      ['search_memory', { text: '   ' }, /^VALIDATION: empty query: give text, a metadata filter or a date range$/],
    ];
    expect(new Set(attempts.map(([name]) => name))).toEqual(new Set(Object.keys(TOOLS)));
    for (const [name, args, expected] of attempts) {
      const result = await call(ada, name, args);
      expect(result.text, name).toMatch(expected);
      expect(JSON.stringify(result), name).not.toContain(BOB_SECRET);
    }
    await expect(ada.readResource({ uri: sessionUri('bob-1') })).rejects.toThrow(/NOT_FOUND: session "bob-1" not found/);
    expect(await server().core.sessions.get({ sessionId: 'bob-1' })).toMatchObject({ messageCount: 1, metadata: { note: BOB_SECRET } });
  });

  it('notifies list changes and changes of subscribed sessions, from the live events of the token’s own sessions only', async () => {
    const { client } = await connectStdio(['--url', server().url], { MNEMO_TOKEN: adaToken });
    const notes: string[] = [];
    let heard: () => void = () => {};
    const note = (text: string) => {
      notes.push(text);
      heard();
    };
    /** Resolves once a notification passing `test` has arrived. */
    const arrival = (test: (text: string) => boolean) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not notified; heard: ${notes.join(', ')}`)), 20_000);
        heard = () => notes.some(test) && (clearTimeout(timer), resolve());
        heard();
      });
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () => note('list'));
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, ({ params }) => note(`updated ${params.uri}`));
    expect(client.getServerCapabilities()?.resources).toEqual({ subscribe: true, listChanged: true });
    // The event stream starts with a reset (re-read everything): the list changed, as far as the client knows.
    await arrival((n) => n === 'list');
    await client.subscribeResource({ uri: sessionUri('ada-live') });
    await client.subscribeResource({ uri: sessionUri('bob-1') }); // not hers: its events never reach her token
    notes.length = 0;
    await server().core.memory.add({ sessionId: 'bob-1', messages: [{ role: 'user', content: `more ${BOB_SECRET}` }] });
    await call(client, 'add_messages', { sessionId: 'ada-live', messages: [{ role: 'user', content: 'live one' }] });
    await arrival((n) => n === `updated ${sessionUri('ada-live')}`);
    await arrival((n) => n === 'list');
    // Events arrive in order on one stream: bob's write, made first, would have come before hers.
    expect(notes).not.toContain(`updated ${sessionUri('bob-1')}`);

    await client.unsubscribeResource({ uri: sessionUri('ada-live') });
    notes.length = 0;
    await call(client, 'add_messages', { sessionId: 'ada-live', messages: [{ role: 'user', content: 'live two' }] });
    await arrival((n) => n === 'list');
    expect(notes).not.toContain(`updated ${sessionUri('ada-live')}`);
  }, 60_000);

  it('answers a server it cannot reach with a tool error, and --token over MNEMO_TOKEN', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { client } = await connectStdio(['--url', `http://127.0.0.1:${port}`], { MNEMO_TOKEN: adaToken });
    const result = await call(client, 'get_session', { sessionId: 'x' });
    expect(result).toMatchObject({
      isError: true,
      text: expect.stringMatching(new RegExp(`^INTERNAL: the call to http://127.0.0.1:${port} failed: `)),
    });

    const { client: withFlag } = await connectStdio(['--url', server().url, '--token', 'not-a-token'], { MNEMO_TOKEN: adaToken });
    expect((await call(withFlag, 'get_session', { sessionId: 'ada-garden' })).text).toBe('UNAUTHENTICATED: token is unauthorized');
  }, 60_000);

  it('exits by itself, with code 0, when its client closes stdin, its event stream open', async () => {
    const child: ChildProcess = spawn(process.execPath, [...CLI, '--url', server().url], {
      cwd: SERVER_DIR,
      env: { PATH: process.env.PATH, MNEMO_TOKEN: adaToken },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    };
    child.stdin!.write(`${JSON.stringify(initialize)}\n`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to initialize; stdout: ${stdout}`)), 30_000);
      child.stdout!.on('data', () => stdout.includes('\n') && (clearTimeout(timer), resolve()));
    });
    expect(JSON.parse(stdout.split('\n')[0]!)).toMatchObject({ id: 1, result: { serverInfo: { name: 'mnemo' } } });
    // Initialised, it follows the server's live events (an open SSE request): closing stdin must end that too.
    child.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no list_changed after the event stream's reset; stdout: ${stdout}`)), 30_000);
      child.stdout!.on('data', () => stdout.includes('notifications/resources/list_changed') && (clearTimeout(timer), resolve()));
    });
    child.stdin!.end();
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  }, 60_000);
});
