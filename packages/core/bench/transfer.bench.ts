/**
 * Export and import throughput and memory (a benchmark, not a test): exports a whole database to a
 * JSON Lines file, imports the file into an empty database, and exports that one again to check the
 * bytes are the same. Each step runs in a child process of its own (core.transfer, as
 * `pnpm mnemo export | import` does), which reports its time and its peak memory (the RSS
 * high-water mark, `process.resourceUsage().maxRSS`), so the numbers are the step's alone.
 *
 *   pnpm bench                                              # runs this after scale.bench.ts, on its database (largest N)
 *   pnpm --filter @mnemo/core bench:transfer --messages 100k  # alone: loads N messages in sessions of 100 first
 *
 * Standalone it starts its own local database in a temporary directory, or uses MONGODB_URI when set.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { type Core, createCore } from '../src/index';
import { count, table, withBenchCore } from './bench-core';

interface StepResult {
  seconds: number;
  messages: number;
  /** RSS high-water mark of the step's process, in bytes. */
  maxRss: number;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Runs one step in a child process (this file with `--child`). */
function step(args: string[]): Promise<StepResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  return new Promise((resolve, reject) =>
    child.once('close', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`transfer step ${args[0]} exited with ${code}`)),
    ),
  );
}

/** The child side: one export or import, timed; prints a StepResult as its last line. */
async function child([what, uri, dbName, file]: string[]): Promise<void> {
  const core = createCore({ mongoUri: uri!, dbName: dbName! });
  await core.init();
  const started = performance.now();
  let messages: number;
  if (what === 'export') {
    const out = createWriteStream(file!);
    messages = (await core.transfer.export(out)).messages;
    out.end();
    await finished(out);
  } else {
    messages = (await core.transfer.import(createReadStream(file!))).imported.messages;
  }
  const seconds = (performance.now() - started) / 1000;
  await core.close();
  console.log(JSON.stringify({ seconds, messages, maxRss: process.resourceUsage().maxRSS * 1024 } satisfies StepResult));
}

/** Export `core`'s database, import it into a fresh one, export that again; prints a table. */
export async function benchTransfer(core: Core, { uri }: { uri: string }): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-bench-transfer-'));
  const copy = `${core.db.databaseName}_import_${randomUUID().slice(0, 6)}`;
  try {
    const file = join(dir, 'export.jsonl');
    const exported = await step(['export', uri, core.db.databaseName, file]);
    const bytes = statSync(file).size;
    console.log(`exported ${count(exported.messages)} messages (${(bytes / 2 ** 20).toFixed(0)} MiB) in ${exported.seconds.toFixed(1)} s`);
    const imported = await step(['import', uri, copy, file]);
    console.log(`imported them into an empty database in ${imported.seconds.toFixed(1)} s`);
    const again = await step(['export', uri, copy, join(dir, 'again.jsonl')]);
    const same = (await sha256(file)) === (await sha256(join(dir, 'again.jsonl')));
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    const rate = (r: StepResult) => count(Math.round(r.messages / r.seconds));
    console.log(
      `\n${table([
        ['step', 'messages', 'seconds', 'messages/s', 'peak RSS'],
        ['export (to a file)', count(exported.messages), exported.seconds.toFixed(1), rate(exported), mib(exported.maxRss)],
        ['import (into an empty database)', count(imported.messages), imported.seconds.toFixed(1), rate(imported), mib(imported.maxRss)],
        ['export of the imported database', count(again.messages), again.seconds.toFixed(1), rate(again), mib(again.maxRss)],
      ])}\n\nfile: ${mib(bytes)}; the second export is ${same ? 'byte-identical to the first' : 'DIFFERENT from the first'}`,
    );
    if (!same) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await core.db.client
      .db(copy)
      .dropDatabase()
      .catch(() => {});
  }
}

// ---- standalone ------------------------------------------------------------------------------
async function main(argv: string[]) {
  if (argv[0] === '--child') return child(argv.slice(1));
  const at = argv.indexOf('--messages');
  const size = at >= 0 ? /^(\d+)(k|m)?$/i.exec(argv[at + 1] ?? '') : /^/.exec('');
  const messages = size?.[1] ? Number(size[1]) * ({ k: 1e3, m: 1e6 }[size[2]?.toLowerCase() ?? ''] ?? 1) : 100_000;
  await withBenchCore('transfer', async (core, db) => {
    const started = performance.now();
    const words = 'the quick brown fox jumps over a lazy dog while we talk about gardens invoices and flights'.split(' ');
    let next = 0;
    const sessions = Math.ceil(messages / 100);
    const worker = async () => {
      for (let s = next++; s < sessions; s = next++) {
        await core.memory.add({
          sessionId: `s-${s}`,
          messages: Array.from({ length: 100 }, (_, i) => ({
            role: i % 2 ? 'assistant' : 'user',
            content: Array.from({ length: 10 + ((s * 7 + i) % 20) }, (_, w) => words[(s + i * 3 + w) % words.length]).join(' '),
            metadata: { turn: i },
          })),
        });
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    console.log(`loaded ${count(sessions * 100)} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await benchTransfer(core, { uri: process.env.MONGODB_URI ?? db!.uri });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main(process.argv.slice(2));
