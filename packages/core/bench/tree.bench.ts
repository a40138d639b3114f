/**
 * Conversation trees (src/tree.ts): a session of 1,000 messages with 100 branch points against a
 * linear one of 1,000 messages, in the same database, timed in alternation (each run times the linear
 * session's call, then the branched one's), so both see the same load: get memory (last 12), a page of
 * 50 in both orders, and an append; then `setHead` (switching between two branches).
 *
 *   pnpm --filter @mnemo/core bench:tree [--runs K]      (default 200; also part of `pnpm bench`, bench:scale)
 */
import { fileURLToPath } from 'node:url';
import type { Core } from '../src/index';
import { countOptions, machine, ms, percentile, table, withBenchCore } from './bench-core';

/** Reads from memory take microseconds: those show three decimals. */
const fine = (x: number) => (x < 0.1 ? x.toFixed(3) : ms(x));

const MESSAGES = 1000;
const BRANCHES = 100;
/** Runs before timing. */
const WARMUP = 5;
/**
 * Runs before timing reads answered from memory (microseconds each): thousands, so that both code paths are
 * compiled by the JIT, as in a server that has run for a while (a few hundred would time the branched path's
 * larger code half-compiled: 1.5–1.7× instead of ~1.0–1.3×).
 */
const WARMUP_MEMORY = 2000;

const text = (i: number) => `message ${i} about flights, hotels and the weather at the beach`;

/** A linear session of MESSAGES messages. */
async function buildLinear(core: Core, sessionId: string): Promise<void> {
  for (let i = 0; i < MESSAGES; i += 100) {
    await core.memory.add({
      sessionId,
      messages: Array.from({ length: 100 }, (_, j) => ({ role: (i + j) % 2 ? 'assistant' : 'user', content: text(i + j) })),
    });
  }
}

/**
 * MESSAGES messages with BRANCHES branch points: each round adds 9 messages on the active path, then
 * regenerates the last answer (a sibling under its question), which the next round continues.
 * Returns the first and last regenerated answers (what setHead switches between).
 */
async function buildBranched(core: Core, sessionId: string): Promise<{ early: string; late: string }> {
  const per = MESSAGES / BRANCHES - 1;
  const forks: string[] = [];
  for (let round = 0; round < BRANCHES; round++) {
    const { messages } = await core.memory.add({
      sessionId,
      messages: Array.from({ length: per }, (_, j) => ({ role: j % 2 ? 'user' : 'assistant', content: text(round * per + j) })),
    });
    const question = messages.at(-2)!.uuid;
    const { messages: regenerated } = await core.memory.add({
      sessionId,
      messages: [{ role: 'assistant', content: `regenerated answer ${round}` }],
      parentId: question,
    });
    forks.push(regenerated[0]!.uuid);
  }
  return { early: forks[1]!, late: forks.at(-2)! };
}

export async function benchTree(core: Core, { runs }: { runs: number }): Promise<void> {
  const linear = 'tree-bench-linear';
  const branched = 'tree-bench-branched';
  await buildLinear(core, linear);
  const { early, late } = await buildBranched(core, branched);
  const stored = (await core.store.sessions.get(branched))!;
  const total = (await core.memory.list({ sessionId: branched })).total;
  console.log(
    `linear: ${MESSAGES} messages; branched: ${stored.messageCount} messages, ${stored.lines?.length ?? 0} branch points, ${total} on the active path\n`,
  );

  const operations: { name: string; warmup?: number; run: (sessionId: string, r: number) => Promise<unknown> }[] = [
    { name: 'memory.get (last 12)', warmup: WARMUP_MEMORY, run: (sessionId) => core.memory.get({ sessionId, lastn: 12 }) },
    {
      name: 'memory.get (last 12), from the database',
      run: (sessionId) => {
        core.store.buckets.invalidate(sessionId);
        return core.memory.get({ sessionId, lastn: 12 });
      },
    },
    { name: 'message.list 50, oldest first', warmup: WARMUP_MEMORY, run: (sessionId) => core.memory.list({ sessionId, limit: 50 }) },
    {
      name: 'message.list 50, newest first',
      warmup: WARMUP_MEMORY,
      run: (sessionId) => core.memory.list({ sessionId, limit: 50, order: 'desc' }),
    },
    {
      name: 'memory.add (2 messages)',
      run: (sessionId, r) =>
        core.memory.add({
          sessionId,
          messages: [
            { role: 'user', content: text(r) },
            { role: 'assistant', content: text(r + 1) },
          ],
        }),
    },
  ];

  const rows = [['operation', 'linear p50 ms', 'branched p50 ms', 'branched / linear']];
  for (const { name, warmup = WARMUP, run } of operations) {
    const times: Record<string, number[]> = { [linear]: [], [branched]: [] };
    for (let r = 0; r < warmup + runs; r++) {
      for (const sessionId of [linear, branched]) {
        const started = performance.now();
        await run(sessionId, r);
        if (r >= warmup) times[sessionId]!.push(performance.now() - started);
      }
    }
    const [a, b] = [linear, branched].map((s) =>
      percentile(
        times[s]!.sort((x, y) => x - y),
        50,
      ),
    ) as [number, number];
    rows.push([name, fine(a), fine(b), `${(b / a).toFixed(2)}×`]);
  }

  const switches: number[] = [];
  for (let r = 0; r < WARMUP + runs; r++) {
    const started = performance.now();
    await core.memory.setHead({ sessionId: branched, uuid: r % 2 ? late : early });
    if (r >= WARMUP) switches.push(performance.now() - started);
  }
  switches.sort((x, y) => x - y);
  console.log(`${table(rows)}\n`);
  console.log(
    `${table([
      ['operation', 'p50 ms', 'p99 ms'],
      ['session.setHead (alternating between two branches)', ms(percentile(switches, 50)), ms(percentile(switches, 99))],
    ])}\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { runs } = countOptions(process.argv.slice(2), { runs: 200 }, 'usage: bench:tree [--runs K]');
  console.log(machine());
  await withBenchCore('tree', (core) => benchTree(core, { runs }));
}
