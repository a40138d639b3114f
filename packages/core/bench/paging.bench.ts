/**
 * Paging one long session (a benchmark, not a test): a page of 50 messages, newest first
 * (`order: 'desc'`, as a chat opening at its end) and oldest first, at depth 0 (no cursor)
 * and 10,000 messages in (a cursor 10k messages before the end, or after the start), in one
 * session of 100,000 messages. Prints p50 and p95 of each over `--runs` runs.
 *
 *   pnpm bench                                          # runs this after scale.bench.ts, on its database
 *   pnpm --filter @mnemo/core bench:paging              # this alone, on a fresh local database
 *   pnpm --filter @mnemo/core bench:paging --messages 200k --depth 50k --runs 100
 *
 * The session is filled through core's production path, `memory.add`, in batches of 1,000 messages
 * (short deterministic sentences). The cursors are the ones the API hands out: from walking pages of
 * 100 from the end (backward) or the start (forward) until `depth` messages are behind. The four
 * cases are measured in turns (one run of each, then again), after 5 warm-up rounds, so that a noisy
 * machine's slow moments fall on all of them alike. Each timed page is checked: 50 messages, the
 * expected `seq` first.
 *
 * Standalone it starts its own local database (mongod when on PATH, else FerretDB) in a temporary
 * directory, or uses MONGODB_URI when set (a database mnemo_bench_paging_<random>, dropped afterwards).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Core, NewMessage } from '../src/index';
import { count, machine, ms, percentile, table, withBenchCore } from './bench-core';

export interface PagingOptions {
  /** Messages in the session (default 100,000). */
  messages?: number;
  /** How far in the deep pages start (default 10,000). */
  depth?: number;
  /** Timed runs per case (default 50). */
  runs?: number;
  /** Session id (default `long-<random>`). */
  sessionId?: string;
}

const BATCH = 1000; // messages per memory.add (AddMemoryInput's maximum)
const PAGE = 50;
const WALK_PAGE = 100; // pages read to reach the depth (ListMessagesInput's maximum)
const WARMUP = 5;

const WORDS = (
  'the a to and of in is it for with my your we you this that can about please also just need want think know ' +
  'remember check send call book change cancel help find flight hotel ticket invoice refund recipe dinner workout ' +
  'server database error deploy garden seed guitar song budget loan doctor movie today tomorrow week idea answer'
).split(' ');

/** A deterministic 10–30-word sentence for message `n`. */
function sentence(n: number): string {
  let seed = n + 1;
  const next = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), seed >>> 8);
  const length = 10 + (next() % 21);
  const words = Array.from({ length }, () => WORDS[next() % WORDS.length]!);
  return `${words.join(' ')}.`;
}

/** Fills a new session with `messages` messages through memory.add, BATCH at a time; returns seconds taken. */
async function fill(core: Core, sessionId: string, messages: number): Promise<number> {
  await core.sessions.add({ sessionId, metadata: { purpose: 'paging bench' } });
  const started = performance.now();
  for (let from = 0; from < messages; from += BATCH) {
    const batch: NewMessage[] = Array.from({ length: Math.min(BATCH, messages - from) }, (_, i) => ({
      role: (from + i) % 2 ? 'assistant' : 'user',
      content: sentence(from + i),
      metadata: { turn: from + i },
    }));
    await core.memory.add({ sessionId, messages: batch });
  }
  return (performance.now() - started) / 1000;
}

/** The cursor after `depth` messages, walking from the end (backward) or the start (forward) as a client would. */
async function cursorAt(core: Core, sessionId: string, order: 'asc' | 'desc', depth: number): Promise<string | null> {
  let cursor: string | null = null;
  for (let seen = 0; seen < depth; ) {
    const page = await core.memory.list({ sessionId, order, limit: Math.min(WALK_PAGE, depth - seen), cursor });
    seen += page.items.length;
    if (page.nextCursor === null) throw new Error(`${sessionId} ends after ${seen} messages, before depth ${depth} (${order})`);
    cursor = page.nextCursor;
  }
  return cursor;
}

/**
 * Builds the long session in `core`'s database and measures the four pages; prints and returns the
 * result table (markdown).
 */
export async function benchPaging(core: Core, options: PagingOptions = {}): Promise<string> {
  const { messages = 100_000, depth = 10_000, runs = 50, sessionId = `long-${randomUUID().slice(0, 8)}` } = options;
  if (depth + PAGE > messages) throw new Error(`depth ${depth} leaves no page of ${PAGE} in ${messages} messages`);

  const seconds = await fill(core, sessionId, messages);
  console.log(
    `loaded one session of ${count(messages)} messages in ${seconds.toFixed(1)} s (${count(Math.round(messages / seconds))} messages/s, batches of ${BATCH})`,
  );
  const { total } = await core.memory.list({ sessionId, limit: 1 });
  if (total !== messages) throw new Error(`${sessionId} holds ${total} messages, not ${messages}`);
  // seq runs 1…messages (a fresh session). Each case: its first timed page starts at firstSeq.
  const cases = [
    { name: `newest first (order 'desc'), depth 0`, order: 'desc' as const, cursor: null, firstSeq: messages },
    {
      name: `newest first, ${count(depth)} back`,
      order: 'desc' as const,
      cursor: await cursorAt(core, sessionId, 'desc', depth),
      firstSeq: messages - depth,
    },
    { name: `oldest first (order 'asc'), depth 0`, order: 'asc' as const, cursor: null, firstSeq: 1 },
    {
      name: `oldest first, ${count(depth)} in`,
      order: 'asc' as const,
      cursor: await cursorAt(core, sessionId, 'asc', depth),
      firstSeq: depth + 1,
    },
  ].map((c) => ({ ...c, times: [] as number[] }));

  for (let r = 0; r < WARMUP + runs; r++) {
    for (const c of cases) {
      const started = performance.now();
      const page = await core.memory.list({ sessionId, order: c.order, limit: PAGE, cursor: c.cursor });
      const elapsed = performance.now() - started;
      if (page.items.length !== PAGE || page.items[0]!.seq !== c.firstSeq || page.nextCursor === null) {
        throw new Error(`${c.name}: got ${page.items.length} messages from seq ${page.items[0]?.seq}, expected ${PAGE} from ${c.firstSeq}`);
      }
      if (r >= WARMUP) c.times.push(elapsed);
    }
  }

  const rows = [['memory.list, a page of 50', 'p50 ms', 'p95 ms', 'max ms']];
  for (const { name, times } of cases) {
    times.sort((a, b) => a - b);
    rows.push([name, ms(percentile(times, 50)), ms(percentile(times, 95)), ms(times.at(-1)!)]);
  }
  const result = table(rows);
  console.log(
    `\none session of ${count(messages)} messages, ${runs} timed runs per case after ${WARMUP} warm-up rounds, cases in turns\n\n${result}\n`,
  );
  return result;
}

// ---- standalone ------------------------------------------------------------------------------
function parseArgs(argv: string[]): Required<Omit<PagingOptions, 'sessionId'>> {
  const options = { messages: 100_000, depth: 10_000, runs: 50 };
  const number = (arg: string | undefined) => {
    const m = /^(\d+)(k|m)?$/i.exec(arg ?? '');
    if (!m) fail(`not a number: ${JSON.stringify(arg)}`);
    return Number(m[1]) * ({ k: 1e3, m: 1e6 }[m[2]?.toLowerCase() ?? ''] ?? 1);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') continue;
    else if (arg === '--messages') options.messages = number(argv[++i]);
    else if (arg === '--depth') options.depth = number(argv[++i]);
    else if (arg === '--runs') options.runs = number(argv[++i]);
    else fail(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (options.runs < 1) fail('--runs needs a whole number ≥ 1');
  return options;
}

function fail(message: string): never {
  console.error(`${message}\nusage: bench:paging [--messages 100k] [--depth 10k] [--runs 50]`);
  process.exit(2);
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  console.log(`${machine()}\n`);
  await withBenchCore('paging', async (core, db) => {
    console.log(`database: ${db ? `${db.backend} (${db.uri})` : 'MONGODB_URI'}\n`);
    await benchPaging(core, options);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
