/**
 * Live updates, end to end (a benchmark, not a test): how long a write takes to reach the
 * subscribers of its session, through the real HTTP server and SSE.
 *
 *   pnpm bench:live                       # 500 writes per run, 50 subscribers in the fan-out run
 *   pnpm bench:live -- --writes 1000 --subscribers 100
 *   pnpm bench:live -- --streams-only --appends 2000 --readers 50   # only the streamed reply (run 4)
 *
 * Starts the default local database (mongod when on PATH, else FerretDB) in a temporary directory,
 * or uses MONGODB_URI when set, then Mnemo in this process: createCore + createApp (what `pnpm start`
 * runs, minus the purge timer; LOG_LEVEL warn), listening on a free loopback port. Clients are the
 * typed client (`createMnemoClient` with the `eventsource` package's EventSource), each subscription
 * its own SSE connection, in this process too: on 2 cores, server and subscribers share one event loop.
 *
 * Three runs, each on a new session, each subscriber subscribed (`message.onChange`, its first
 * `reset` event received) before the first write:
 *   1. 1 subscriber, writes through the typed client (`memory.add`, one message)
 *   2. 1 subscriber, writes through the REST API (`POST /api/v1/sessions/:id/memory`, one message)
 *   3. `--subscribers` subscribers (50), writes through the typed client
 * Writes are one at a time: the clock starts before the call; the next write starts once the call
 * has answered and every subscriber has the write's `messages` event (found by the message's uuid).
 * 20 untimed writes first. Prints, in ms, p50/p99 of the write's own answer, p50/p99/max of the
 * event's arrival at the first and at the last subscriber, and p50/p99 of how long after the
 * write's answer the last subscriber had it (negative: before).
 *
 * 4. A streamed reply: one `streaming` message, `--appends` (2,000) `message.update({ append })` of
 *    10 tokens each, one at a time, read by `--readers` (50) `message.stream` readers, each on its
 *    own SSE connection. Per append, from the call to the last reader having the text (its `append`
 *    delta): p50/p99/max; and the append's own answer. Halfway, a new reader (a new client and
 *    connection) joins: the time from its subscribe call to having the text of every append so far
 *    (its first event, the whole message).
 */
import { randomUUID } from 'node:crypto';
import { countOptions, machine, ms, percentile, table } from '@mnemo/core/bench';
import { withBenchServer } from '@mnemo/server/bench';
import { EventSource } from 'eventsource';
import { createMnemoClient, type MnemoClient } from '../src/index';

const USAGE = 'usage: bench:live [--writes 500] [--subscribers 50] [--appends 2000] [--readers 50] [--streams-only]';
const WARMUP = 20;
const TIMEOUT_MS = 10_000; // per write, for every subscriber to hear of it

/** A write in flight: when it started and when each subscriber heard of it. */
interface Pending {
  arrivals: number[];
  waiting: number;
  done: () => void;
}

/**
 * `count` subscriptions to `sessionId`, each through its own typed client; resolves once every one
 * has had its first event (the `reset`), i.e. is registered on the server's event bus.
 */
async function subscribeAll(clients: MnemoClient[], sessionId: string, pending: Map<string, Pending>) {
  let failed: unknown;
  const subscriptions = await Promise.all(
    clients.map(
      (client) =>
        new Promise<{ unsubscribe(): void }>((resolve, reject) => {
          let ready = false;
          const subscription = client.message.onChange.subscribe(
            { sessionId },
            {
              onData: ({ data: event }) => {
                const at = performance.now();
                if (!ready) {
                  if (event.type !== 'reset') reject(new Error(`first event was ${event.type}, not reset`));
                  ready = true;
                  resolve(subscription);
                  return;
                }
                if (event.type !== 'messages') return;
                for (const { uuid } of event.messages) {
                  const write = pending.get(uuid);
                  if (!write) continue;
                  write.arrivals.push(at);
                  if (--write.waiting === 0) write.done();
                }
              },
              onError: (error) => {
                failed = error;
                reject(error);
              },
            },
          );
        }),
    ),
  );
  return {
    failed: () => failed,
    stop: () => subscriptions.forEach((s) => s.unsubscribe()),
  };
}

interface RunResult {
  name: string;
  writes: number;
  subscribers: number;
  ack: number[];
  first: number[];
  last: number[];
  /** Last subscriber's arrival minus the write's answer: what delivery adds to the write itself. */
  afterAnswer: number[];
}

async function run(
  name: string,
  { url, writer, subscribers, writes }: { url: string; writer: MnemoClient | 'rest'; subscribers: number; writes: number },
): Promise<RunResult> {
  const sessionId = `live-${randomUUID().slice(0, 8)}`;
  const pending = new Map<string, Pending>();
  const clients = Array.from({ length: subscribers }, () => createMnemoClient({ url, EventSource }));
  const live = await subscribeAll(clients, sessionId, pending);
  const result: RunResult = { name, writes, subscribers, ack: [], first: [], last: [], afterAnswer: [] };
  try {
    for (let i = 0; i < WARMUP + writes; i++) {
      const uuid = randomUUID();
      const content = `message ${i} of the live benchmark: how long does it take to reach every subscriber?`;
      let done!: () => void;
      const heard = new Promise<void>((resolve) => (done = resolve));
      const write: Pending = { arrivals: [], waiting: subscribers, done };
      pending.set(uuid, write);
      const started = performance.now();
      const answered = (
        writer === 'rest'
          ? fetch(`${url}/api/v1/sessions/${sessionId}/memory`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ messages: [{ uuid, role: 'user', content }] }),
            }).then(async (response) => {
              if (!response.ok) throw new Error(`POST memory: ${response.status} ${await response.text()}`);
            })
          : writer.memory.add.mutate({ sessionId, messages: [{ uuid, role: 'user', content }] })
      ).then(() => performance.now());
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              live.failed() ??
                new Error(`${name}: write ${i}: ${write.arrivals.length} of ${subscribers} subscribers heard of it after ${TIMEOUT_MS} ms`),
            ),
          TIMEOUT_MS,
        );
      });
      const [ackAt] = await Promise.race([Promise.all([answered, heard]), timeout]);
      clearTimeout(timer);
      pending.delete(uuid);
      if (i < WARMUP) continue;
      result.ack.push(ackAt - started);
      result.first.push(Math.min(...write.arrivals) - started);
      result.last.push(Math.max(...write.arrivals) - started);
      result.afterAnswer.push(Math.max(...write.arrivals) - ackAt);
    }
  } finally {
    live.stop();
  }
  return result;
}

/** Ten tokens of a reply (cl100k: ten short words with their spaces). */
const TEN_TOKENS = ' the quick brown fox jumps over the lazy dog again';

interface StreamResult {
  appends: number;
  readers: number;
  ack: number[];
  last: number[];
  /** The late reader: from its subscribe call to having the text of the first half. */
  joinMs: number;
  joinedAt: number;
}

/** Run 4 (see the top of the file). */
async function streamRun(
  url: string,
  writer: MnemoClient,
  { appends, readers }: { appends: number; readers: number },
): Promise<StreamResult> {
  const sessionId = `stream-${randomUUID().slice(0, 8)}`;
  const uuid = randomUUID();
  await writer.memory.add.mutate({ sessionId, messages: [{ uuid, role: 'assistant', content: '', status: 'streaming' }] });
  /** What one reader needs before the next append: this much text, and when each reader had it. */
  let target = { length: 0, arrivals: [] as number[], waiting: 0, done: () => {} };
  let failed: unknown;
  /** A reader of the reply: calls `onText` with the length of the text it has after each event. */
  const follow = (client: MnemoClient, onText: (length: number, at: number) => void) => {
    let length = 0;
    return client.message.stream.subscribe(
      { sessionId, uuid },
      {
        onData: ({ data }) => {
          const at = performance.now();
          if (data.type === 'message') length = data.message.content.length;
          else if (data.type === 'append') length += data.text.length;
          else return;
          onText(length, at);
        },
        onError: (error) => (failed = error),
      },
    );
  };
  let ready = 0;
  const subscriptions = Array.from({ length: readers }, () => {
    let reached = 0;
    return follow(createMnemoClient({ url, EventSource }), (length, at) => {
      if (length === 0 && reached === 0) ready++; // its first event: the empty message
      if (length >= target.length && length > reached) {
        reached = length;
        target.arrivals.push(at);
        if (--target.waiting === 0) target.done();
      }
    });
  });
  const deadline = Date.now() + TIMEOUT_MS;
  while (ready < readers) {
    if (failed) throw failed;
    if (Date.now() > deadline) throw new Error(`only ${ready} of ${readers} stream readers subscribed`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const result: StreamResult = { appends, readers, ack: [], last: [], joinMs: Number.NaN, joinedAt: Math.floor(appends / 2) };
  try {
    let length = 0;
    for (let i = 1; i <= appends; i++) {
      length += TEN_TOKENS.length;
      let done!: () => void;
      const heard = new Promise<void>((resolve) => (done = resolve));
      target = { length, arrivals: [], waiting: readers, done };
      const started = performance.now();
      const answered = writer.message.update.mutate({ sessionId, uuid, append: TEN_TOKENS }).then(() => performance.now());
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(failed ?? new Error(`append ${i}: ${target.arrivals.length} of ${readers} readers had it after ${TIMEOUT_MS} ms`)),
          TIMEOUT_MS,
        );
      });
      const [ackAt] = await Promise.race([Promise.all([answered, heard]), timeout]);
      clearTimeout(timer);
      result.ack.push(ackAt - started);
      result.last.push(Math.max(...target.arrivals) - started);
      if (i === result.joinedAt) {
        // A reader joining now: everything so far, at once.
        const joined = performance.now();
        const had = await new Promise<number>((resolve, reject) => {
          const late = follow(createMnemoClient({ url, EventSource }), (got, at) => {
            if (got >= length) {
              late.unsubscribe();
              resolve(at);
            }
          });
          setTimeout(() => reject(failed ?? new Error('the late reader had nothing')), TIMEOUT_MS);
        });
        result.joinMs = had - joined;
      }
    }
    await writer.message.update.mutate({ sessionId, uuid, status: 'complete' });
  } finally {
    for (const s of subscriptions) s.unsubscribe();
  }
  return result;
}

async function main() {
  const argv = process.argv.slice(2);
  const streamsOnly = argv.includes('--streams-only');
  const { writes, subscribers, appends, readers } = countOptions(
    argv.filter((a) => a !== '--streams-only'),
    { writes: 500, subscribers: 50, appends: 2000, readers: 50 },
    USAGE,
  );
  console.log(machine());
  await withBenchServer('live', async ({ url, db }) => {
    console.log(
      `Mnemo (in this process) at ${url}, database ${db ? db.backend : 'MONGODB_URI'}; ${writes} timed writes per run after ${WARMUP} untimed\n`,
    );

    const writer = createMnemoClient({ url, EventSource });
    const results: RunResult[] = [];
    const runs = [
      ['typed client memory.add → 1 subscriber', { writer, subscribers: 1 }],
      ['REST POST …/memory → 1 subscriber', { writer: 'rest' as const, subscribers: 1 }],
      [`typed client memory.add → ${subscribers} subscribers`, { writer, subscribers }],
    ] as const;
    for (const [name, options] of streamsOnly ? [] : runs) {
      const started = performance.now();
      const result = await run(name, { url, writes, ...options });
      console.log(`${name}: ${writes} writes in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      results.push(result);
    }

    const rows = [
      [
        'writes, one at a time',
        'write answered p50 / p99',
        'event at first subscriber p50 / p99',
        'event at last subscriber p50',
        'p99',
        'max',
        'last subscriber − answer p50 / p99',
      ],
    ];
    for (const r of results) {
      for (const list of [r.ack, r.first, r.last, r.afterAnswer]) list.sort((a, b) => a - b);
      rows.push([
        r.name,
        `${ms(percentile(r.ack, 50))} / ${ms(percentile(r.ack, 99))}`,
        `${ms(percentile(r.first, 50))} / ${ms(percentile(r.first, 99))}`,
        ms(percentile(r.last, 50)),
        ms(percentile(r.last, 99)),
        ms(r.last.at(-1)!),
        `${ms(percentile(r.afterAnswer, 50))} / ${ms(percentile(r.afterAnswer, 99))}`,
      ]);
    }
    if (results.length > 0) console.log(`\nms from the start of the write\n\n${table(rows)}\n`);

    const started = performance.now();
    const stream = await streamRun(url, writer, { appends, readers });
    console.log(
      `streamed reply: ${appends} appends of 10 tokens to ${readers} readers in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    for (const list of [stream.ack, stream.last]) list.sort((a, b) => a - b);
    const streamRows = [
      [
        'streamed reply (message.stream)',
        'append answered p50 / p99',
        'delta at last reader p50 / p99',
        'max',
        `reader joining at append ${stream.joinedAt}`,
      ],
      [
        `${appends} appends → ${readers} readers`,
        `${ms(percentile(stream.ack, 50))} / ${ms(percentile(stream.ack, 99))}`,
        `${ms(percentile(stream.last, 50))} / ${ms(percentile(stream.last, 99))}`,
        ms(stream.last.at(-1)!),
        `${ms(stream.joinMs)} to have all ${stream.joinedAt}`,
      ],
    ];
    console.log(`\nms from the start of the append (or of the late reader's subscribe call)\n\n${table(streamRows)}\n`);
  });
}

await main();
