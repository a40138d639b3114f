/**
 * What OpenAI's Conversations API costs over the Zep API for the same work (a benchmark, not a test):
 *
 *   pnpm bench:openai                          # 1,000 items, 5 rounds of 100 calls per case
 *   pnpm bench:openai -- --items 2000 --rounds 5 --calls 200
 *
 * On Mnemo served from this process (withBenchServer) on a fresh local database: one conversation of
 * `items` messages, created through /v1. Then, in alternating rounds (so the machine's load falls on
 * every case alike), one call at a time over HTTP with fetch (no SDK): a page of 20 items through /v1
 * (newest first; and `after` an item, which first reads that item), the same page through Zep's
 * `/api/v1/sessions/{id}/messages`, and appending one message through each. It prints the mean of each
 * case and its ratio to Zep's: /v1 makes two or three procedure calls where Zep's routes make one.
 */
import { count, countOptions, machine, ms, table } from '@mnemo/core/bench';
import { withBenchServer } from './bench-server';

const { items, rounds, calls } = countOptions(
  process.argv.slice(2),
  { items: 1000, rounds: 5, calls: 100 },
  'usage: pnpm bench:openai -- [--items N] [--rounds N] [--calls N]',
);

async function call(method: string, url: string, body?: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  const text = await response.text();
  return text === 'OK' ? text : JSON.parse(text); // Zep answers an append with the text OK
}

await withBenchServer(
  'openai',
  async ({ url }) => {
    console.log(machine());
    const { id } = (await call('POST', `${url}/v1/conversations`, {})) as { id: string };
    for (let i = 0; i < items; i += 20) {
      const batch = Array.from({ length: Math.min(20, items - i) }, (_, j) => ({ role: 'user', content: `message ${i + j}` }));
      await call('POST', `${url}/v1/conversations/${id}/items`, { items: batch });
    }
    const { data } = (await call('GET', `${url}/v1/conversations/${id}/items?order=asc&limit=1`)) as { data: { id: string }[] };
    const middle = data[0]!.id;
    let appended = 0;
    const cases: [string, () => Promise<unknown>][] = [
      ['Zep: a page of 20 messages', () => call('GET', `${url}/api/v1/sessions/${id}/messages?limit=20`)],
      ['/v1: a page of 20 items', () => call('GET', `${url}/v1/conversations/${id}/items?limit=20`)],
      [
        '/v1: a page of 20 items after an item',
        () => call('GET', `${url}/v1/conversations/${id}/items?limit=20&order=asc&after=${middle}`),
      ],
      [
        'Zep: append one message',
        () => call('POST', `${url}/api/v1/sessions/${id}/memory`, { messages: [{ role: 'user', content: `z ${appended++}` }] }),
      ],
      [
        '/v1: append one item',
        () => call('POST', `${url}/v1/conversations/${id}/items`, { items: [{ role: 'user', content: `o ${appended++}` }] }),
      ],
    ];
    const totals = new Map<string, number>(cases.map(([name]) => [name, 0]));
    for (const [, run] of cases) for (let i = 0; i < 10; i++) await run(); // warm up
    for (let round = 0; round < rounds; round++) {
      for (const [name, run] of cases) {
        const started = performance.now();
        for (let i = 0; i < calls; i++) await run();
        totals.set(name, totals.get(name)! + performance.now() - started);
      }
    }
    const mean = (name: string) => totals.get(name)! / (rounds * calls);
    const base = (name: string) => (name.includes('append') ? mean('Zep: append one message') : mean('Zep: a page of 20 messages'));
    console.log(`one conversation of ${count(items)} items; ${rounds} rounds × ${calls} calls per case, one at a time\n`);
    console.log(
      table([['case', 'mean ms', 'vs Zep'], ...cases.map(([name]) => [name, ms(mean(name)), `${(mean(name) / base(name)).toFixed(2)}×`])]),
    );
  },
  { durable: false },
);
