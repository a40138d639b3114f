/** `pnpm mnemo import-chatgpt` (cli.ts) as a child process on the test database: a ChatGPT export of the documented shape. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Core } from '@mnemo/core';
import { useTestCore } from '@mnemo/core/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mnemo-chatgpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The CLI writes from another process: this core must not hold heads in memory (not the only writer).
const core = useTestCore({ singleWriter: false });

function cli(db: Core, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/bin.ts', ...args], {
    cwd: SERVER_DIR,
    env: { ...process.env, MONGODB_URI: inject('mongoUri'), MNEMO_DB: db.db.databaseName, MNEMO_AUTH_SECRET: '', INIT_CWD: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

const message = (id: string, role: string, text: string, at: number) => ({
  id,
  author: { role, name: null, metadata: {} },
  create_time: at,
  content: { content_type: 'text', parts: [text] },
  metadata: {},
});
// A question answered twice (regenerated); ChatGPT shows the first answer.
const conversations = [
  {
    title: 'Tea',
    create_time: 1_700_000_000,
    update_time: 1_700_000_100,
    conversation_id: 'chat-tea',
    current_node: 'n-a1',
    mapping: {
      'n-root': { id: 'n-root', message: null, parent: null, children: ['n-q'] },
      'n-q': { id: 'n-q', message: message('q', 'user', 'Name a tea', 1_700_000_001), parent: 'n-root', children: ['n-a1', 'n-a2'] },
      'n-a1': { id: 'n-a1', message: message('a1', 'assistant', 'Sencha', 1_700_000_002), parent: 'n-q', children: [] },
      'n-a2': { id: 'n-a2', message: message('a2', 'assistant', 'Oolong', 1_700_000_050), parent: 'n-q', children: [] },
    },
  },
  { title: 'broken', conversation_id: 'chat-broken', mapping: 'not a mapping' },
];

describe('pnpm mnemo import-chatgpt', () => {
  it('imports the conversations with their branches and head, reports the malformed one, and changes nothing when run again', {
    timeout: 120_000,
  }, async () => {
    writeFileSync(join(dir, 'conversations.json'), JSON.stringify(conversations));
    const first = await cli(core(), ['import-chatgpt', '--in', 'conversations.json', '--user', 'ada', '--quiet']);
    expect(first.stderr).toMatch(/conversation 1 skipped: /);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/Done: 1 conversations and 3 messages imported/);
    const { messages } = await core().memory.get({ sessionId: 'chat-tea' });
    expect(messages.map((m) => [m.uuid, m.content, m.siblingIndex, m.siblingCount])).toEqual([
      ['q', 'Name a tea', 0, 1],
      ['a1', 'Sencha', 0, 2],
    ]);
    expect((await core().sessions.get({ sessionId: 'chat-tea' })).userId).toBe('ada');

    const again = await cli(core(), ['import-chatgpt', '--in', 'conversations.json', '--user', 'ada', '--quiet']);
    expect(again.stdout).toMatch(/Done: 0 conversations and 0 messages imported; 1 conversations and 3 messages already there/);
    expect((await core().memory.tree({ sessionId: 'chat-tea' })).items).toHaveLength(3);
  });

  it('needs --in and --user; a file that is not JSON is a one-line failure', { timeout: 60_000 }, async () => {
    expect(await cli(core(), ['import-chatgpt', '--user', 'ada'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/needs --in/) });
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    const bad = await cli(core(), ['import-chatgpt', '--in', 'bad.json', '--user', 'ada']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/import-chatgpt failed: /);
  });
});
