import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createCore } from '../index';
import { useTestCore } from '../test/core';
import { fakeSummary, startFakeLlm } from '../test/fake-llm';
import { piecesOf } from './summaries';

const llm = await startFakeLlm();
afterAll(() => llm.close());

const WINDOW = 6;
const logs: string[] = [];
const core = useTestCore({
  messageWindow: WINDOW,
  summaries: { url: llm.url, model: 'fake-model', apiKey: 'sk-test', retryDelayMs: 5, timeoutMs: 2000, retries: 2, retryAfterFailureMs: 0 },
  log: (message) => logs.push(message),
});

beforeEach(() => {
  logs.length = 0;
});

const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `user: message ${from + i}`);
async function add(sessionId: string, from: number, to: number) {
  const { messages } = await core().memory.add({
    sessionId,
    messages: Array.from({ length: to - from + 1 }, (_, i) => ({ role: 'user', content: `message ${from + i}` })),
  });
  return messages;
}

describe('progressive summaries (Zep’s rule: at the window, all but window/2 folded into the previous summary)', () => {
  it('makes none before the window fills, then one covering all but the newest window/2 messages', async () => {
    const s = `s-${randomUUID()}`;
    await add(s, 1, WINDOW - 1);
    await core().idle();
    expect(await core().memory.get({ sessionId: s })).not.toHaveProperty('summary');
    expect((await core().memory.summaries({ sessionId: s })).items).toEqual([]);

    const added = await add(s, WINDOW, WINDOW);
    await core().idle();
    const memory = await core().memory.get({ sessionId: s });
    expect(memory.summary).toMatchObject({
      sessionId: s,
      content: fakeSummary('', lines(1, 3)),
      recentSeq: 3,
      metadata: {},
    });
    const all = await core().memory.get({ sessionId: s, lastn: 100 });
    expect(memory.summary!.recentMessageUuid).toBe(all.messages[2]!.uuid);
    expect(memory.summary!.tokenCount).toBeGreaterThan(5);
    // Without lastn: only the messages after the summary; with lastn: the last n, and the summary too.
    expect(memory.messages.map((m) => m.content)).toEqual(['message 4', 'message 5', 'message 6']);
    expect(all.messages).toHaveLength(6);
    expect(all.summary).toEqual(memory.summary);
    expect(added[0]!.content).toBe('message 6');
    const request = llm.requests.at(-1)!;
    expect(request).toMatchObject({ model: 'fake-model', authorization: 'Bearer sk-test', currentSummary: '', lines: lines(1, 3) });
    expect(request.messages[0]!.role).toBe('system');
    // Done: nothing pending.
    expect(await core().collections.summaryJobs.countDocuments({ _id: s })).toBe(0);
  });

  it('folds the next messages into the previous summary (progressive) and lists them newest first', async () => {
    const s = `s-${randomUUID()}`;
    await add(s, 1, 6);
    await core().idle();
    const first = (await core().memory.get({ sessionId: s })).summary!;
    await add(s, 7, 8);
    await core().idle();
    expect((await core().memory.get({ sessionId: s })).summary).toEqual(first); // 5 after it: not due yet
    await add(s, 9, 9);
    await core().idle();
    const second = (await core().memory.get({ sessionId: s })).summary!;
    expect(second.content).toBe(fakeSummary(first.content, lines(4, 6)));
    expect(second.recentSeq).toBe(6);
    expect(llm.requests.at(-1)).toMatchObject({ currentSummary: first.content, lines: lines(4, 6) });
    const page = await core().memory.summaries({ sessionId: s, limit: 1 });
    expect(page.items).toEqual([second]);
    expect((await core().memory.summaries({ sessionId: s, cursor: page.nextCursor })).items).toEqual([first]);
  });

  it('cuts a line longer than the context into pieces of its own', () => {
    const huge = `user: ${'word '.repeat(3000)}`;
    const pieces = piecesOf(['user: hi', huge, 'user: bye'], 500);
    expect(pieces.length).toBeGreaterThan(5);
    expect(pieces.flat().join('')).toBe(['user: hi', huge, 'user: bye'].join(''));
  });

  it('retries 500s and a 429 after its Retry-After, then summarises', async () => {
    const s = `s-${randomUUID()}`;
    llm.fail('500', 2);
    await add(s, 1, 6);
    await core().idle();
    expect((await core().memory.get({ sessionId: s })).summary?.recentSeq).toBe(3);
    llm.fail('429');
    const started = Date.now();
    await add(s, 7, 9);
    await core().idle();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // waited for Retry-After: 1
    expect((await core().memory.get({ sessionId: s })).summary?.recentSeq).toBe(6);
    expect(logs).toEqual([]);
  });

  it('a failing model (malformed answers, retries exhausted) leaves the previous summary, logs once, and the job stays pending', async () => {
    const s = `s-${randomUUID()}`;
    await add(s, 1, 6);
    await core().idle();
    const first = (await core().memory.get({ sessionId: s })).summary!;
    llm.fail('malformed');
    await add(s, 7, 9);
    await core().idle();
    expect((await core().memory.get({ sessionId: s })).summary).toEqual(first);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain(JSON.stringify(s));
    expect(await core().collections.summaryJobs.findOne({ _id: s })).toMatchObject({ leaseUntil: null, owner: null });
    llm.fail('500', 3); // every attempt (1 + 2 retries) fails
    await add(s, 10, 10);
    await core().idle();
    expect((await core().memory.get({ sessionId: s })).summary).toEqual(first);
    expect(logs).toHaveLength(2);
    // The next append succeeds and catches up.
    await add(s, 11, 11);
    await core().idle();
    expect((await core().memory.get({ sessionId: s })).summary).toMatchObject({
      content: fakeSummary(first.content, lines(4, 8)),
      recentSeq: 8,
    });
  });

  it('never holds up a write: appends answer while the model hangs, and none is lost', async () => {
    const s = `s-${randomUUID()}`;
    llm.fail('hang');
    await add(s, 1, 6);
    // The job has asked the model and waits; appends go on meanwhile.
    await expect.poll(() => llm.requests.at(-1)?.lines.join()).toBe(lines(1, 3).join());
    await Promise.all(Array.from({ length: 20 }, (_, i) => add(s, 7 + i, 7 + i)));
    expect((await core().memory.list({ sessionId: s, limit: 100 })).total).toBe(26);
    // The appends that came while the job ran noted it in memory only: the record was written once.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await core().collections.summaryJobs.findOne({ _id: s })).toMatchObject({ version: 1 });
    llm.releaseHanging(); // the connection closes: retried, and answered
    await core().idle();
    const summary = (await core().memory.get({ sessionId: s })).summary!;
    expect(summary.recentSeq).toBe(26 - WINDOW / 2);
    expect(summary.content).toBe(fakeSummary(fakeSummary('', lines(1, 3)), lines(4, 23)));
    const { messages } = await core().memory.get({ sessionId: s });
    expect(messages.map((m) => m.seq)).toEqual([24, 25, 26]);
  });

  it('follows the session: deleted with it, restored with it, purged', async () => {
    const s = `s-${randomUUID()}`;
    await add(s, 1, 6);
    await core().idle();
    const summary = (await core().memory.get({ sessionId: s })).summary!;
    await core().sessions.delete({ sessionId: s });
    await expect(core().memory.summaries({ sessionId: s })).rejects.toThrow(/not found/);
    expect(await core().collections.summaries.countDocuments({ sessionId: s, deletedAt: null })).toBe(0);
    await core().sessions.restore({ sessionId: s });
    expect((await core().memory.get({ sessionId: s })).summary).toEqual(summary);
    await core().sessions.delete({ sessionId: s });
    await core().purge();
    expect(await core().collections.summaries.countDocuments({ sessionId: s })).toBe(0);
  });

  it('stays deleted when a write revives the deleted session (as Zep: the session comes back, its summaries do not)', async () => {
    const s = `s-${randomUUID()}`;
    await add(s, 1, 6);
    await core().idle();
    expect((await core().memory.get({ sessionId: s })).summary).toBeDefined(); // read once: a single writer keeps it
    await core().sessions.delete({ sessionId: s });
    await core().sessions.update({ sessionId: s, metadata: { back: true } });
    expect(await core().memory.get({ sessionId: s })).toEqual({ messages: [] });
    await core().sessions.delete({ sessionId: s });
    await add(s, 7, 7);
    await core().idle();
    const memory = await core().memory.get({ sessionId: s });
    expect(memory).not.toHaveProperty('summary');
    expect(memory.messages.map((m) => m.content)).toEqual(['message 7']);
  });

  it('is forgotten with its user, and expires with the messages it covers', async () => {
    const userId = `u-${randomUUID()}`;
    const s = `s-${randomUUID()}`;
    await core().users.add({ userId });
    await core().sessions.add({ sessionId: s, userId });
    await core().memory.add({
      sessionId: s,
      messages: Array.from({ length: 6 }, (_, i) => ({ role: 'user', content: `m${i}`, createdAt: new Date(2020, 0, 1 + i) })),
    });
    await core().idle();
    expect((await core().memory.get({ sessionId: s })).summary).toBeDefined();
    // Retention through a session's own setting: one day, so every message has expired.
    await core().sessions.update({ sessionId: s, retentionDays: 1 });
    await core().purge();
    expect(await core().collections.summaries.countDocuments({ sessionId: s, deletedAt: null })).toBe(0);
    await core().memory.add({ sessionId: s, messages: Array.from({ length: 6 }, (_, i) => ({ role: 'user', content: `n${i}` })) });
    await core().idle();
    expect((await core().memory.get({ sessionId: s })).summary?.content).toBe(fakeSummary('', ['user: n0', 'user: n1', 'user: n2']));
    expect(await core().users.forget({ userId })).toMatchObject({ summaries: 1 });
    expect(await core().collections.summaries.countDocuments({ sessionId: s })).toBe(0);
  });

  it('searches a session’s summaries by text (Zep’s search_scope "summary")', async () => {
    const s = `s-${randomUUID()}`;
    await core().memory.add({
      sessionId: s,
      messages: ['I love Portuguese food', 'Lisbon next spring', 'A window seat', 'x', 'y', 'z'].map((content) => ({
        role: 'user',
        content,
      })),
    });
    await core().idle();
    const [hit, ...rest] = await core().memory.searchSummaries({ sessionId: s, text: 'travel to lisbon' });
    expect(rest).toEqual([]);
    expect(hit!.summary.content).toContain('Lisbon');
    expect(hit!.dist).toBeGreaterThan(0);
    expect(await core().memory.searchSummaries({ sessionId: s, text: 'cricket' })).toEqual([]);
    await expect(core().memory.searchSummaries({ sessionId: s, text: '  ' })).rejects.toThrow(/empty query/);
  });
});

describe('a backlog longer than the model’s context', () => {
  // A model that answers a short summary: how many lines it has covered so far.
  let counting: Awaited<ReturnType<typeof startFakeLlm>>;
  const covered = (summary: string) => Number(summary.match(/^covered (\d+) lines$/)?.[1] ?? 0);
  beforeAll(async () => {
    counting = await startFakeLlm({ answer: (current, newLines) => `covered ${covered(current) + newLines.length} lines` });
  });
  afterAll(() => counting.close());
  // A context of 700 tokens leaves ~400 for the lines of each step.
  const tight = useTestCore({
    messageWindow: WINDOW,
    summaries: {
      get url() {
        return counting.url;
      },
      contextTokens: 700,
      maxSummaryTokens: 100,
      retryDelayMs: 5,
    },
  });

  it('is summarised in pieces that fit, each folded into the summary of the pieces before', async () => {
    const long = (i: number) => `message ${i} ${'lorem ipsum dolor sit amet '.repeat(10)}`;
    await tight().memory.add({
      sessionId: 'long',
      messages: Array.from({ length: 40 }, (_, i) => ({ role: 'user', content: long(i + 1) })),
    });
    await tight().idle();
    expect(counting.requests.length).toBeGreaterThan(3);
    // Every line once, in order, across the steps; each step carries the summary of the ones before.
    expect(counting.requests.flatMap((r) => r.lines)).toEqual(Array.from({ length: 37 }, (_, i) => `user: ${long(i + 1)}`));
    counting.requests.slice(1).forEach((r, i) => {
      expect(covered(r.currentSummary)).toBe(counting.requests.slice(0, i + 1).reduce((n, q) => n + q.lines.length, 0));
    });
    expect((await tight().memory.get({ sessionId: 'long' })).summary).toMatchObject({ content: 'covered 37 lines', recentSeq: 37 });
  });
});

describe('after a failure', () => {
  const resting = useTestCore({
    messageWindow: WINDOW,
    summaries: {
      get url() {
        return llm.url;
      },
      retries: 0,
    },
    log: () => {},
  });
  it('a session whose job failed is not tried again at every append (until the pause is over, or a restart)', async () => {
    llm.fail('malformed');
    const before = llm.requests.length;
    await resting().memory.add({ sessionId: 'r', messages: lines(1, 6).map((l) => ({ role: 'user', content: l })) });
    await resting().idle();
    expect(llm.requests.length - before).toBe(1);
    await resting().memory.add({ sessionId: 'r', messages: lines(7, 9).map((l) => ({ role: 'user', content: l })) });
    await resting().idle();
    expect(llm.requests.length - before).toBe(1);
    expect(await resting().collections.summaryJobs.countDocuments({ _id: 'r' })).toBe(1); // pending, for a restart
  });
});

describe('jobs across restarts and instances (the pending job and its lease are in the database)', () => {
  const mongoUri = inject('mongoUri');
  const singleWriter = inject('singleWriter') ?? true;

  it('a restart in the middle of a job resumes it', async () => {
    const dbName = `test_${randomUUID().slice(0, 8)}`;
    const config = { mongoUri, dbName, singleWriter, messageWindow: WINDOW, log: () => {} };
    const first = createCore({ ...config, summaries: { url: llm.url, retryDelayMs: 5, timeoutMs: 60_000 } });
    await first.init();
    let closed = false;
    try {
      llm.fail('hang');
      await first.memory.add({ sessionId: 's', messages: lines(1, 6).map((l) => ({ role: 'user', content: l.slice(6) })) });
      await expect.poll(() => llm.requests.at(-1)?.lines.join()).toBe(lines(1, 3).join());
      await first.close(); // aborts the call; the job stays recorded
      closed = true;
      const second = createCore({ ...config, summaries: { url: llm.url, retryDelayMs: 5 } });
      await second.init(); // resumes what is recorded
      try {
        await second.idle();
        expect((await second.memory.get({ sessionId: 's' })).summary).toMatchObject({
          content: fakeSummary('', lines(1, 3)),
          recentSeq: 3,
        });
        expect(await second.collections.summaryJobs.countDocuments()).toBe(0);
        expect(await second.store.verify()).toEqual([]);
      } finally {
        await second.db.dropDatabase();
        await second.close();
      }
    } finally {
      if (!closed) await first.close();
    }
  });

  it('a job another instance holds a lease on is left to it until the lease runs out', async () => {
    const s = `s-${randomUUID()}`;
    await add(s, 1, 5);
    await core().idle();
    const future = new Date(Date.now() + 60_000);
    await core().collections.summaryJobs.insertOne({ _id: s, version: 1, requestedAt: new Date(), leaseUntil: future, owner: 'other' });
    const before = llm.requests.length;
    await add(s, 6, 6);
    await core().idle();
    expect(llm.requests.length).toBe(before);
    expect((await core().memory.get({ sessionId: s })).summary).toBeUndefined();
    // The other instance died: its lease has run out, and the next request takes the job over.
    await core().collections.summaryJobs.updateOne({ _id: s }, { $set: { leaseUntil: new Date(Date.now() - 1) } });
    await add(s, 7, 7);
    await core().idle();
    expect((await core().memory.get({ sessionId: s })).summary?.recentSeq).toBe(4);
    expect(await core().collections.summaryJobs.countDocuments({ _id: s })).toBe(0);
  });
});

describe('without a model configured', () => {
  const plain = useTestCore({ messageWindow: WINDOW });
  it('makes no summary and get-memory is as before (the last window of messages)', async () => {
    const before = llm.requests.length;
    await plain().memory.add({ sessionId: 'p', messages: lines(1, 20).map((l) => ({ role: 'user', content: l })) });
    await plain().idle();
    const memory = await plain().memory.get({ sessionId: 'p' });
    expect(memory).not.toHaveProperty('summary');
    expect(memory.messages).toHaveLength(WINDOW);
    expect(llm.requests.length).toBe(before);
    expect(await plain().collections.summaryJobs.countDocuments()).toBe(0);
  });
});
