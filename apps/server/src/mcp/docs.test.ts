/**
 * docs/mcp.md's configuration snippets work as written: each `mcpServers` JSON block is read from the
 * page, and each server in it is started exactly as an agent would — its command with its arguments
 * and environment (stdio), or its URL with its headers (HTTP) — against a test server, through the
 * MCP SDK's Client; it must then add memory and find it again. Only the values a reader replaces
 * change: the server's address, and the token wherever the snippet puts it (written in, `${MNEMO_TOKEN}`
 * or `${env:MNEMO_TOKEN}`). `mnemo` is this checkout's CLI, put on the PATH as the installed one would be.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createUserToken } from '@mnemo/core/auth-tokens';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../env';
import { useTestServer } from '../testing';
import { TOOLS } from './server';

const SECRET = 'mcp-docs-secret-0123456789abcdef';
const server = useTestServer({ authSecret: SECRET });
const DOCS_URL = 'http://127.0.0.1:8000';
/** Where a snippet puts the token: written in, or the variable as Claude Code (`${MNEMO_TOKEN}`) or Cursor (`${env:…}`) expands it. */
const TOKEN_PLACEHOLDER = /<your token>|\$\{(env:)?MNEMO_TOKEN\}/g;

interface ServerEntry {
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  type?: string;
  url?: string;
  headers?: Record<string, string>;
}
interface Snippet {
  /** The `###` heading the snippet is under (the agent it configures). */
  agent: string;
  name: string;
  entry: ServerEntry;
}

/** Every server of every `mcpServers` JSON block of docs/mcp.md, with the agent heading it is under. */
function snippets(markdown: string): Snippet[] {
  const found: Snippet[] = [];
  let agent = '';
  for (const block of markdown.split(/^(?=### |```json\n)/m)) {
    if (block.startsWith('### ')) agent = block.slice(4, block.indexOf('\n'));
    const json = /^```json\n([\s\S]*?)\n```/.exec(block)?.[1];
    if (!json?.includes('"mcpServers"')) continue;
    const { mcpServers } = JSON.parse(json) as { mcpServers: Record<string, ServerEntry> };
    for (const [name, entry] of Object.entries(mcpServers)) found.push({ agent, name, entry });
  }
  return found;
}

const SNIPPETS = snippets(readFileSync(join(REPO_ROOT, 'docs/mcp.md'), 'utf8'));
let token: string;
/** A folder on the PATH with `mnemo`: this checkout's CLI (node runs bin.ts through tsx, as `pnpm mnemo` does). */
let binDir: string;

beforeAll(async () => {
  await server().core.users.add({ userId: 'ada' });
  token = await createUserToken({ secret: SECRET, userId: 'ada', ttl: '1h' });
  binDir = mkdtempSync(join(tmpdir(), 'mnemo-bin-'));
  const serverDir = new URL('../..', import.meta.url).pathname;
  writeFileSync(join(binDir, 'mnemo'), `#!/bin/sh\ncd '${serverDir}' && exec '${process.execPath}' --import tsx src/bin.ts "$@"\n`);
  chmodSync(join(binDir, 'mnemo'), 0o755);
});
afterAll(() => rmSync(binDir, { recursive: true, force: true }));

/** A snippet's value with the reader's values in: the server's address and the token. */
function filledIn(value: string): string {
  return value.replaceAll(DOCS_URL, server().url).replace(TOKEN_PLACEHOLDER, token);
}
const filledInAll = (record: Record<string, string> = {}) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, filledIn(v)]));

function transportOf({ entry }: Snippet): Transport {
  if (entry.command) {
    return new StdioClientTransport({
      command: entry.command,
      args: (entry.args ?? []).map(filledIn),
      // What the agent adds to the environment it starts the command in (its PATH has `mnemo`).
      env: { PATH: `${binDir}${delimiter}${process.env.PATH}`, ...filledInAll(entry.env) },
      stderr: 'pipe',
    });
  }
  return new StreamableHTTPClientTransport(new URL(filledIn(entry.url!)), { requestInit: { headers: filledInAll(entry.headers) } });
}

/** The tool names of the first Markdown table whose first column is `tool`. */
const toolTable = (markdown: string) => {
  const table = markdown.slice(markdown.indexOf('| tool ')).split('\n\n')[0]!;
  return [...table.matchAll(/^\| `(\w+)`/gm)].map((m) => m[1]);
};

describe('docs/mcp.md', () => {
  it('lists every tool, as the README does', () => {
    for (const file of ['docs/mcp.md', 'README.md']) {
      expect(toolTable(readFileSync(join(REPO_ROOT, file), 'utf8')), file).toEqual(Object.keys(TOOLS));
    }
  });

  it('has snippets for Claude Desktop, Claude Code and Cursor, over both transports, each naming what it starts', () => {
    expect([...new Set(SNIPPETS.map((s) => s.agent))]).toEqual(['Claude Desktop', 'Claude Code', 'Cursor']);
    const kinds = SNIPPETS.map((s) => `${s.agent}: ${s.entry.command ? `${s.entry.command} ${s.entry.args!.join(' ')}` : s.entry.url}`);
    expect(kinds).toEqual([
      `Claude Desktop: mnemo mcp --url ${DOCS_URL}`,
      `Claude Code: ${DOCS_URL}/mcp`,
      `Claude Code: mnemo mcp --url ${DOCS_URL}`,
      `Cursor: ${DOCS_URL}/mcp`,
      `Cursor: mnemo mcp --url ${DOCS_URL}`,
    ]);
  });

  it.each(SNIPPETS.map((s, i) => [`${s.agent}, ${s.entry.command ? 'stdio' : 'HTTP'} (snippet ${i + 1})`, s] as const))(
    '%s: an agent configured with it adds memory and finds it again',
    async (_title, snippet) => {
      const client = new Client({ name: 'docs-test', version: '1' });
      await client.connect(transportOf(snippet));
      try {
        const sessionId = `docs-${SNIPPETS.indexOf(snippet)}`;
        const added = (await client.callTool({
          name: 'add_messages',
          arguments: { sessionId, messages: [{ role: 'user', content: `I keep bees in ${sessionId}` }] },
        })) as CallToolResult;
        expect(added.isError, JSON.stringify(added.content)).toBeFalsy();
        const found = (await client.callTool({ name: 'search_memory', arguments: { text: 'bees', sessionId } })) as CallToolResult;
        expect(found.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining(`I keep bees in ${sessionId}`) });
        expect(await server().core.sessions.get({ sessionId })).toMatchObject({ userId: 'ada', messageCount: 1 });
      } finally {
        await client.close();
      }
    },
    60_000,
  );
});
