/**
 * `pnpm --filter @mnemo/server bench:mcp`: what MCP costs over the API it wraps. The same reads, on one
 * server in one run, through three doors: the typed tRPC client (`memory.search`, `memory.get`), MCP over
 * Streamable HTTP at /mcp (stateless: a server and a transport per request, JSON-RPC, text and structured
 * results), and `mnemo mcp` on stdio (a child process that calls the tRPC API). Rounds alternate the doors so
 * a busy machine slows them alike; the result is each door's median and its ratio to tRPC.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter } from '../src/router';
import { withBenchServer } from './bench-server';

const ROUNDS = 20;
const CALLS = 25;
const SESSIONS = 20;
const MESSAGES = 200;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

await withBenchServer('mcp', async ({ url, core }) => {
  const words = ['garden', 'tomato', 'invoice', 'refund', 'Lisbon', 'bees', 'piano', 'train', 'coffee', 'river'];
  for (let s = 0; s < SESSIONS; s++) {
    await core.memory.add({
      sessionId: `bench-${s}`,
      messages: Array.from({ length: MESSAGES }, (_, i) => ({
        role: i % 2 ? 'assistant' : 'user',
        content: `message ${i} about ${words[i % words.length]} and ${words[(i * 7 + s) % words.length]}`,
      })),
    });
  }
  const trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${url}/trpc`, transformer: superjson })] });
  const http = new Client({ name: 'bench', version: '1' });
  await http.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`)));
  const stdio = new Client({ name: 'bench', version: '1' });
  await stdio.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', 'src/bin.ts', 'mcp', '--url', url],
      cwd: new URL('..', import.meta.url).pathname,
      stderr: 'ignore',
    }),
  );

  const ops = {
    search: {
      trpc: (i: number) => trpc.memory.search.query({ sessionId: `bench-${i % SESSIONS}`, text: words[i % words.length]! }),
      mcp: (client: Client, i: number) =>
        client.callTool({ name: 'search_memory', arguments: { sessionId: `bench-${i % SESSIONS}`, text: words[i % words.length]! } }),
    },
    recent: {
      trpc: (i: number) => trpc.memory.get.query({ sessionId: `bench-${i % SESSIONS}`, lastn: 12 }),
      mcp: (client: Client, i: number) =>
        client.callTool({ name: 'get_recent_messages', arguments: { sessionId: `bench-${i % SESSIONS}`, lastn: 12 } }),
    },
  };
  const time = async (call: (i: number) => Promise<unknown>) => {
    const start = performance.now();
    for (let i = 0; i < CALLS; i++) await call(i);
    return (performance.now() - start) / CALLS;
  };

  console.log(`${SESSIONS} sessions × ${MESSAGES} messages; ${ROUNDS} rounds of ${CALLS} sequential calls per door, alternating`);
  for (const [name, op] of Object.entries(ops)) {
    const samples = { trpc: [] as number[], http: [] as number[], stdio: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      samples.trpc.push(await time(op.trpc));
      samples.http.push(await time((i) => op.mcp(http, i)));
      samples.stdio.push(await time((i) => op.mcp(stdio, i)));
    }
    const base = median(samples.trpc);
    const line = (door: keyof typeof samples) => `${median(samples[door]).toFixed(2)} ms (${(median(samples[door]) / base).toFixed(2)}×)`;
    console.log(`${name.padEnd(7)} per call, median of rounds: tRPC ${line('trpc')}, /mcp ${line('http')}, mnemo mcp ${line('stdio')}`);
  }
  await http.close();
  await stdio.close();
});
