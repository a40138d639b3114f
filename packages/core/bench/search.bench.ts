/**
 * Memory-search latency on sessions of 1k, 10k and 100k messages (a benchmark, not a test):
 *
 *   pnpm --filter @mnemo/core bench:search            # all three sizes
 *   pnpm --filter @mnemo/core bench:search 1000 10000 # chosen sizes
 *
 * Starts its own local database (mongod when on PATH, else FerretDB) in a temporary directory,
 * or uses MONGODB_URI when set (a database named mnemo_bench_<random>, dropped afterwards).
 * Messages are loaded through `memory.add` (the production path: seq reservation, insertMany,
 * term extraction) in batches of 1000. The text is synthetic: a Zipf-
 * distributed vocabulary of 5000 words plus planted words of known frequency, so queries of rare,
 * medium and common terms can be compared across sizes.
 */
import { rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { startLocalDb } from '@mnemo/local-db';
import { tempDataDir } from '@mnemo/local-db/testing';
import { createCore, type SearchMemoryInput } from '../src/index';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const SIZES = sizes.length > 0 ? sizes : [1_000, 10_000, 100_000];
const BATCH = 1000;

// Deterministic pseudo-random numbers (mulberry32).
let seed = 42;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

// 5000 pronounceable words; word k is drawn with probability ∝ 1/(k+1) (Zipf).
const SYLLABLES =
  'ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo vu za ze zi zo zu'.split(
    ' ',
  );
const VOCABULARY = Array.from({ length: 5000 }, (_, k) => {
  let word = '';
  for (let n = k + 1, parts = 0; parts < 2 || n > 0; parts++, n = Math.floor(n / SYLLABLES.length)) word += SYLLABLES[n % SYLLABLES.length];
  return `${word}x`; // a consonant ending keeps the stemmer from merging words
});
const CUMULATIVE = (() => {
  const weights = VOCABULARY.map((_, k) => 1 / (k + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  let sum = 0;
  return weights.map((w) => (sum += w / total));
})();
const zipfWord = () => {
  const r = random();
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (CUMULATIVE[mid]! < r) lo = mid + 1;
    else hi = mid;
  }
  return VOCABULARY[lo]!;
};

/** Message i: 8–30 Zipf words, plus "aurora" in 0.1%, "lighthouse" in 1% and "harbor" in 5% of messages. */
function messageText(i: number): string {
  const words = Array.from({ length: 8 + Math.floor(random() * 23) }, zipfWord);
  if (i % 1000 === 7) words.push('aurora');
  if (i % 100 === 3) words.push('lighthouse');
  if (i % 20 === 1) words.push('harbor');
  return `${words.join(' ')}.`;
}

interface Query {
  name: string;
  input: Omit<SearchMemoryInput, 'sessionId'>;
}
const QUERIES: Query[] = [
  { name: 'rare term (0.1%)', input: { text: 'aurora' } },
  { name: 'medium term (1%)', input: { text: 'lighthouse' } },
  { name: 'two terms (1% + 5%)', input: { text: 'Lighthouse by the harbor?' } },
  { name: 'most frequent word (~90%)', input: { text: VOCABULARY[0]! } },
  { name: 'four mixed terms', input: { text: `${VOCABULARY[3]} ${VOCABULARY[40]} ${VOCABULARY[400]} harbor` } },
  { name: 'text + metadata filter', input: { text: 'harbor', metadata: { 'metadata.bucket': 3 } } },
  { name: 'filter only, newest first', input: { metadata: { 'metadata.bucket': 3 } } },
];

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function timeIt(run: () => Promise<unknown>): Promise<{ p50: number; p95: number; runs: number }> {
  await run(); // warm-up
  const times: number[] = [];
  const started = performance.now();
  // 10 runs, or fewer (at least 3) when one run is slow.
  while (times.length < 10 && (times.length < 3 || performance.now() - started < 20_000)) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95), runs: times.length };
}

const ms = (x: number) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`.padStart(9);

async function main() {
  const dataDir = process.env.MONGODB_URI ? undefined : tempDataDir('mnemo-bench-');
  const db = dataDir ? await startLocalDb({ dataDir, log: (m) => console.log(`[local-db] ${m}`) }) : undefined;
  const core = createCore({ mongoUri: process.env.MONGODB_URI ?? db!.uri, dbName: `mnemo_bench_${randomUUID().slice(0, 8)}` });
  try {
    await core.init();
    console.log(`database: ${db ? db.backend : process.env.MONGODB_URI}\n`);
    const rows: string[] = [];
    let stored = 0;
    for (const size of SIZES) {
      const sessionId = `bench-${size}`;
      const loadStarted = performance.now();
      const start = Date.UTC(2024, 0, 1);
      for (let i = 0; i < size; i += BATCH) {
        const messages = Array.from({ length: Math.min(BATCH, size - i) }, (_, j) => ({
          role: (i + j) % 2 ? 'assistant' : 'user',
          content: messageText(i + j),
          metadata: { bucket: (i + j) % 7 },
          tokenCount: 20,
          createdAt: new Date(start + (i + j) * 60_000),
        }));
        await core.memory.add({ sessionId, messages });
      }
      stored += size;
      const loadSeconds = (performance.now() - loadStarted) / 1000;
      console.log(
        `session of ${size} messages loaded in ${loadSeconds.toFixed(1)} s (${Math.round(size / loadSeconds)} msg/s; ${stored} messages in the collection)`,
      );
      for (const { name, input } of QUERIES) {
        let hits = 0;
        const { p50, p95, runs } = await timeIt(async () => (hits = (await core.memory.search({ sessionId, ...input })).length));
        rows.push(`${String(size).padStart(7)} | ${name.padEnd(27)} | ${ms(p50)} | ${ms(p95)} | ${String(hits).padStart(4)} | ${runs}`);
        console.log(rows.at(-1));
      }
      const get = await timeIt(() => core.memory.get({ sessionId }));
      rows.push(
        `${String(size).padStart(7)} | ${'(memory.get, for scale)'.padEnd(27)} | ${ms(get.p50)} | ${ms(get.p95)} |   12 | ${get.runs}`,
      );
      console.log(`${rows.at(-1)}\n`);
    }
    console.log('\nmessages | query                       |       p50 |       p95 | hits | runs');
    console.log(rows.join('\n'));
  } finally {
    await core.db.dropDatabase().catch(() => {});
    await core.close();
    await db?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
