/**
 * `pnpm mnemo export | import | import-zep` (cli.ts) as child processes on the test database, and the
 * import from a Zep server (core's transfer-zep.ts) against Mnemo's own Zep-compatible REST API.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Core } from '@mnemo/core';
import { fakeSummary, startFakeLlm } from '@mnemo/core/fake-llm';
import { useTestCore } from '@mnemo/core/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createToken } from './auth';
import { httpClient } from './test/http';
import { useTestServer } from './testing';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mnemo-transfer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `pnpm mnemo <args>` as Node does it (tsx), on database `db` of the test run's server. */
function cli(db: Core, args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/bin.ts', ...args], {
    cwd: SERVER_DIR,
    env: { ...process.env, MONGODB_URI: inject('mongoUri'), MNEMO_DB: db.db.databaseName, MNEMO_AUTH_SECRET: '', INIT_CWD: dir },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end(stdin ?? '');
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

// The CLI reads and writes these from another process: their cores are not the only writer (a single
// writer would keep the heads of new messages in memory for up to a second, unseen by the CLI).
const source = useTestCore({ singleWriter: false });
const target = useTestCore({ singleWriter: false });
const zepTarget = useTestCore({ singleWriter: false });

async function seed(core: Core) {
  await core.users.add({ userId: 'ada', firstName: 'Ada', metadata: { plan: 'pro' } });
  await core.users.add({ userId: 'bob' });
  await core.sessions.add({ sessionId: 'ada-chat', userId: 'ada', metadata: { topic: 'engines' } });
  await core.sessions.add({ sessionId: 'bob-chat', userId: 'bob' });
  await core.memory.add({
    sessionId: 'ada-chat',
    messages: Array.from({ length: 40 }, (_, i) => ({
      role: i % 2 ? 'assistant' : 'user',
      content: `Note ${i}: the difference engine, naïvely`,
      metadata: { i },
    })),
  });
  await core.memory.add({ sessionId: 'bob-chat', messages: [{ role: 'user', content: 'Hello from Bob', uuid: 'bob-1' }] });
  await core.memory.add({
    sessionId: 'no-user',
    messages: [{ role: 'user', content: 'Nobody owns this', parts: [{ type: 'text', text: 'Nobody owns this' }] }],
  });
}

describe('pnpm mnemo export / import', () => {
  it('exports to a file, imports it into an empty database, and exports the same bytes to stdout', { timeout: 120_000 }, async () => {
    await seed(source());
    const exported = await cli(source(), ['export', '--out', 'backup.jsonl']); // relative: to INIT_CWD
    expect(exported.stderr).toMatch(/Exported 2 users, 3 sessions and 42 messages to .*backup\.jsonl/);
    expect(exported.code).toBe(0);
    const file = join(dir, 'backup.jsonl');
    expect(existsSync(`${file}.partial`)).toBe(false);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe('{"type":"mnemo-export","version":1}');

    const imported = await cli(target(), ['import', '--in', file]);
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/2 users, 3 sessions and 42 messages imported; 0 users, 0 sessions and 0 messages already there/);
    const again = await cli(target(), ['export']);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(text);

    // Again, from stdin: nothing changes.
    const twice = await cli(target(), ['import'], text);
    expect(twice.code).toBe(0);
    expect(twice.stdout).toMatch(/0 users, 0 sessions and 0 messages imported; 2 users, 3 sessions and 42 messages already there/);
    expect((await cli(target(), ['export'])).stdout).toBe(text);
    expect((await target().memory.search({ sessionId: 'ada-chat', text: 'naive difference' })).length).toBeGreaterThan(0);

    const one = await cli(source(), ['export', '--user', 'bob']);
    expect(
      one.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).type),
    ).toEqual(['mnemo-export', 'user', 'session', 'message']);
    const unknown = await cli(source(), ['export', '--user', 'nobody']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/export failed: .*nobody.* not found/);
  });

  it('refuses a malformed line with its number, and a missing file', { timeout: 60_000 }, async () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"type":"mnemo-export","version":1}\n{"type":"user","userId":""}\n');
    const result = await cli(target(), ['import', '--in', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^mnemo: import failed: line 2: user record: userId: must not be empty;/m);
    const missing = await cli(target(), ['import', '--in', join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^mnemo: import failed: .*ENOENT/);
    const noUrl = await cli(target(), ['import-zep']);
    expect(noUrl).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^mnemo: import-zep needs --url .*\(see 'pnpm mnemo help import-zep'\)\n$/),
    });
  });

  it('reports progress on stderr: records, total, rate and time left on a terminal, nothing when piped', { timeout: 120_000 }, async () => {
    const file = join(dir, 'progress.jsonl');
    // Piped (this test's stderr is a pipe): the summary only.
    const quiet = await cli(source(), ['export', '--out', file]);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toMatch(/^Exported 2 users, 3 sessions and 42 messages to .*\n$/);
    // Forced, as a log would want it: plain lines with the total from the stored counters.
    const forced = await cli(source(), ['export', '--out', file, '--progress']);
    expect(forced.stderr).toMatch(/^export: 42 of 42 messages \(100%\), 3 sessions, 2 users · .*elapsed/m);
    const imported = await cli(target(), ['import', '--in', file, '--progress']);
    expect(imported.stderr).toMatch(/^import: 47 records \(100%\), 0 messages imported, 42 skipped · .*elapsed/m);
    // On a terminal (script(1) gives the command one): the line is rewritten in place, without being asked.
    const { stdout: tty } = await new Promise<{ stdout: string }>((done) => {
      const command = `${process.execPath} --import tsx src/bin.ts export --user ada --out ${file}`;
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        cwd: SERVER_DIR,
        env: { ...process.env, MONGODB_URI: inject('mongoUri'), MNEMO_DB: source().db.databaseName, MNEMO_AUTH_SECRET: '' },
      });
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.once('close', () => done({ stdout }));
    });
    expect(tty).toMatch(/\r\x1b\[Kexport: 40 of 40 messages \(100%\)/);
    expect(tty).toMatch(/Exported 1 users, 1 sessions and 40 messages/);
  });
});

describe('import from a Zep server', () => {
  const zep = useTestServer({ authSecret: 'zep-secret-0123456789abcdef012345' });

  it('imports users, sessions with and without users, and every page of messages; idempotent; new messages go after', {
    timeout: 120_000,
  }, async () => {
    const token = await createToken('zep-secret-0123456789abcdef012345');
    const http = httpClient(zep().url, { token });
    for (const user_id of ['u1', 'u2', 'u3']) {
      expect((await http('POST', '/api/v1/user', { user_id, email: `${user_id}@example.com`, metadata: { n: user_id } })).status).toBe(201);
    }
    for (const [session_id, user_id] of [
      ['s1', 'u1'],
      ['s2', 'u1'],
      ['s3', 'u3'],
      ['lonely', null],
    ] as const) {
      expect((await http('POST', '/api/v1/sessions', { session_id, user_id, metadata: { s: session_id } })).status).toBe(201);
    }
    const messages = Array.from({ length: 23 }, (_, i) => ({
      role: i % 2 ? 'ai' : 'human',
      content: `Zep message ${i} about tulips`,
      uuid: `0000000${i}-0000-4000-8000-000000000000`.slice(-36),
      metadata: { i },
      created_at: new Date(Date.UTC(2023, 0, 1, 0, i)).toISOString(),
    }));
    expect((await http('POST', '/api/v1/sessions/s1/memory', { messages })).status).toBe(200);
    expect((await http('POST', '/api/v1/sessions/lonely/memory', { messages: [{ role: 'human', content: 'alone' }] })).status).toBe(200);

    const progress: unknown[] = [];
    const options = {
      url: `${zep().url}/`,
      apiKey: token,
      pageSize: 2,
      messagePageSize: 5,
      onProgress: (p: unknown) => progress.push(structuredClone(p)),
    };
    const result = await zepTarget().transfer.importZep(options);
    expect(result).toEqual({
      imported: { users: 3, sessions: 4, messages: 24, summaries: 0 },
      skipped: { users: 0, sessions: 0, messages: 0, summaries: 0 },
    });
    expect(progress.length).toBeGreaterThan(0);

    const t = zepTarget();
    const theirs = (await http('GET', '/api/v1/user/u1')).json;
    expect(await t.users.get({ userId: 'u1' })).toMatchObject({
      uuid: theirs.uuid,
      email: 'u1@example.com',
      metadata: { n: 'u1' },
      createdAt: new Date(theirs.created_at),
    });
    const s1 = (await http('GET', '/api/v1/sessions/s1')).json;
    expect(await t.sessions.get({ sessionId: 's1' })).toMatchObject({
      uuid: s1.uuid,
      userId: 'u1',
      metadata: { s: 's1' },
      messageCount: 23,
      createdAt: new Date(s1.created_at),
    });
    expect((await t.sessions.get({ sessionId: 'lonely' })).userId).toBeNull();
    const stored = (await t.memory.list({ sessionId: 's1', limit: 100 })).items;
    expect(stored.map((m) => [m.seq, m.uuid, m.role, m.content, m.metadata, m.createdAt.toISOString()])).toEqual(
      messages.map((m, i) => [i + 1, m.uuid, m.role, m.content, m.metadata, m.created_at]),
    );
    expect((await t.memory.search({ sessionId: 's1', text: 'tulips', limit: 100 })).length).toBe(23);
    expect((await t.users.sessions({ userId: 'u1' })).items.map((s) => s.sessionId)).toEqual(['s1', 's2']);

    // Again: nothing changes.
    const snapshot = async () => ({
      sessions: await t.collections.sessions.find({}).toArray(),
      messages: await t.collections.messages.find({}).toArray(),
      search: await t.collections.search.find({}).toArray(),
      users: await t.collections.users.find({}).toArray(),
    });
    const before = await snapshot();
    expect(await t.transfer.importZep(options)).toEqual({
      imported: { users: 0, sessions: 0, messages: 0, summaries: 0 },
      skipped: { users: 3, sessions: 4, messages: 24, summaries: 0 },
    });
    expect(await snapshot()).toEqual(before);

    // New messages in Zep: only they come, after the ones already here.
    await http('POST', '/api/v1/sessions/s1/memory', { messages: [{ role: 'human', content: 'one more', uuid: 'late-1' }] });
    expect((await t.transfer.importZep(options)).imported).toEqual({ users: 0, sessions: 0, messages: 1, summaries: 0 });
    expect((await t.memory.get({ sessionId: 's1', lastn: 1 })).messages[0]).toMatchObject({ uuid: 'late-1', seq: 24 });

    // Through the CLI too (into another database), with progress on stderr.
    const viaCli = await cli(target(), ['import-zep', '--url', zep().url, '--api-key', token]);
    expect(viaCli.code).toBe(0);
    expect(viaCli.stdout).toMatch(/3 users, 4 sessions and 25 messages imported/);
    const unauthorized = await cli(target(), ['import-zep', '--url', zep().url]);
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toMatch(/import-zep failed: GET .*\/api\/v1\/user.*401/);
  });
});

const llm = await startFakeLlm();
afterAll(() => llm.close());

describe('import from a Zep server with summaries', () => {
  const env = { MNEMO_LLM_URL: llm.url, MNEMO_LLM_MODEL: 'fake-model' };
  const zep = useTestServer({ messageWindow: 6, env });
  // A summarising Mnemo (get-memory answers the summary only then), in this process.
  const into = useTestCore({ singleWriter: false, messageWindow: 6, summaries: { url: llm.url, model: 'fake-model' } });

  it('brings each session’s summary over as its latest, placed at the message it names; again: skipped', async () => {
    const http = httpClient(zep().url);
    const messages = Array.from({ length: 8 }, (_, i) => ({ role: i % 2 ? 'ai' : 'human', content: `turn ${i + 1}` }));
    expect((await http('POST', '/api/v1/sessions/talk/memory', { messages })).status).toBe(200);
    expect((await http('POST', '/api/v1/sessions/short/memory', { messages: messages.slice(0, 2) })).status).toBe(200);
    await zep().core.idle();
    const theirs = (await http('GET', '/api/v1/sessions/talk/memory')).json.summary;
    expect(theirs.content).toBe(fakeSummary('', ['human: turn 1', 'ai: turn 2', 'human: turn 3', 'ai: turn 4', 'human: turn 5']));

    const options = { url: zep().url };
    const result = await into().transfer.importZep(options);
    expect(result).toEqual({
      imported: { users: 0, sessions: 2, messages: 10, summaries: 1 },
      skipped: { users: 0, sessions: 0, messages: 0, summaries: 0 },
    });
    const memory = await into().memory.get({ sessionId: 'talk' });
    expect(memory.summary).toEqual({
      uuid: theirs.uuid,
      sessionId: 'talk',
      content: theirs.content,
      recentMessageUuid: theirs.recent_message_uuid,
      recentSeq: 5,
      tokenCount: theirs.token_count,
      metadata: {},
      createdAt: new Date(theirs.created_at),
    });
    expect(memory.messages.map((m) => m.content)).toEqual(['turn 6', 'turn 7', 'turn 8']);
    expect(await into().memory.get({ sessionId: 'short' })).not.toHaveProperty('summary');
    expect(await into().collections.summaries.countDocuments({ latestOf: 'talk' })).toBe(1);

    expect(await into().transfer.importZep(options)).toEqual({
      imported: { users: 0, sessions: 0, messages: 0, summaries: 0 },
      skipped: { users: 0, sessions: 2, messages: 10, summaries: 1 },
    });
    expect(await into().collections.summaries.countDocuments({})).toBe(1);

    // The CLI counts them too.
    const exported = await cli(into(), ['export']);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toMatch(/Exported 0 users, 2 sessions, 10 messages and 1 summaries\./);
    expect(exported.stdout.split('\n').filter((line) => line.startsWith('{"type":"summary","sessionId":"talk",'))).toHaveLength(1);
  });
});
