/**
 * The real entry point (`tsx src/main.ts`, what `pnpm start` runs) with no MONGODB_URI: it starts the
 * local database in MNEMO_DATA_DIR, serves, stops cleanly on SIGTERM (exit 0), and a second start
 * on the same data dir finds the data again (and purges what was soft-deleted, at start-up).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@mnemo/local-db';
import { processesOf, tempDataDir } from '@mnemo/local-db/testing';
import { afterAll, expect, it } from 'vitest';
import { httpClient } from './test/http';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
const dataDir = tempDataDir('mnemo-restart-');
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** The tail of the local database's log, for failure messages. */
function dbLog(): string {
  return ['ferretdb.log', 'postgres.log', 'mongod.log']
    .map((name) => join(dataDir, name))
    .filter((file) => existsSync(file))
    .map((file) => `\n--- ${file}:\n${readFileSync(file, 'utf8').split('\n').slice(-30).join('\n')}`)
    .join('');
}

async function startMain(port: number, extraEnv: Record<string, string> = {}) {
  // Node itself runs main.ts (tsx's CLI would put a process of its own in between), so a signal reaches Mnemo.
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: SERVER_DIR,
    env: {
      ...process.env,
      MONGODB_URI: '',
      MNEMO_AUTH_SECRET: '',
      MNEMO_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`main.ts exited early (${child.exitCode}):\n${output}${dbLog()}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`main.ts did not answer /healthz:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    output: () => output,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
  };
}

it('keeps data across a SIGTERM and a restart on the same data dir', { timeout: 180_000 }, async () => {
  const port = await freePort();
  const http = httpClient(`http://127.0.0.1:${port}`);

  const first = await startMain(port);
  expect(first.output()).toMatch(/authentication is OFF/);
  expect((await http('POST', '/api/v1/user', { user_id: 'ada', first_name: 'Ada' })).status).toBe(201);
  expect((await http('POST', '/api/v1/sessions', { session_id: 'kept', user_id: 'ada', metadata: { topic: 'engines' } })).status).toBe(201);
  await http('POST', '/api/v1/sessions/kept/memory', { messages: [{ role: 'human', content: 'Hello, Charles' }] });
  await http('POST', '/api/v1/sessions/dropped/memory', { messages: [{ role: 'human', content: 'bye' }] });
  expect((await http('DELETE', '/api/v1/sessions/dropped/memory')).status).toBe(200);
  expect(await first.stop()).toBe(0);
  expect(first.output()).toMatch(/SIGTERM/);

  // An OpenAI-compatible embeddings endpoint of the test's own: MNEMO_EMBEDDINGS_URL reaches core.
  const requests: string[][] = [];
  const embeddings = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const { input } = JSON.parse(body) as { input: string[] };
      requests.push(input);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: input.map((text, index) => ({ index, embedding: [text.length, 1, 0] })) }));
    });
  });
  await new Promise<void>((ok) => embeddings.listen(0, '127.0.0.1', ok));
  const embeddingsUrl = `http://127.0.0.1:${(embeddings.address() as { port: number }).port}/v1/embeddings`;

  const second = await startMain(port, { MNEMO_EMBEDDINGS_URL: embeddingsUrl });
  try {
    expect((await http('GET', '/api/v1/user/ada')).json).toMatchObject({ user_id: 'ada', first_name: 'Ada' });
    expect((await http('GET', '/api/v1/sessions/kept')).json).toMatchObject({ user_id: 'ada', metadata: { topic: 'engines' } });
    const memory = (await http('GET', '/api/v1/sessions/kept/memory')).json;
    expect(memory.messages.map((m: { content: string }) => m.content)).toEqual(['Hello, Charles']);
    // The start-up purge (which runs alongside serving) hard-deletes the soft-deleted session,
    // after which its id is free again.
    await expect.poll(async () => (await http('POST', '/api/v1/sessions', { session_id: 'dropped' })).status).toBe(201);

    await http('POST', '/api/v1/sessions/kept/memory', { messages: [{ role: 'human', content: 'Difference engines' }] });
    const search = () => http('POST', '/api/v1/sessions/kept/search', { text: 'engines', search_type: 'mmr' });
    await expect.poll(async () => (await search()).json[0]?.embedding).toEqual(['Difference engines'.length, 1, 0]);
    expect(requests.flat()).toContain('Difference engines');
  } finally {
    expect(await second.stop()).toBe(0);
    embeddings.close();
  }
});

it('leaves no database process behind when it is killed with SIGKILL, and loses no acknowledged message', {
  timeout: 120_000,
}, async () => {
  const port = await freePort();
  const main = await startMain(port);
  expect(main.output()).toMatch(/FerretDB .* on PostgreSQL|mongod/);
  expect(processesOf(dataDir).length).toBeGreaterThan(0); // the database, its guard, PostgreSQL's backends
  // Appends answered just before the kill: their session's stored head lags them (core's store/heads.ts).
  const http = httpClient(`http://127.0.0.1:${port}`);
  for (let i = 0; i < 30; i++) {
    const { status } = await http('POST', '/api/v1/sessions/killed/memory', { messages: [{ role: 'user', content: `message ${i}` }] });
    expect(status).toBe(200);
  }
  await main.stop('SIGKILL');
  await expect.poll(() => processesOf(dataDir), { timeout: 20_000, interval: 200 }).toEqual([]);

  const again = await startMain(port);
  try {
    expect((await http('GET', '/api/v1/sessions/killed/messages')).json).toMatchObject({ total_count: 30, row_count: 30 });
    await http('POST', '/api/v1/sessions/killed/memory', { messages: [{ role: 'user', content: 'after' }] });
    const last = (await http('GET', '/api/v1/sessions/killed/memory?lastn=2')).json as { messages: { content: string }[] };
    expect(last.messages.map((m) => m.content)).toEqual(['message 29', 'after']);
    expect((await http('GET', '/api/v1/sessions/killed/messages')).json).toMatchObject({ total_count: 31 });
  } finally {
    await again.stop();
  }
});

it('shuts down within MNEMO_SHUTDOWN_TIMEOUT although a client is still trickling a request body', { timeout: 120_000 }, async () => {
  const port = await freePort();
  const main = await startMain(port, { MNEMO_SHUTDOWN_TIMEOUT: '1' });
  const socket = connect(port, '127.0.0.1');
  await new Promise((ok) => socket.once('connect', ok));
  socket.on('error', () => {}); // the server ends it
  socket.write('POST /api/v1/sessions/slow/memory HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
  const trickle = setInterval(() => socket.write(' '), 300);
  try {
    await new Promise((r) => setTimeout(r, 500));
    const started = Date.now();
    expect(await main.stop()).toBe(0);
    // 1 s of grace, then the database stops: a few seconds. Held by the trickling client, it would
    // wait for the request timeout (60 s) or the whole body (300 s).
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(main.output()).toMatch(/closing their connections/);
  } finally {
    clearInterval(trickle);
    socket.destroy();
  }
});

it('rides out a killed FerretDB and a killed PostgreSQL under a write load: 503 meanwhile, no acknowledged write lost', {
  timeout: 180_000,
}, async () => {
  const port = await freePort();
  const main = await startMain(port);
  const http = httpClient(`http://127.0.0.1:${port}`);
  const acked: string[][] = [[], [], [], []];
  const statuses = new Map<number, number>();
  let slowest = 0;
  let running = true;
  const writer = async (w: number) => {
    for (let i = 0; running; i++) {
      const content = `w${w}-${i}`;
      const started = performance.now();
      const { status } = await http('POST', `/api/v1/sessions/faults-${w}/memory`, { messages: [{ role: 'user', content }] });
      slowest = Math.max(slowest, performance.now() - started);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status === 200) acked[w]!.push(content);
      else await new Promise((r) => setTimeout(r, 100));
    }
  };
  const writers = acked.map((_, w) => writer(w));
  const total = () => acked.reduce((sum, a) => sum + a.length, 0);
  try {
    await expect.poll(total, { timeout: 30_000 }).toBeGreaterThan(20);
    const killAll = (exe: RegExp) => {
      for (const p of processesOf(dataDir)) if (exe.test(p.command.split(' ')[0]!)) process.kill(p.pid, 'SIGKILL');
    };
    const outages: [string, () => Promise<void>][] = [
      [
        'FerretDB',
        // Killed, and its port held for 5 s so that it cannot come back (the driver waits 3 s for a
        // server, then the request fails): connections to it are cut at once.
        async () => {
          const port = Number(/FerretDB \S+ on PostgreSQL at mongodb:\/\/127\.0\.0\.1:(\d+)/.exec(main.output())![1]);
          killAll(/ferretdb$/);
          const blocker = createServer((socket) => socket.destroy());
          // Free once the killed process is gone (within the second before it is started again).
          for (let listening = false; !listening; ) {
            listening = await new Promise<boolean>((ok) => {
              blocker.once('error', () => ok(false));
              blocker.listen(port, '127.0.0.1', () => ok(true));
            });
            if (!listening) await new Promise((r) => setTimeout(r, 10));
          }
          await new Promise((r) => setTimeout(r, 5000));
          await new Promise((ok) => blocker.close(ok));
        },
      ],
      [
        'PostgreSQL',
        // Its server and the backends serving FerretDB's connections, killed whenever they are back, for 8 s.
        async () => {
          for (const deadline = Date.now() + 8000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
            killAll(/\/postgres$|^postgres:$/);
          }
        },
      ],
    ];
    for (const [name, outage] of outages) {
      const unavailable = statuses.get(503) ?? 0;
      await outage();
      await expect
        .poll(() => statuses.get(503) ?? 0, { timeout: 30_000, message: `a 503 while ${name} was down` })
        .toBeGreaterThan(unavailable);
      const before = total();
      await expect.poll(total, { timeout: 60_000 }).toBeGreaterThan(before + 20); // service resumed
    }
  } finally {
    running = false;
    await Promise.all(writers);
  }
  // Any 500 is logged with its cause: show them, so an unrecognised "database unavailable" error is named.
  const internal = main
    .output()
    .split('\n')
    .filter((line) => line.includes('"level":50') && !line.includes('the database is unavailable'));
  expect(internal.map((line) => line.slice(0, 300))).toEqual([]);
  expect([...statuses.keys()].sort()).toEqual([200, 503]);
  // Fails fast rather than hanging: about 3 s at most (the driver's server selection timeout), where
  // a hanging request would wait for the driver's default (30 s) or forever.
  expect(slowest).toBeLessThan(20_000);
  expect(main.output()).toMatch(/ferretdb exited \(SIGKILL\); starting it again/);
  expect(main.output()).toMatch(/postgres exited \(SIGKILL\); starting it again/);
  for (const [w, contents] of acked.entries()) {
    const { messages } = (await http('GET', `/api/v1/sessions/faults-${w}/messages`)).json as { messages: { content: string }[] };
    const stored = new Set(messages.map((m) => m.content));
    expect(contents.filter((c) => !stored.has(c))).toEqual([]);
  }
  expect(await main.stop()).toBe(0);
});

it('answers every request it processed when it gets SIGTERM under a write load, and keeps every acknowledged write', {
  timeout: 120_000,
}, async () => {
  const port = await freePort();
  // A long grace period, so that idle keep-alive connections holding the shutdown would show as a wait of a minute.
  const main = await startMain(port, { MNEMO_SHUTDOWN_TIMEOUT: '60' });
  const http = httpClient(`http://127.0.0.1:${port}`);
  const acked: string[] = [];
  const unanswered: string[] = []; // the connection failed: never sent, or cut mid-way (which must not happen)
  const failures: string[] = [];
  let stopping = false;
  const writer = async (w: number) => {
    for (let i = 0; ; i++) {
      const content = `t${w}-${i}`;
      try {
        const { status } = await http('POST', `/api/v1/sessions/term-${w}/memory`, { messages: [{ role: 'user', content }] });
        if (status === 200) acked.push(content);
        else if (status !== 503 || !stopping) failures.push(`${content}: ${status}`); // 503: arrived while closing
      } catch (error) {
        if (!stopping) failures.push(`${content}: ${String((error as { cause?: { code?: string } }).cause?.code)}`);
        unanswered.push(content);
        return;
      }
    }
  };
  const writers = [0, 1, 2, 3].map(writer);
  await expect.poll(() => acked.length, { timeout: 30_000 }).toBeGreaterThan(40);
  stopping = true;
  const started = Date.now();
  expect(await main.stop()).toBe(0);
  // Idle keep-alive connections do not hold it for the 60 s grace period: it takes about a second.
  expect(Date.now() - started).toBeLessThan(20_000);
  await Promise.all(writers);
  expect(failures).toEqual([]);

  // After a restart: every acknowledged write is there, and no unanswered request was carried out.
  const again = await startMain(port);
  try {
    const stored = new Set<string>();
    for (let w = 0; w < 4; w++) {
      const { messages } = (await http('GET', `/api/v1/sessions/term-${w}/messages`)).json as { messages: { content: string }[] };
      for (const m of messages) stored.add(m.content);
    }
    expect(acked.filter((c) => !stored.has(c))).toEqual([]);
    expect(unanswered.filter((c) => stored.has(c))).toEqual([]);
  } finally {
    await again.stop();
  }
});

it('answers a body over MNEMO_MAX_BODY with a 413 that fetch can read, on REST and tRPC, every time', { timeout: 120_000 }, async () => {
  // Out of process, as clients see it: the server used to close the connection while fetch was still
  // sending, and fetch reported a broken pipe (EPIPE) instead of the 413 in 4 tries out of 10.
  const port = await freePort();
  const main = await startMain(port); // MNEMO_MAX_BODY: 5 MiB
  try {
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(5.5 * 1024 * 1024) }] });
    const outcomes: (number | string)[] = [];
    for (let i = 0; i < 10; i++) {
      for (const path of ['/api/v1/sessions/big/memory', '/trpc/memory.add']) {
        outcomes.push(
          await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }).then(
            async (reply) => (await reply.json(), reply.status),
            (error: Error) => String((error.cause as { code?: string } | undefined)?.code ?? error.message),
          ),
        );
      }
    }
    expect(outcomes).toEqual(outcomes.map(() => 413));
  } finally {
    await main.stop();
  }
});
