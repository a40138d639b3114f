import type { LocalDb } from '@mnemo/local-db';
import type { Core, NewMessage } from '../src/index';
import { count, machine, ms, percentile, table, withBenchCore } from './bench-core';
import { benchPaging } from './paging.bench';
import { benchSessions, printSessions } from './sessions.bench';
import { benchTransfer } from './transfer.bench';
import { benchTree } from './tree.bench';

const USAGE =
  'usage: bench:scale [SIZE ...] [--1m] [--runs K] [--no-paging] [--no-transfer] [--no-sessions] [--no-tree]   (sizes in messages, e.g. 10000 or 10k; default 10k 100k)';
const SESSION_SIZE = 100; // messages per session
const SESSIONS_PER_USER = 100;
const LOAD_CONCURRENCY = 4; // sessions loaded at once
const WRITE_SESSIONS = 20; // kept for the "add 2 messages" operation
const WARMUP = 5;

// ---- arguments -------------------------------------------------------------------------------
function parseArgs(argv: string[]): {
  sizes: number[];
  runs: number;
  paging: boolean;
  transfer: boolean;
  sessions: boolean;
  tree: boolean;
} {
  const sizes: number[] = [];
  let runs = 50;
  let oneMillion = false;
  let paging = true;
  let transfer = true;
  let sessions = true;
  let tree = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const size = /^(\d+)(k|m)?$/i.exec(arg);
    if (arg === '--')
      continue; // `pnpm bench -- --1m` may pass the separator along
    else if (arg === '--1m') oneMillion = true;
    else if (arg === '--no-paging') paging = false;
    else if (arg === '--no-transfer') transfer = false;
    else if (arg === '--no-sessions') sessions = false;
    else if (arg === '--no-tree') tree = false;
    else if (arg === '--runs' || arg.startsWith('--runs=')) runs = Number(arg === '--runs' ? argv[++i] : arg.slice(7));
    else if (size) sizes.push(Number(size[1]) * ({ k: 1e3, m: 1e6 }[size[2]?.toLowerCase() ?? ''] ?? 1));
    else fail(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (!Number.isInteger(runs) || runs < 1) fail('--runs needs a whole number ≥ 1');
  if (sizes.length === 0) sizes.push(10_000, 100_000);
  if (oneMillion) sizes.push(1_000_000);
  if (sizes.some((n) => n < SESSION_SIZE)) fail(`sizes must be at least ${SESSION_SIZE}`);
  // Whole sessions only: round up to a multiple of SESSION_SIZE.
  const whole = sizes.map((n) => Math.ceil(n / SESSION_SIZE) * SESSION_SIZE);
  return { sizes: [...new Set(whole)].sort((a, b) => a - b), runs, paging, transfer, sessions, tree };
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

// ---- deterministic data ----------------------------------------------------------------------
/** mulberry32: a small seeded PRNG returning numbers in [0, 1). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const words = (text: string) => text.trim().split(/\s+/);
const TOPIC_WORDS = {
  travel: words(
    'flight hotel airport ticket passport luggage train station beach mountain city museum map tour booking visa trip journey island river',
  ),
  billing: words(
    'invoice payment refund account charge card balance subscription plan price discount receipt bank transfer fee order delivery package shipping address',
  ),
  cooking: words(
    'recipe dinner lunch breakfast oven pasta sauce garlic onion tomato cheese bread soup salad chicken rice spice kitchen bake flavor',
  ),
  fitness: words(
    'workout running gym muscle stretch yoga cardio weights training coach marathon bike swim sleep energy protein routine knee shoulder pace',
  ),
  software: words(
    'server database query error deploy release bug feature login password browser update install config cache network request response version backup',
  ),
  garden: words('garden seed soil plant flower tree leaf water sunlight compost rose tulip harvest fence lawn pot root grow bloom season'),
  music: words(
    'guitar piano song album concert band melody rhythm drum lyrics singer playlist vinyl chord studio record stage note tune volume',
  ),
  money: words(
    'budget savings loan mortgage interest stock market pension tax income expense credit debt investment fund dividend salary rent insurance risk',
  ),
  health: words(
    'doctor appointment medicine fever headache allergy vitamin clinic nurse symptom therapy diet blood pressure pain dentist prescription recovery rest checkup',
  ),
  movies: words(
    'movie film actor director scene trailer cinema series episode drama comedy thriller ending plot character screen review popcorn sequel subtitle',
  ),
};
type Topic = keyof typeof TOPIC_WORDS;
const TOPICS = Object.keys(TOPIC_WORDS) as Topic[];
const COMMON_WORDS = words(`
  need want think know remember forget check send call book change cancel help find try start finish like love prefer
  quick late early cheap expensive new old small large great simple strange quiet busy happy tired ready free important
  next last today tomorrow yesterday morning evening weekend week month year monday friday hour minute problem question
  idea answer reason friend family team office home phone email message list note time place way thing people`);
const FUNCTION_WORDS = words('the a to and of in is it for with on my your we you I this that can about maybe please also just');

/** A sentence of 10–30 words about `topic`; `contentWords` receives its non-function words (search terms). */
function sentence(random: () => number, topic: Topic, contentWords: string[]): string {
  const out: string[] = [];
  const length = 10 + Math.floor(random() * 21);
  for (let i = 0; i < length; i++) {
    const r = random();
    const word = pick(random, r < 0.3 ? FUNCTION_WORDS : r < 0.7 ? TOPIC_WORDS[topic] : COMMON_WORDS);
    if (r >= 0.3) contentWords.push(word);
    out.push(word);
  }
  const text = out.join(' ');
  return `${text[0]!.toUpperCase()}${text.slice(1)}${random() < 0.2 ? '?' : '.'}`;
}

const sessionId = (s: number) => `s-${String(s).padStart(6, '0')}`;
const userId = (u: number) => `u-${String(u).padStart(5, '0')}`;
const writeSessionId = (w: number) => `w-${String(w).padStart(3, '0')}`;
const WRITE_USER = 'u-writes';
const sessionTopic = (s: number) => TOPICS[s % TOPICS.length]!;

/** One message per session, remembered at load time: its uuid and a word of its text. */
interface Sample {
  uuid: string;
  word: string;
}

// ---- loading ---------------------------------------------------------------------------------
/** Creates session `s` (and its messages) through core; returns its sample message. */
async function loadSession(core: Core, s: number): Promise<Sample> {
  const random = prng(s + 1); // per session, so the data does not depend on load order
  const topic = sessionTopic(s);
  await core.sessions.add({
    sessionId: sessionId(s),
    userId: userId(Math.floor(s / SESSIONS_PER_USER)),
    metadata: { channel: pick(random, ['web', 'mobile', 'api']), topic },
  });
  const contentWords: string[][] = [];
  const messages: NewMessage[] = Array.from({ length: SESSION_SIZE }, (_, turn) => {
    const terms: string[] = [];
    const content = sentence(random, random() < 0.8 ? topic : pick(random, TOPICS), terms);
    contentWords.push(terms);
    return { role: turn % 2 ? 'assistant' : 'user', content, metadata: { topic, turn } };
  });
  const { messages: stored } = await core.memory.add({ sessionId: sessionId(s), messages });
  const i = Math.floor(random() * SESSION_SIZE);
  return { uuid: stored[i]!.uuid, word: pick(random, contentWords[i]!) };
}

/** Loads sessions [from, to), creating their users first. */
async function loadSessions(core: Core, from: number, to: number, samples: Sample[]): Promise<void> {
  for (let u = Math.ceil(from / SESSIONS_PER_USER); u * SESSIONS_PER_USER < to; u++) {
    await core.users.add({ userId: userId(u), firstName: `Bench ${u}`, metadata: { plan: pick(prng(u), ['free', 'pro', 'team']) } });
  }
  let next = from;
  const worker = async () => {
    while (next < to) {
      const s = next++;
      samples[s] = await loadSession(core, s);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOAD_CONCURRENCY, to - from) }, worker));
}

// ---- measuring -------------------------------------------------------------------------------
interface Operation {
  name: string;
  /** One call; `r` counts runs (warm-up included), for operations that alternate. */
  run: (r: number) => Promise<unknown>;
}

/** The operations timed on a store of `sessions` read sessions, choosing with `random`. */
function operations(core: Core, sessions: number, samples: Sample[], sessionCursors: string[], random: () => number): Operation[] {
  const anySession = () => Math.floor(random() * sessions);
  const anyUser = () => userId(Math.floor(random() * Math.ceil(sessions / SESSIONS_PER_USER)));
  let page2 = { sessionId: '', cursor: null as string | null };
  return [
    { name: 'memory.get (last 12)', run: () => core.memory.get({ sessionId: sessionId(anySession()), lastn: 12 }) },
    {
      // What a read costs once its buckets are not in a single writer's memory (a store larger than its cache).
      name: 'memory.get (last 12), from the database',
      run: () => {
        const id = sessionId(anySession());
        core.store.buckets.invalidate(id);
        return core.memory.get({ sessionId: id, lastn: 12 });
      },
    },
    {
      name: 'memory.list 50 (page 1 / page 2)',
      run: async (r) => {
        if (r % 2 === 1) return core.memory.list({ sessionId: page2.sessionId, limit: 50, cursor: page2.cursor });
        const id = sessionId(anySession());
        const page = await core.memory.list({ sessionId: id, limit: 50 });
        page2 = { sessionId: id, cursor: page.nextCursor };
        return page;
      },
    },
    {
      name: 'memory.message (by uuid)',
      run: () => {
        const s = anySession();
        return core.memory.message({ sessionId: sessionId(s), uuid: samples[s]!.uuid });
      },
    },
    {
      name: 'memory.updateMessage (metadata)',
      run: (r) => {
        const s = anySession();
        return core.memory.updateMessage({ sessionId: sessionId(s), uuid: samples[s]!.uuid, metadata: { rating: r % 5 } });
      },
    },
    { name: 'sessions.get', run: () => core.sessions.get({ sessionId: sessionId(anySession()) }) },
    {
      name: 'sessions.update (metadata)',
      run: (r) => core.sessions.update({ sessionId: sessionId(anySession()), metadata: { bench: { k: r } } }),
    },
    {
      name: 'memory.add (2 messages)',
      run: (r) => {
        const topic = pick(random, TOPICS);
        return core.memory.add({
          sessionId: writeSessionId(Math.floor(random() * WRITE_SESSIONS)),
          messages: [
            { role: 'user', content: sentence(random, topic, []), metadata: { topic, turn: r } },
            { role: 'assistant', content: sentence(random, topic, []), metadata: { topic, turn: r } },
          ],
        });
      },
    },
    { name: 'users.sessions (20)', run: () => core.users.sessions({ userId: anyUser(), limit: 20 }) },
    {
      name: 'sessions.list 20 (first / random page)',
      run: (r) => core.sessions.list({ limit: 20, cursor: r % 2 === 1 ? pick(random, sessionCursors) : null }),
    },
    {
      name: 'memory.search (one word, 10)',
      run: async () => {
        const s = anySession();
        const results = await core.memory.search({ sessionId: sessionId(s), text: samples[s]!.word, limit: 10 });
        if (results.length === 0) throw new Error(`search for ${JSON.stringify(samples[s]!.word)} in ${sessionId(s)} found nothing`);
        return results;
      },
    },
  ];
}

async function measure({ run }: Operation, runs: number): Promise<{ p50: number; p99: number }> {
  for (let r = 0; r < WARMUP; r++) await run(r);
  const times: number[] = [];
  for (let r = WARMUP; r < WARMUP + runs; r++) {
    const started = performance.now();
    await run(r);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** Cursors spread over the whole session list (one every 100 sessions), for random pages. */
async function collectSessionCursors(core: Core): Promise<string[]> {
  const cursors: string[] = [];
  for (let cursor: string | null = null; ; ) {
    cursor = (await core.sessions.list({ limit: 100, cursor })).nextCursor;
    if (cursor === null) return cursors;
    cursors.push(cursor);
  }
}

// ---- output ----------------------------------------------------------------------------------
const label = (n: number) => (n % 1e6 === 0 ? `${n / 1e6}M` : n % 1e3 === 0 ? `${n / 1e3}k` : String(n));

async function describeDatabase(core: Core, db: LocalDb | undefined): Promise<string> {
  // Any descriptive property of the LocalDb (backend, uri and whatever else it may tell), not just the typed ones.
  const props = db
    ? Object.entries(db)
        .filter(([, value]) => typeof value !== 'function')
        .map(([key, value]) => `${key}: ${String(value)}`)
        .join(', ')
    : 'MONGODB_URI';
  const info = await core.db.command({ buildInfo: 1 }).catch(() => undefined);
  const server = info ? `; server reports version ${info.version}${info.ferretdbVersion ? `, FerretDB ${info.ferretdbVersion}` : ''}` : '';
  return `${props}${server}`;
}

// ---- main ------------------------------------------------------------------------------------
async function main() {
  const { sizes, runs, paging, transfer, sessions, tree } = parseArgs(process.argv.slice(2));
  console.log(machine());
  console.log(`sizes: ${sizes.map(count).join(', ')} messages; ${runs} timed runs per operation after ${WARMUP} warm-up runs\n`);

  await withBenchCore('scale', async (core, db) => {
    console.log(`database: ${await describeDatabase(core, db)}\n`);

    await core.users.add({ userId: WRITE_USER });
    for (let w = 0; w < WRITE_SESSIONS; w++)
      await core.sessions.add({ sessionId: writeSessionId(w), userId: WRITE_USER, metadata: { purpose: 'writes' } });

    const samples: Sample[] = [];
    const random = prng(42); // choices of the measured runs
    const results = new Map<number, Map<string, { p50: number; p99: number }>>();
    const loads: string[][] = [['load phase', 'sessions', 'seconds', 'messages/s']];
    let loaded = 0; // read sessions
    for (const size of sizes) {
      const target = size / SESSION_SIZE;
      const started = performance.now();
      await loadSessions(core, loaded, target, samples);
      const seconds = (performance.now() - started) / 1000;
      const added = (target - loaded) * SESSION_SIZE;
      loads.push([
        `${count(loaded * SESSION_SIZE)} → ${count(size)}`,
        count(target - loaded),
        seconds.toFixed(1),
        count(Math.round(added / seconds)),
      ]);
      console.log(
        `loaded ${count(loaded * SESSION_SIZE)} → ${count(size)} messages in ${seconds.toFixed(1)} s (${count(Math.round(added / seconds))} messages/s)`,
      );
      loaded = target;

      const sessionCursors = await collectSessionCursors(core);
      const rows = [['operation', 'p50 ms', 'p99 ms']];
      const byOperation = new Map<string, { p50: number; p99: number }>();
      for (const operation of operations(core, loaded, samples, sessionCursors, random)) {
        const result = await measure(operation, runs);
        byOperation.set(operation.name, result);
        rows.push([operation.name, ms(result.p50), ms(result.p99)]);
      }
      results.set(size, byOperation);
      console.log(`\nN = ${count(size)} messages (${count(loaded)} sessions, ${count(Math.ceil(loaded / SESSIONS_PER_USER))} users)\n`);
      console.log(`${table(rows)}\n`);
    }

    const smallest = sizes[0]!;
    const largest = sizes.at(-1)!;
    const names = [...results.get(smallest)!.keys()];
    const summary = [
      ['operation', ...sizes.map((n) => `p50 ms @ ${label(n)}`), `p50(${label(largest)}) / p50(${label(smallest)})`],
      ...names.map((name) => {
        const p50 = (n: number) => results.get(n)!.get(name)!.p50;
        return [name, ...sizes.map((n) => ms(p50(n))), `${(p50(largest) / p50(smallest)).toFixed(2)}×`];
      }),
    ];
    console.log(`summary\n\n${table(summary)}\n\n${table(loads)}`);

    if (transfer) {
      console.log(`\nexport and import of the whole database at N = ${count(largest)} (transfer.bench.ts)\n`);
      await benchTransfer(core, { uri: process.env.MONGODB_URI ?? db!.uri });
    }

    if (paging) {
      console.log(`\npaging one long session (paging.bench.ts), in the same database\n`);
      await benchPaging(core, { runs });
    }

    if (tree) {
      console.log(
        `\nconversation trees (tree.bench.ts): 1,000 messages with 100 branch points against a linear session, in the same database\n`,
      );
      await benchTree(core, { runs });
    }
  });
  if (sessions) {
    console.log(`\nsession lists (sessions.bench.ts), in a database of their own\n`);
    await withBenchCore('sessions', async (core) =>
      printSessions(await benchSessions(core, { runs: Math.min(runs, 20) }), 100_000, Math.min(runs, 20)),
    );
  }
}

await main();
