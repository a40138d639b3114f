/**
 * What the benchmarks share (`@mnemo/core/bench`): their database and core (the default local database in a temporary
 * folder, or MONGODB_URI, cleaned up after, Ctrl-C too), their options and their printing.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { rmSync } from 'node:fs';
import { type LocalDb, startLocalDb } from '@mnemo/local-db';
import { tempDataDir } from '@mnemo/local-db/testing';
import { type Core, createCore } from '../src/index';

/** The machine, for the first line of a benchmark's output (numbers mean little without it). */
export function machine(): string {
  const cpus = os.cpus();
  const memory = (os.totalmem() / 2 ** 30).toFixed(1);
  return `machine: ${cpus.length} cores, ${cpus[0]?.model ?? 'unknown cpu'}, ${memory} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}; ${new Date().toISOString()}`;
}

/** Runs `run` on a fresh core (see above); `durable: false` skips the local database's fsyncs (a benchmark of reads). */
export async function withBenchCore(
  name: string,
  run: (core: Core, db: LocalDb | undefined) => Promise<void>,
  { durable }: { durable?: boolean } = {},
): Promise<void> {
  const dataDir = process.env.MONGODB_URI ? undefined : tempDataDir(`mnemo-bench-${name}-`);
  let db: LocalDb | undefined;
  let core: Core | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await core?.db.dropDatabase().catch(() => {});
      await core?.close().catch(() => {});
      await db?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    })());
  process.once('SIGINT', () => {
    console.log('\ninterrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  });
  try {
    if (dataDir) db = await startLocalDb({ dataDir, durable, log: (m) => console.log(`[local-db] ${m}`) });
    core = createCore({
      mongoUri: process.env.MONGODB_URI ?? db!.uri,
      dbName: `mnemo_bench_${name}_${randomUUID().slice(0, 8)}`,
      singleWriter: db !== undefined, // as `pnpm start` on the local database
    });
    await core.init();
    await run(core, db);
  } finally {
    await cleanup();
  }
}

/** The `p`th percentile of sorted numbers. */
export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
/** Milliseconds with 3 significant digits or so. */
export const ms = (x: number) => (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : String(Math.round(x)));
export const count = (n: number) => n.toLocaleString('en-US');
/** A Markdown table; the first row is the header, columns after the first are right-aligned. */
export const table = (rows: string[][]) => {
  const [head, ...body] = rows;
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head!), line(head!.map((_, i) => (i === 0 ? '---' : '---:'))), ...body.map(line)].join('\n');
};

/** `--name N` options (positive integers) over `defaults`; anything else prints `usage` and exits with 2. */
export function countOptions<K extends string>(argv: string[], defaults: Record<K, number>, usage: string): Record<K, number> {
  const options = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') continue;
    const key = arg.replace(/^--/, '') as K;
    const value = Number(argv[++i]);
    if (!arg.startsWith('--') || !(key in defaults) || !Number.isInteger(value) || value < 1) {
      console.error(`bad argument ${JSON.stringify(arg)}\n${usage}`);
      process.exit(2);
    }
    options[key] = value;
  }
  return options;
}
