/**
 * Zep's own workload against Mnemo as users run it (a benchmark, not a test):
 *
 *   pnpm bench:load                    # 16 clients, 15 s, 10k messages preloaded
 *   pnpm bench:load -- 32 30           # clients, seconds
 *   pnpm bench:load -- 16 15 http://127.0.0.1:8000   # any Zep-compatible server already running (Zep too;
 *                                                    # preloaded the same way)
 *   pnpm bench:load -- 16 15 http://127.0.0.1:8000 /tmp/zep-run   # … with the CPU of the processes whose
 *                                                    # command line names /tmp/zep-run (and their children)
 *   pnpm bench:load -- --summaries [16 15]           # summaries off and on (a fake model answering in
 *                                                    # 200 ms), in alternating rounds: the on/off ratios
 *
 * Starts Mnemo the way `pnpm start` does (`node --import tsx src/main.ts`, no MONGODB_URI: the default
 * local database, in a temporary data dir), preloads 10,000 messages over 100 sessions through the
 * Zep REST API, then runs bench/zep-load.mjs: each client adds 2 messages to its own session per
 * loop and, every 5th loop, reads memory (lastn=12) and a page of 20 messages. It prints that
 * script's throughput and p50/p99 per operation, and the CPU seconds that Mnemo's process and the
 * database's processes (FerretDB, PostgreSQL) spent during the run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { machine } from '@mnemo/core/bench';
import { startFakeLlm } from '@mnemo/core/fake-llm';
import { fileURLToPath } from 'node:url';
import { freePort } from '@mnemo/local-db';
import { cpuSeconds, processesOf, tempDataDir } from '@mnemo/local-db/testing';

const args = process.argv.slice(2).filter((a) => a !== '--');
const compareSummaries = args.includes('--summaries');
const [clients = '16', seconds = '15', external, externalMark] = args.filter((a) => a !== '--summaries');
/** Rounds of the summaries comparison: off, on, off, on, … (alternating, so that drift of the shared machine hits both alike). */
const SUMMARY_ROUNDS = 6;
const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
const PRELOAD_SESSIONS = 100;
const PRELOAD_PER_SESSION = 100;
const run = Math.random().toString(36).slice(2, 8);

async function post(url: string, body: unknown): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
}

async function startMnemo(dataDir: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), HOST: '127.0.0.1', MNEMO_DATA_DIR: dataDir, MNEMO_PURGE_EVERY: '0' };
  for (const name of ['MONGODB_URI', 'MNEMO_AUTH_SECRET', 'MNEMO_EMBEDDINGS_URL', 'MNEMO_LLM_URL']) delete env[name];
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: SERVER_DIR,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 120_000; ; ) {
    if (child.exitCode !== null) throw new Error(`Mnemo exited with ${child.exitCode}`);
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, child };
    if (Date.now() > deadline) throw new Error('Mnemo did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function preload(url: string): Promise<void> {
  const started = performance.now();
  for (let s = 0; s < PRELOAD_SESSIONS; s += 4) {
    await Promise.all(
      [0, 1, 2, 3].map((i) =>
        post(`${url}/api/v1/sessions/preload-${run}-${s + i}/memory`, {
          messages: Array.from({ length: PRELOAD_PER_SESSION }, (_, n) => ({
            role: n % 2 ? 'assistant' : 'user',
            content: `${n % 2 ? 'answer' : 'question'} ${n} about the weather in Lisbon, flights and hotels`,
          })),
        }),
      ),
    );
  }
  const secs = (performance.now() - started) / 1000;
  const messages = PRELOAD_SESSIONS * PRELOAD_PER_SESSION;
  console.log(`preloaded ${messages} messages in ${secs.toFixed(1)} s: ${Math.round(messages / secs)} messages/s`);
}

/** What one run of zep-load.mjs measured. */
interface RoundResult {
  opsPerSecond: number;
  addP99: number;
}

/** Starts Mnemo (or uses `external`), preloads, runs zep-load.mjs and prints its figures and the CPU spent. */
async function round(extraEnv: NodeJS.ProcessEnv = {}): Promise<RoundResult> {
  const dataDir = external ? undefined : tempDataDir('mnemo-bench-load-');
  let mnemo: { url: string; child: ChildProcess } | undefined;
  try {
    mnemo = external ? { url: external, child: undefined! } : await startMnemo(dataDir!, extraEnv);
    await preload(mnemo.url);
    // CPU per process, by kind; database processes started during the run (new PostgreSQL backends) count whole.
    // By executable: PostgreSQL's backends call themselves "postgres: …".
    const kindOf = (command: string): string => {
      const exe = command.split(' ')[0]!;
      return /ferretdb$/.test(exe)
        ? 'FerretDB'
        : /^postgres:?$|\/postgres$/.test(exe)
          ? 'PostgreSQL'
          : /mongod$/.test(exe)
            ? 'mongod'
            : /(^|\/)zep$/.test(exe)
              ? 'Zep'
              : 'other';
    };
    const cpu = () =>
      new Map<number, { kind: string; seconds: number }>([
        ...(mnemo!.child ? [[mnemo!.child.pid!, { kind: 'Mnemo (node)', seconds: cpuSeconds(mnemo!.child.pid!) }] as const] : []),
        ...(dataDir || externalMark ? processesOf((dataDir ?? externalMark)!) : []).map(
          (p) => [p.pid, { kind: kindOf(p.command), seconds: cpuSeconds(p.pid) }] as const,
        ),
      ]);
    const before = cpu();
    console.log(`zep-load.mjs: ${clients} clients, ${seconds} s against ${mnemo.url}`);
    const load = spawn(process.execPath, [fileURLToPath(new URL('./zep-load.mjs', import.meta.url)), mnemo.url, clients, seconds], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    load.stdout!.on('data', (chunk: Buffer) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    const code = await new Promise<number | null>((r) => load.once('exit', r));
    if (code !== 0) throw new Error(`zep-load.mjs exited with ${code}`);
    const operations = [...output.matchAll(/ n=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    const byKind = new Map<string, number>();
    for (const [pid, { kind, seconds }] of cpu()) byKind.set(kind, (byKind.get(kind) ?? 0) + seconds - (before.get(pid)?.seconds ?? 0));
    for (const [kind, seconds] of byKind) {
      if (kind !== 'other')
        console.log(`CPU ${kind}: ${seconds.toFixed(1)} s, ${((seconds * 1000) / operations).toFixed(2)} ms per operation`);
    }
    return {
      opsPerSecond: Number(output.match(/(\d+) ops\/s/)?.[1] ?? Number.NaN),
      addP99: Number(output.match(/^add .*p99=([\d.]+)ms/m)?.[1] ?? Number.NaN),
    };
  } finally {
    if (mnemo?.child && mnemo.child.exitCode === null) {
      mnemo.child.kill('SIGTERM');
      await new Promise((r) => mnemo!.child.once('exit', r));
    }
    // The database's processes may outlive Mnemo a while (PostgreSQL's shutdown checkpoint): the next round
    // starts once they are gone, or it would pay for this round's writes.
    for (const deadline = Date.now() + 60_000; dataDir && processesOf(dataDir).length > 0 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 200));
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

console.log(machine());
if (!compareSummaries) await round();
else {
  // A model that answers in 200 ms with a summary of bounded length (its last 400 characters, and a note of the new lines).
  const llm = await startFakeLlm({
    delayMs: 200,
    answer: (current, lines) => `${current.slice(-400)} +${lines.length} lines (last: ${lines.at(-1)?.slice(0, 60)})`,
  });
  try {
    const results: Record<'off' | 'on', RoundResult[]> = { off: [], on: [] };
    for (let i = 0; i < SUMMARY_ROUNDS; i++) {
      const mode = i % 2 === 0 ? 'off' : 'on';
      console.log(`\n── round ${i + 1}: summaries ${mode} ──`);
      const before = llm.requests.length;
      results[mode].push(await round(mode === 'on' ? { MNEMO_LLM_URL: llm.url } : {}));
      if (mode === 'on') console.log(`model requests during the round (preload included): ${llm.requests.length - before}`);
    }
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const median = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const middle = Math.floor(sorted.length / 2);
      return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
    };
    const [on, off] = [results.on, results.off];
    for (const [name, of] of [
      ['means', mean],
      ['medians', median],
    ] as const) {
      console.log(`\nsummaries on / off (${name} of the rounds):`);
      console.log(`  throughput: ${(of(on.map((r) => r.opsPerSecond)) / of(off.map((r) => r.opsPerSecond))).toFixed(3)}`);
      console.log(`  add p99:    ${(of(on.map((r) => r.addP99)) / of(off.map((r) => r.addP99))).toFixed(3)}`);
    }
  } finally {
    await llm.close();
  }
}
