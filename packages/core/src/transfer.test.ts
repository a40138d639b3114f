/** Export and import (transfer.ts), on the real database: round trips, idempotence, one user, bad input. */
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { Core } from './index';
import { useTestCore } from './test/core';
import { fakeSummary, startFakeLlm } from './test/fake-llm';
import { ImportError } from './transfer';

const llm = await startFakeLlm();
afterAll(() => llm.close());

const source = useTestCore();
const target = useTestCore();
const other = useTestCore();

async function exportText(core: Core, options: { userId?: string } = {}): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const counts = await core.transfer.export(out, options);
  out.end();
  const text = Buffer.concat(chunks).toString('utf8');
  expect(text.split('\n').length - 2).toBe(counts.users + counts.sessions + counts.messages + counts.summaries); // + header, − the empty tail
  return text;
}

/** `text` as a stream of small byte chunks (splitting lines and multi-byte characters). */
const bytes = (text: string, size = 7) => {
  const buffer = Buffer.from(text);
  return Readable.from(Array.from({ length: Math.ceil(buffer.length / size) }, (_, i) => buffer.subarray(i * size, (i + 1) * size)));
};
const importText = (core: Core, text: string) => core.transfer.import(bytes(text, 4096));

/** Every document of every collection, for "nothing changed". */
async function everything(core: Core) {
  const c = core.collections;
  const all = async (collection: typeof c.users | typeof c.sessions | typeof c.messages | typeof c.search | typeof c.meta) =>
    (await (collection as typeof c.users).find({}).sort({ _id: 1 }).toArray()) as unknown[];
  return {
    users: await all(c.users),
    sessions: await all(c.sessions),
    messages: await all(c.messages),
    search: await all(c.search),
    meta: await all(c.meta),
  };
}

/** What Mnemo derives from the data (counters, buckets, search terms), by id rather than by `_id`. */
async function derived(core: Core) {
  const c = core.collections;
  const sessions = (await c.sessions.find({ live: true }).toArray()).map(({ sessionId, messageCount, termDocs, termLength }) => ({
    sessionId,
    messageCount,
    termDocs,
    termLength,
  }));
  const messages = await c.messages.find({ deletedAt: null }).toArray();
  const terms = new Map((await c.search.find({ deletedAt: null }).toArray()).map((s) => [s._id.toHexString(), s.terms]));
  return {
    sessions: sessions.sort((a, b) => a.sessionId.localeCompare(b.sessionId)),
    messages: messages
      .map(({ sessionId, uuid, seq, bucket, tokenCount, _id }) => ({
        sessionId,
        uuid,
        seq,
        bucket,
        tokenCount,
        terms: terms.get(_id.toHexString()),
      }))
      .sort((a, b) => a.sessionId.localeCompare(b.sessionId) || a.seq - b.seq),
  };
}

const parts = [
  { type: 'reasoning', text: 'hmm', providerMetadata: { 'a.b': { $x: 1 } } },
  { type: 'tool-weather', toolCallId: 'c1', output: { grid: [[1, 2], [3]] } },
  { type: 'text', text: 'It is sunny in Lisbon.' },
];

/** A store with everything an export must carry, and soft-deleted records it must leave out. */
async function seed(core: Core) {
  await core.users.add({
    userId: 'ada',
    email: 'ada@example.com',
    firstName: 'Ada',
    lastName: 'Lovelace',
    metadata: { plan: 'pro', nested: { a: [1, 2] } },
  });
  await core.users.add({ userId: 'bob', metadata: {} });
  await core.users.add({ userId: 'gone' });
  await core.sessions.add({ sessionId: 'ada-1', userId: 'ada', metadata: { topic: 'engines' }, retentionDays: 30 });
  await core.sessions.add({ sessionId: 'gone-1', userId: 'gone' });
  await core.memory.add({ sessionId: 'gone-1', messages: [{ role: 'user', content: 'never exported' }] });
  await core.users.delete({ userId: 'gone' });
  await core.memory.add({
    sessionId: 'ada-1',
    messages: [
      {
        role: 'user',
        content: 'Tell me about the Analytical Engine, café ünïcode 🚂',
        uuid: 'm-1',
        metadata: { lang: 'en' },
        createdAt: new Date('2020-01-02T03:04:05.678Z'),
      },
      { role: 'assistant', parts, uuid: 'm-2', tokenCount: 42 },
      { role: 'assistant', content: 'Still stream', uuid: 'm-3', status: 'streaming' },
      { role: 'user', content: 'deleted later', uuid: 'm-4' },
    ],
  });
  await core.memory.deleteMessage({ sessionId: 'ada-1', uuid: 'm-4' });
  // A long session (several buckets of 32), without a user, created by its first message.
  for (let i = 0; i < 3; i++) {
    await core.memory.add({
      sessionId: 'long',
      messages: Array.from({ length: 30 }, (_, j) => ({
        role: j % 2 ? 'assistant' : 'user',
        content: `Message ${i * 30 + j} about gardens and seeds`,
      })),
    });
  }
  await core.memory.truncate({ sessionId: 'long', uuid: (await core.memory.get({ sessionId: 'long', lastn: 3 })).messages[0]!.uuid }); // the last 2 go
  await core.sessions.add({ sessionId: 'bob-empty', userId: 'bob' });
  await core.sessions.add({ sessionId: 'dropped' });
  await core.memory.add({ sessionId: 'dropped', messages: [{ role: 'user', content: 'gone too' }] });
  await core.sessions.delete({ sessionId: 'dropped' });
  await core.sessions.update({ sessionId: 'bob-empty', metadata: { touched: true } });
}

describe('export and import', () => {
  let exported = '';

  it('exports live records only, header first, in a fixed key order', async () => {
    await seed(source());
    exported = await exportText(source());
    const lines = exported
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ type: 'mnemo-export', version: 1 });
    expect(lines.filter((l) => l.type === 'user').map((l) => l.userId)).toEqual(['ada', 'bob']);
    expect(lines.filter((l) => l.type === 'session').map((l) => l.sessionId)).toEqual(['ada-1', 'long', 'bob-empty']);
    const messages = lines.filter((l) => l.type === 'message');
    expect(messages).toHaveLength(3 + 88);
    expect(messages.map((m) => m.uuid)).not.toContain('m-4');
    expect(exported).not.toMatch(/never exported|gone|dropped|m-4/);
    // Records in the order users, then each session followed by its messages by seq.
    expect(lines.map((l) => (l.type === 'message' ? `m:${l.sessionId}` : `${l.type}`)).join(' ')).toMatch(
      /^mnemo-export user user session (m:ada-1 ){3}session (m:long ){88}session$/,
    );
    const first = exported.split('\n')[2]!;
    expect(Object.keys(JSON.parse(first))).toEqual([
      'type',
      'userId',
      'uuid',
      'email',
      'firstName',
      'lastName',
      'metadata',
      'createdAt',
      'updatedAt',
    ]);
    const session = lines.find((l) => l.sessionId === 'ada-1' && l.type === 'session')!;
    expect(Object.keys(session)).toEqual([
      'type',
      'sessionId',
      'uuid',
      'userId',
      'metadata',
      'retentionDays',
      'createdAt',
      'updatedAt',
      'lastMessageAt',
      'lastActiveAt',
    ]);
    expect(session).toMatchObject({ userId: 'ada', retentionDays: 30, metadata: { topic: 'engines' } });
    const [m1, m2, m3] = messages;
    expect(Object.keys(m1!)).toEqual([
      'type',
      'sessionId',
      'uuid',
      'seq',
      'role',
      'content',
      'parts',
      'status',
      'metadata',
      'tokenCount',
      'createdAt',
      'updatedAt',
    ]);
    expect(m1).toMatchObject({
      uuid: 'm-1',
      seq: 1,
      createdAt: '2020-01-02T03:04:05.678Z',
      metadata: { lang: 'en' },
      parts: null,
      status: 'complete',
    });
    expect(m2).toMatchObject({ uuid: 'm-2', seq: 2, parts, content: 'It is sunny in Lisbon.', tokenCount: 42 });
    expect(m3).toMatchObject({ uuid: 'm-3', status: 'streaming' });
    // Deterministic: the same store exports the same bytes.
    expect(await exportText(source())).toBe(exported);
  });

  it('round-trips: import into an empty database, export again: the same bytes, the same derived state', async () => {
    const result = await importText(target(), exported);
    expect(result).toEqual({
      imported: { users: 2, sessions: 3, messages: 91, summaries: 0 },
      skipped: { users: 0, sessions: 0, messages: 0, summaries: 0 },
    });
    expect(await exportText(target())).toBe(exported);
    const [mine, theirs] = [await derived(target()), await derived(source())];
    expect(mine).toEqual(theirs);
    // The internal fields a Mnemo write sets, on every imported document.
    const c = target().collections;
    for (const u of await c.users.find({}).toArray())
      expect(u).toMatchObject({ live: true, deletedAt: null, listNo: expect.any(Number), listBucket: 0 });
    const long = (await c.sessions.findOne({ sessionId: 'long' }))!;
    expect(long).toMatchObject({ live: true, deletedAt: null, lastSeq: 88, messageCount: 88, listNo: 2, listBucket: 0, userId: null });
    expect((await c.sessions.findOne({ sessionId: 'ada-1' }))!).toMatchObject({ lastSeq: 3, messageCount: 3, retentionDays: 30 });
    const m2 = (await c.messages.findOne({ uuid: 'm-2' }))!;
    expect(m2).toMatchObject({ bucket: 'ada-1\u001f0', parts: JSON.stringify(parts), deletedAt: null, tokenCount: 42 });
    expect(await c.search.countDocuments({})).toBe(91);
  });

  it('re-importing changes nothing (same documents, same counts, same bytes)', async () => {
    const before = await everything(target());
    const result = await importText(target(), exported);
    expect(result).toEqual({
      imported: { users: 0, sessions: 0, messages: 0, summaries: 0 },
      skipped: { users: 2, sessions: 3, messages: 91, summaries: 0 },
    });
    expect(await everything(target())).toEqual(before);
    expect(await exportText(target())).toBe(exported);
  });

  it('imported data is fully usable: memory, message lists, search, sessions by activity, new writes', async () => {
    const t = target();
    const s = source();
    for (const sessionId of ['ada-1', 'long']) {
      expect(await t.memory.get({ sessionId, lastn: 50 })).toEqual(await s.memory.get({ sessionId, lastn: 50 }));
      expect(await t.memory.list({ sessionId, limit: 40, order: 'desc' })).toEqual(
        await s.memory.list({ sessionId, limit: 40, order: 'desc' }),
      );
    }
    expect((await t.memory.get({ sessionId: 'ada-1' })).messages.map((m) => m.status)).toEqual(['complete', 'complete', 'streaming']);
    const hits = await t.memory.search({ sessionId: 'ada-1', text: 'analytical engine' });
    expect(hits[0]!.message.uuid).toBe('m-1');
    expect(hits.map((h) => h.dist)).toEqual((await s.memory.search({ sessionId: 'ada-1', text: 'analytical engine' })).map((h) => h.dist));
    expect((await t.memory.searchUser({ userId: 'ada', text: 'sunny' })).map((h) => h.message.uuid)).toEqual(['m-2']);
    const byActivity = async (core: Core) => (await core.sessions.list({ sort: 'activity' })).items.map((i) => i.sessionId);
    expect(await byActivity(t)).toEqual(await byActivity(s));
    expect(await t.users.sessions({ userId: 'ada' })).toEqual(await s.users.sessions({ userId: 'ada' }));
    expect((await t.users.list()).items).toEqual((await s.users.list()).items);
    // The sequence goes on after the imported messages.
    const { messages } = await t.memory.add({ sessionId: 'long', messages: [{ role: 'user', content: 'after the import' }] });
    expect(messages[0]!.seq).toBe(89);
  });

  it('knows what an export will write before writing it (the total of a progress report)', async () => {
    const seen: number[] = [];
    const written = await source().transfer.export(new PassThrough().resume(), { onProgress: (counts) => seen.push(counts.messages) });
    expect(await source().transfer.totals()).toEqual(written);
    expect(written).toEqual({ users: 2, sessions: 3, messages: 91, summaries: 0 });
    expect(seen.at(-1)).toBe(91);
    expect(await source().transfer.totals({ userId: 'ada' })).toEqual({ users: 1, sessions: 1, messages: 3, summaries: 0 });
  });

  it('exports one user: their record, their sessions, those sessions’ messages', async () => {
    const text = await exportText(source(), { userId: 'ada' });
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.type)).toEqual(['mnemo-export', 'user', 'session', 'message', 'message', 'message']);
    expect(lines.slice(1).every((l) => l.userId === 'ada' || l.sessionId === 'ada-1')).toBe(true);
    // …the same lines as in the full export.
    expect(
      lines
        .slice(1)
        .map((l) => JSON.stringify(l))
        .every((l) => exported.includes(`${l}\n`)),
    ).toBe(true);
    expect((await exportText(source(), { userId: 'bob' })).trimEnd().split('\n')).toHaveLength(3);
    await expect(exportText(source(), { userId: 'gone' })).rejects.toThrow(/not found/);
  });

  it('resumes an interrupted import, and replaces soft-deleted records with the same ids', async () => {
    const o = other();
    // A soft-deleted session and user with ids the export has, with messages in the way.
    await o.users.add({ userId: 'bob' });
    await o.sessions.add({ sessionId: 'long', metadata: { old: true } });
    await o.memory.add({ sessionId: 'long', messages: [{ role: 'user', content: 'old', uuid: 'x' }] });
    await o.sessions.delete({ sessionId: 'long' });
    await o.users.delete({ userId: 'bob' });
    const lines = exported.split('\n');
    const half = `${lines.slice(0, 60).join('\n')}\n`; // cut inside the long session
    const partial = await importText(o, half);
    expect(partial.imported).toEqual({ users: 2, sessions: 2, messages: 3 + 52, summaries: 0 });
    const rest = await importText(o, exported);
    expect(rest).toEqual({
      imported: { users: 0, sessions: 1, messages: 36, summaries: 0 },
      skipped: { users: 2, sessions: 2, messages: 55, summaries: 0 },
    });
    expect(await exportText(o)).toBe(exported);
    expect(await derived(o)).toEqual(await derived(source()));
    expect(await o.collections.messages.countDocuments({ uuid: 'x' })).toBe(0);
  });
});

describe('bad input', () => {
  const header = '{"type":"mnemo-export","version":1}';
  const user = (userId: string) =>
    JSON.stringify({
      type: 'user',
      userId,
      uuid: `u-${userId}`,
      email: null,
      firstName: null,
      lastName: null,
      metadata: {},
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
    });
  const session = (sessionId: string, userId: string | null = null) =>
    JSON.stringify({
      type: 'session',
      sessionId,
      uuid: `s-${sessionId}`,
      userId,
      metadata: {},
      retentionDays: null,
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
      lastMessageAt: null,
      lastActiveAt: '2024-01-01T00:00:00.000Z',
    });
  const message = (sessionId: string, uuid: string, seq: number, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      type: 'message',
      sessionId,
      uuid,
      seq,
      role: 'user',
      content: `hello ${uuid}`,
      parts: null,
      status: 'complete',
      metadata: {},
      tokenCount: 3,
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
      ...extra,
    });
  const attempt = async (...lines: string[]) => {
    const error = await importText(other(), `${lines.join('\n')}\n`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ImportError);
    return (error as ImportError).message;
  };

  it('names the line and the problem, and imports the lines before it only', async () => {
    expect(await attempt('{"type":"user"}')).toMatch(/^line 1: not a Mnemo export/);
    expect(await attempt('{"type":"mnemo-export","version":2}')).toMatch(/^line 1: unsupported export version 2/);
    expect(await attempt('')).toMatch(/empty input/);
    expect(await attempt(header, user('bad-1'), '{"type":"user", oops')).toMatch(/^line 3: not JSON/);
    expect(await attempt(header, '[1]')).toMatch(/^line 2: not a JSON object/);
    expect(await attempt(header, '{"type":"chair"}')).toMatch(/^line 2: unknown record type "chair"/);
    expect(await attempt(header, user('bad-2').replace('"metadata":{}', '"metadata":{"$x":1}'))).toMatch(
      /^line 2: user record: metadata: .*\$/,
    );
    expect(await attempt(header, user('bad-3').replace('"email":null,', ''))).toMatch(/^line 2: user record: email/);
    expect(await attempt(header, user('bad-4').replace(/}$/, ',"extra":1}'))).toMatch(/^line 2: user record: .*extra/);
    expect(await attempt(header, session('bad-s1'), message('bad-s1', 'has space', 1))).toMatch(/^line 3: message record: uuid/);
    expect(await attempt(header, message('bad-s2', 'm', 0))).toMatch(/^line 2: message record: seq/);
    expect(await attempt(header, message('bad-s2', 'm', 1, { createdAt: 'yesterday' }))).toMatch(/^line 2: message record: createdAt/);
    expect(await attempt(header, message('nowhere', 'm', 1))).toMatch(
      /^line 2: message m: its session "nowhere" is neither in the database nor earlier/,
    );
    expect(await attempt(header, session('orphan', 'nobody'))).toMatch(/^line 2: session "orphan": its user "nobody" is neither/);
    expect(await attempt(header, session('dup-seq'), message('dup-seq', 'a', 1), message('dup-seq', 'b', 1))).toMatch(
      /^line 4: message b: seq 1 of session "dup-seq" is already used by the message on line 3/,
    );
    // Everything before the bad line is there, nothing of it or after it.
    const users = await other().collections.users.find({ userId: /^bad-/ }).toArray();
    expect(users.map((u) => u.userId)).toEqual(['bad-1']);
    expect(await other().collections.sessions.countDocuments({ sessionId: { $in: ['bad-s1', 'orphan'] } })).toBe(1); // bad-s1 (line 2)
    expect(await other().collections.messages.countDocuments({ sessionId: { $in: ['bad-s1', 'bad-s2', 'nowhere'] } })).toBe(0);
    expect((await other().memory.get({ sessionId: 'dup-seq' })).messages.map((m) => m.uuid)).toEqual(['a']);
    expect((await other().sessions.get({ sessionId: 'dup-seq' })).messageCount).toBe(1);
  });

  it('refuses a message whose seq another live message holds, and skips a repeated one', async () => {
    await other().memory.add({ sessionId: 'taken', messages: [{ role: 'user', content: 'mine', uuid: 'mine' }] });
    expect(await attempt(header, session('taken'), message('taken', 'theirs', 1))).toMatch(
      /^line 3: message theirs: seq 1 of session "taken" is taken by another message \(mine\)/,
    );
    const result = await importText(
      other(),
      `${[header, session('twice'), message('twice', 'a', 1), message('twice', 'a', 1), message('twice', 'a', 2)].join('\n')}\n`,
    );
    expect(result).toEqual({
      imported: { users: 0, sessions: 1, messages: 1, summaries: 0 },
      skipped: { users: 0, sessions: 0, messages: 2, summaries: 0 },
    });
  });
});

describe('summaries', () => {
  const WINDOW = 4;
  const config = {
    messageWindow: WINDOW,
    summaries: { url: llm.url, model: 'fake-model', retryDelayMs: 5, timeoutMs: 5000, retries: 2, retryAfterFailureMs: 0 },
  };
  const summarizing = useTestCore(config);
  const into = useTestCore(config); // get-memory answers summaries when a model is configured
  let exported = '';
  const add = async (core: Core, sessionId: string, from: number, to: number) => {
    await core.memory.add({
      sessionId,
      messages: Array.from({ length: to - from + 1 }, (_, i) => ({ role: 'user', content: `note ${from + i}` })),
    });
    await core.idle();
  };
  const summaryLines = (text: string) => text.split('\n').filter((line) => line.startsWith('{"type":"summary"'));

  it('exports each live session’s live summaries after its messages, oldest first, in a fixed key order', async () => {
    const s = summarizing();
    await add(s, 'notes', 1, 4); // the window fills: 1–2 summarised
    await add(s, 'notes', 5, 6); // 3–6 unsummarised: 3–4 folded in
    await add(s, 'gone', 1, 4);
    await s.sessions.delete({ sessionId: 'gone' }); // its summary goes with it
    const [first, second] = (await s.memory.summaries({ sessionId: 'notes' })).items.reverse();
    expect([first?.recentSeq, second?.recentSeq]).toEqual([2, 4]);

    exported = await exportText(s);
    const lines = exported.trimEnd().split('\n');
    const notes = lines.findIndex((line) => line.startsWith('{"type":"session","sessionId":"notes"'));
    expect(lines.slice(notes + 1).map((line) => JSON.parse(line).type)).toEqual([...Array(6).fill('message'), 'summary', 'summary']);
    const records = summaryLines(exported).map((line) => JSON.parse(line));
    expect(records).toEqual(
      [first!, second!].map((d) => ({
        type: 'summary',
        sessionId: 'notes',
        uuid: d.uuid,
        content: d.content,
        recentMessageUuid: d.recentMessageUuid,
        recentSeq: d.recentSeq,
        tokenCount: d.tokenCount,
        metadata: {},
        createdAt: d.createdAt.toISOString(),
      })),
    );
    expect(Object.keys(records[0])).toEqual([
      'type',
      'sessionId',
      'uuid',
      'content',
      'recentMessageUuid',
      'recentSeq',
      'tokenCount',
      'metadata',
      'createdAt',
    ]);
    expect(records[1].content).toBe(fakeSummary(fakeSummary('', ['user: note 1', 'user: note 2']), ['user: note 3', 'user: note 4']));
    expect(await s.transfer.totals()).toEqual({ users: 0, sessions: 1, messages: 6, summaries: 2 });
    expect(await exportText(s)).toBe(exported);
  });

  it('imports them as the summarizer writes them (latestOf on the newest), round-trips byte for byte, and again changes nothing', async () => {
    const t = into();
    // Messages first, so that a single writer has read (and keeps) "no summary" before the summaries come.
    const withoutSummaries = exported
      .split('\n')
      .filter((line) => !line.startsWith('{"type":"summary"'))
      .join('\n');
    expect((await importText(t, withoutSummaries)).imported).toEqual({ users: 0, sessions: 1, messages: 6, summaries: 0 });
    expect(await t.memory.get({ sessionId: 'notes' })).not.toHaveProperty('summary');

    const result = await importText(t, exported);
    expect(result).toEqual({
      imported: { users: 0, sessions: 0, messages: 0, summaries: 2 },
      skipped: { users: 0, sessions: 1, messages: 6, summaries: 0 },
    });
    const theirs = await summarizing().memory.get({ sessionId: 'notes' });
    const mine = await t.memory.get({ sessionId: 'notes' });
    expect(mine.summary).toEqual(theirs.summary);
    expect(mine.messages.map((m) => m.content)).toEqual(['note 5', 'note 6']); // those after the summary, as Zep answers
    const latest = await t.collections.summaries.find({ latestOf: 'notes' }).toArray();
    expect(latest.map((d) => d.uuid)).toEqual([theirs.summary!.uuid]);
    expect(await exportText(t)).toBe(exported);

    const before = await t.collections.summaries.find({}).sort({ _id: 1 }).toArray();
    expect(await importText(t, exported)).toEqual({
      imported: { users: 0, sessions: 0, messages: 0, summaries: 0 },
      skipped: { users: 0, sessions: 1, messages: 6, summaries: 2 },
    });
    expect(await t.collections.summaries.find({}).sort({ _id: 1 }).toArray()).toEqual(before);
    expect(await exportText(t)).toBe(exported);
  });

  it('continues progressively from imported summaries when the importing Mnemo summarises', async () => {
    const s = summarizing();
    await s.sessions.delete({ sessionId: 'notes' });
    const result = await importText(s, exported); // replaces the soft-deleted session, its summaries with it
    expect(result.imported).toEqual({ users: 0, sessions: 1, messages: 6, summaries: 2 });
    const imported = (await s.memory.get({ sessionId: 'notes' })).summary!;
    expect(imported.recentSeq).toBe(4);
    await add(s, 'notes', 7, 8); // 5–8 unsummarised: 5–6 folded into the imported summary
    const next = (await s.memory.get({ sessionId: 'notes' })).summary!;
    expect(next).toMatchObject({ recentSeq: 6, content: fakeSummary(imported.content, ['user: note 5', 'user: note 6']) });
    expect(await s.collections.summaries.countDocuments({ sessionId: 'notes' })).toBe(3);
  });

  it('refuses a summary of an unknown session, or a malformed one, naming the line', async () => {
    const t = into();
    const header = '{"type":"mnemo-export","version":1}';
    const summary = (fields: Record<string, unknown>) =>
      JSON.stringify({
        type: 'summary',
        sessionId: 'notes',
        uuid: 'sum-x',
        content: 'x',
        recentMessageUuid: 'm-x',
        recentSeq: 1,
        tokenCount: 1,
        metadata: {},
        createdAt: '2024-01-01T00:00:00.000Z',
        ...fields,
      });
    await expect(importText(t, [header, summary({ sessionId: 'nowhere' })].join('\n'))).rejects.toThrow(
      /^line 2: summary sum-x: its session "nowhere" is neither in the database nor earlier in the input$/,
    );
    await expect(importText(t, [header, summary({ recentSeq: 0 })].join('\n'))).rejects.toThrow(/^line 2: summary record: .*recentSeq/);
    await expect(importText(t, [header, summary({ extra: 1 })].join('\n'))).rejects.toThrow(/^line 2: summary record: /);
    expect(await t.collections.summaries.countDocuments({ uuid: 'sum-x' })).toBe(0);
    // From a source without numbers (Zep): placed at the message it names, which must be in the session.
    const { type, recentSeq, ...zep } = JSON.parse(summary({}));
    const records = async function* (recentMessageUuid: string) {
      yield { where: 'Zep summary', record: { type, ...zep, recentMessageUuid } };
    };
    await expect(t.transfer.importRecords(records('m-x'))).rejects.toThrow(
      /^Zep summary: summary sum-x: its recent message m-x is not a message of session "notes"$/,
    );
    const [fifth] = (await t.memory.list({ sessionId: 'notes', limit: 5 })).items.slice(4);
    expect((await t.transfer.importRecords(records(fifth!.uuid))).imported.summaries).toBe(1);
    expect(await t.collections.summaries.findOne({ uuid: 'sum-x' })).toMatchObject({ recentSeq: 5, recentMessageUuid: fifth!.uuid });
  });
});
