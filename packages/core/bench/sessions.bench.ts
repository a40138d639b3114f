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

export async function benchSessions(core: Core, { sessions = 100_000, heavy = 10_000, runs = 30 } = {}): Promise<void> {
  const started = performance.now();
  await core.users.add({ userId: HEAVY });
  const others = Array.from({ length: 100 }, (_, i) => `user-${i}`);
  for (const userId of others) await core.users.add({ userId });
  const ids = Array.from({ length: sessions }, (_, i) => i);
  await inParallel(ids, 8, (i) =>
    core.sessions.add({
      sessionId: `s-${i}`,
      // The heavy user's sessions are spread through the whole list.
      userId: i % Math.round(sessions / heavy) === 0 ? HEAVY : others[i % others.length]!,
      metadata: { topic: ['tea', 'work', 'travel', 'books', 'code'][i % 5]!, n: i },
    }),
  );
  await inParallel(
    ids.filter((i) => i % 5 === 1 || i % Math.round(sessions / heavy) === 0),
    8,
    (i) => core.memory.add({ sessionId: `s-${i}`, messages: [{ role: 'user', content: `message for session ${i}` }] }),
  );
  const heavyCount = (await core.sessions.list({ userId: HEAVY, limit: 1, withTotal: true })).total!;
  console.log(
    `made ${count(sessions)} sessions (${count(heavyCount)} of one user) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
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
  for (let run = -3; run < runs; run++) {
    // Cases in turns, so that noise spreads evenly; three warm-up rounds.
    for (const [i, [, input]] of cases.entries()) {
      const t = performance.now();
      await core.sessions.list({ limit: 50, ...input });
      if (run >= 0) times[i]!.push(performance.now() - t);
    }
  }
  const rows = [['session.list, a page of 50', 'p50 ms', 'p95 ms']];
  for (const [i, [name]] of cases.entries()) {
    const sorted = times[i]!.sort((a, b) => a - b);
    rows.push([name, ms(percentile(sorted, 50)), ms(percentile(sorted, 95))]);
  }
  console.log(`${count(sessions)} sessions, ${count(heavyCount)} of them one user's; ${runs} timed runs per case\n\n${table(rows)}\n`);
}

async function main() {
  const { values } = parseArgs({ options: { sessions: { type: 'string' }, heavy: { type: 'string' }, runs: { type: 'string' } } });
  console.log(`${machine()}\n`);
  await withBenchCore('sessions', (core) =>
    benchSessions(core, {
      sessions: values.sessions ? Number(values.sessions) : undefined,
      heavy: values.heavy ? Number(values.heavy) : undefined,
      runs: values.runs ? Number(values.runs) : undefined,
    }),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
