import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Core, ListSessionsInput } from '../src/index';
import { count, machine, ms, percentile, table, withBenchCore } from './bench-core';

const HEAVY = 'heavy-user';

/** Runs `task` over `items` with `width` in flight. */
async function inParallel<T>(items: T[], width: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

export interface SessionsResult {
  /** Sessions created per second (`sessions.add`, 8 at a time). */
  createdPerSecond: number;
  /** p50 and p95 of each case, in ms. */
  cases: Map<string, { p50: number; p95: number }>;
}

export async function benchSessions(core: Core, { sessions = 100_000, heavy = 10_000, runs = 30 } = {}): Promise<SessionsResult> {
  await core.users.add({ userId: HEAVY });
  const others = Array.from({ length: 100 }, (_, i) => `user-${i}`);
  for (const userId of others) await core.users.add({ userId });
  const ids = Array.from({ length: sessions }, (_, i) => i);
  const started = performance.now();
  await inParallel(ids, 8, (i) =>
    core.sessions.add({
      sessionId: `s-${i}`,
      // The heavy user's sessions are spread through the whole list.
      userId: i % Math.round(sessions / heavy) === 0 ? HEAVY : others[i % others.length]!,
      metadata: { topic: ['tea', 'work', 'travel', 'books', 'code'][i % 5]!, n: i },
    }),
  );
  const createdPerSecond = sessions / ((performance.now() - started) / 1000);
  const active = ids.filter((i) => i % 5 === 1 || i % Math.round(sessions / heavy) === 0);
  const messagesStarted = performance.now();
  await inParallel(active, 8, (i) =>
    core.memory.add({ sessionId: `s-${i}`, messages: [{ role: 'user', content: `message for session ${i}` }] }),
  );
  const heavyCount = (await core.sessions.list({ userId: HEAVY, limit: 1, withTotal: true })).total!;
  console.log(
    `made ${count(sessions)} sessions (${count(heavyCount)} of one user): ${count(Math.round(createdPerSecond))} a second; ` +
      `then a message in ${count(active.length)} of them, ${count(Math.round(active.length / ((performance.now() - messagesStarted) / 1000)))} a second`,
  );

  const deep = async (input: ListSessionsInput) => {
    // A cursor about half-way down the list, found by paging (not timed).
    let cursor: string | null = null;
    for (let i = 0; i < 3; i++) cursor = (await core.sessions.list({ ...input, limit: 100, cursor })).nextCursor;
    return cursor;
  };
  const cases: [string, ListSessionsInput][] = [
    ['all sessions, by creation (first page)', {}],
    ['all sessions, by creation, newest first', { order: 'desc' }],
    ['all sessions, by activity (first page)', { sort: 'activity' }],
    ['all sessions, metadata filter + total', { metadata: { 'metadata.topic': 'tea' }, withTotal: true }],
    ['heavy user, by creation (first page)', { userId: HEAVY }],
    ['heavy user, by creation, 300 in', { userId: HEAVY, cursor: await deep({ userId: HEAVY }) }],
    ['heavy user, by activity + previews', { userId: HEAVY, sort: 'activity', withLastMessage: true }],
    ['heavy user, by activity, 300 in', { userId: HEAVY, sort: 'activity', cursor: await deep({ userId: HEAVY, sort: 'activity' }) }],
    ['heavy user, metadata filter + total', { userId: HEAVY, metadata: { 'metadata.topic': 'tea' }, withTotal: true }],
  ];
  const times = cases.map(() => [] as number[]);
  // A sample is the mean of REPEAT calls: a list answered from memory takes microseconds, below what one timing resolves.
  const REPEAT = 10;
  for (let run = -3; run < runs; run++) {
    // Cases in turns, so that noise spreads evenly; three warm-up rounds.
    for (const [i, [, input]] of cases.entries()) {
      const t = performance.now();
      for (let k = 0; k < REPEAT; k++) await core.sessions.list({ limit: 50, ...input });
      if (run >= 0) times[i]!.push((performance.now() - t) / REPEAT);
    }
  }
  const result = new Map<string, { p50: number; p95: number }>();
  for (const [i, [name]] of cases.entries()) {
    const sorted = times[i]!.sort((a, b) => a - b);
    result.set(name, { p50: percentile(sorted, 50), p95: percentile(sorted, 95) });
  }
  return { createdPerSecond, cases: result };
}

/** Prints one size's results. */
export function printSessions({ createdPerSecond, cases }: SessionsResult, sessions: number, runs: number): void {
  const rows = [['session.list, a page of 50', 'p50 ms', 'p95 ms']];
  for (const [name, { p50, p95 }] of cases) rows.push([name, ms(p50), ms(p95)]);
  console.log(
    `${count(sessions)} sessions (created ${count(Math.round(createdPerSecond))} a second); ${runs} timed samples per case, each the mean of 10 calls\n\n${table(rows)}\n`,
  );
}

async function main() {
  const { values } = parseArgs({ options: { sessions: { type: 'string' }, heavy: { type: 'string' }, runs: { type: 'string' } } });
  console.log(`${machine()}\n`);
  const runs = values.runs ? Number(values.runs) : 30;
  // By default 10,000 and 100,000 sessions (a tenth of them one user's), each in a database of its own, and the ratio.
  const sizes = values.sessions ? [Number(values.sessions)] : [10_000, 100_000];
  const results: SessionsResult[] = [];
  for (const sessions of sizes) {
    const heavy = values.heavy ? Number(values.heavy) : sessions / 10;
    await withBenchCore('sessions', async (core) => {
      const result = await benchSessions(core, { sessions, heavy, runs });
      printSessions(result, sessions, runs);
      results.push(result);
    });
  }
  if (results.length === 2) {
    const [small, large] = results as [SessionsResult, SessionsResult];
    const rows = [['session.list, a page of 50', `p50 ms at ${count(sizes[0]!)}`, `p50 ms at ${count(sizes[1]!)}`, 'ratio']];
    for (const [name, { p50 }] of large.cases) {
      const before = small.cases.get(name)!.p50;
      rows.push([name, ms(before), ms(p50), `${(p50 / before).toFixed(2)}×`]);
    }
    rows.push([
      'sessions created a second',
      count(Math.round(small.createdPerSecond)),
      count(Math.round(large.createdPerSecond)),
      `${(large.createdPerSecond / small.createdPerSecond).toFixed(2)}×`,
    ]);
    console.log(`${table(rows)}\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
