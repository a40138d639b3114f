import { beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../errors';
import type { SearchMemoryInput } from '../schemas';
import { useTestCore } from '../test/core';

const core = useTestCore();

const day = (d: number) => new Date(Date.UTC(2024, 3, d, 12));

/** A fixed conversation: message i (1-based) was created on April i. */
const CONVERSATION = [
  { role: 'user', content: "Hi! I'm planning a trip to Lisbon next month with my family.", metadata: { topic: 'plans' } },
  { role: 'assistant', content: 'Lisbon is lovely in spring. Would you like hotel recommendations?', metadata: { topic: 'plans' } },
  { role: 'user', content: 'Yes: a quiet hotel near the river, under 150 euros a night.', metadata: { topic: 'hotel', score: 4 } },
  { role: 'assistant', content: "Try the Memmo Alfama; it's quiet, central and has river views.", metadata: { topic: 'hotel', score: 5 } },
  {
    role: 'user',
    content: 'My daughter is allergic to peanuts. Which restaurants are safe?',
    metadata: { topic: 'food', score: 2, tags: ['health', 'food'] },
  },
  {
    role: 'assistant',
    content: 'Most restaurants in Lisbon list allergens; ask for dishes without amendoim (peanut).',
    metadata: { topic: 'food', score: 3, tags: ['food'] },
  },
  { role: 'user', content: 'I also need to renew my passport before I travel.', metadata: { topic: 'documents', score: 1 } },
  { role: 'assistant', content: 'Passport renewals take about six weeks, so book an appointment soon.', metadata: { topic: 'documents' } },
  { role: 'user', content: "What's the weather like in Lisbon in April?", metadata: { topic: 'weather' } },
  { role: 'assistant', content: 'April is mild: around 20°C, with occasional rain showers.', metadata: { topic: 'weather', score: 5 } },
].map((m, i) => ({ ...m, createdAt: day(i + 1) }));

const contentOf = (n: number) => CONVERSATION[n - 1]!.content;

async function search(input: Omit<SearchMemoryInput, 'sessionId'> & { sessionId?: string }) {
  const results = await core().memory.search({ sessionId: 'trip', ...input });
  return results.map((r) => r.message.content);
}

beforeAll(async () => {
  // Two adds, so the index is appended to and not built in one go.
  await core().memory.add({ sessionId: 'trip', messages: CONVERSATION.slice(0, 4) });
  await core().memory.add({ sessionId: 'trip', messages: CONVERSATION.slice(4) });
  // Another session with similar words must not leak into results.
  await core().memory.add({
    sessionId: 'other',
    messages: [{ role: 'user', content: 'Peanuts, passports and Lisbon hotels by the river.' }],
  });
});

describe('memory.search ranking', () => {
  it.each([
    ['Is my daughter safe with PEANUTS?', 5],
    ['hotels by the river', 3],
    ['WEATHER, Lisbon... April?!', 9],
    ['TRAVELLING', 7], // travelling → travel, the stem of "travel"
    ['appointments', 8], // appointment → appoint
    ['renewal', 7], // renewal/renewals/renew → renew; the shorter message wins
    ['memmo-alfama', 4], // punctuation splits words
  ])('%j ranks message %i first', async (text, expected) => {
    const results = await search({ text });
    expect(results[0]).toBe(contentOf(expected));
  });

  it('returns only messages sharing a term, best first by dist', async () => {
    const results = await core().memory.search({ sessionId: 'trip', text: 'peanut' });
    expect(results.map((r) => r.message.content)).toEqual([contentOf(5), contentOf(6)]);
    expect(results[0]!.dist).toBeGreaterThan(results[1]!.dist);
    expect(results.every((r) => r.message.sessionId === 'trip' && r.embedding === undefined)).toBe(true);
  });

  it('sums the terms of a query: a message with all of them beats one with a single term', async () => {
    const results = await core().memory.search({ sessionId: 'trip', text: 'quiet river hotel' });
    expect(results.map((r) => r.message.content).slice(0, 2)).toEqual([contentOf(3), contentOf(4)]);
    for (let i = 1; i < results.length; i++) expect(results[i - 1]!.dist).toBeGreaterThanOrEqual(results[i]!.dist);
  });

  it('respects the limit', async () => {
    expect(await search({ text: 'Lisbon', limit: 2 })).toHaveLength(2);
    expect(await search({ text: 'Lisbon' })).toHaveLength(4);
  });

  it('finds nothing for words the session does not contain, or only stop words', async () => {
    expect(await search({ text: 'submarine' })).toEqual([]);
    expect(await search({ text: 'the of and' })).toEqual([]);
  });
});

describe('memory.search filters', () => {
  it('narrows text results by a metadata filter', async () => {
    expect(await search({ text: 'Lisbon', metadata: { 'metadata.topic': 'food' } })).toEqual([contentOf(6)]);
    expect(await search({ text: 'peanuts', metadata: { 'metadata.tags': 'health' } })).toEqual([contentOf(5)]);
  });

  it('lists matches newest first with dist 0 when there is no text', async () => {
    const results = await core().memory.search({ sessionId: 'trip', metadata: { 'metadata.score': { $gte: 4 } } });
    expect(results.map((r) => r.message.content)).toEqual([contentOf(10), contentOf(4), contentOf(3)]);
    expect(results.every((r) => r.dist === 0)).toBe(true);
  });

  it('supports $in, $nin, $ne, $exists, $and and $or', async () => {
    expect(
      await search({ metadata: { 'metadata.topic': { $in: ['weather', 'documents'] }, 'metadata.score': { $exists: true } } }),
    ).toEqual([contentOf(10), contentOf(7)]);
    expect(await search({ metadata: { $or: [{ 'metadata.score': { $lt: 2 } }, { 'metadata.tags': { $in: ['health'] } }] } })).toEqual([
      contentOf(7),
      contentOf(5),
    ]);
    expect(
      await search({
        metadata: { $and: [{ 'metadata.topic': { $ne: 'plans' } }, { 'metadata.topic': { $nin: ['hotel', 'food', 'weather'] } }] },
      }),
    ).toEqual([contentOf(8), contentOf(7)]);
  });

  it('narrows by creation date, inclusive', async () => {
    expect(await search({ text: 'Lisbon', endDate: day(2) })).toEqual([contentOf(2), contentOf(1)]); // the shorter message first
    expect(await search({ startDate: day(9) })).toEqual([contentOf(10), contentOf(9)]);
    expect(await search({ startDate: day(3), endDate: day(4).toISOString() })).toEqual([contentOf(4), contentOf(3)]);
    expect(await search({ text: 'hotel', startDate: day(3), metadata: { 'metadata.score': 5 } })).toEqual([]);
    expect(await search({ text: 'quiet', startDate: day(3), metadata: { 'metadata.score': 5 } })).toEqual([contentOf(4)]);
  });
});

describe('memory.search validation', () => {
  it('rejects an empty query: no text, no filter, no dates', async () => {
    for (const input of [{}, { text: '   ' }, { text: '', metadata: {} }, { text: null, metadata: null }]) {
      await expect(core().memory.search({ sessionId: 'trip', ...input })).rejects.toThrow(ValidationError);
    }
    await expect(core().memory.search({ sessionId: 'trip' })).rejects.toThrow(/empty query/);
  });

  it.each([
    [{ content: 'x' }, /must start with "metadata\."/],
    [{ deletedAt: { $ne: null } }, /must start with "metadata\."/],
    [{ metadata: { topic: 'x' } }, /must start with "metadata\."/],
    [{ $or: [{ sessionId: 'other' }] }, /must start with "metadata\."/],
    [{ 'metadata.topic': { $regex: '^f' } }, /operator \$regex is not allowed/],
    [{ $where: 'true' }, /operator \$where is not allowed/],
    [{ $expr: { $eq: [1, 1] } }, /operator \$expr is not allowed/],
    [{ 'metadata.$topic': 'x' }, /not a metadata path/],
    [{ 'metadata..topic': 'x' }, /not a metadata path/],
    [{ 'metadata.topic ': 'x' }, /must not start or end with whitespace/],
    [{ 'metadata.  topic': 'x' }, /must not start or end with whitespace/],
    [{ 'metadata.a .b': 'x' }, /must not start or end with whitespace/],
    [{ $or: [{ 'metadata.\ta': 1 }] }, /must not start or end with whitespace/],
    [{ 'metadata.a\u0085': 1 }, /must not start or end with whitespace/],
    [{ 'metadata.topic': { $eq: { $gt: 1 } } }, /not allowed inside a value/],
    [{ 'metadata.topic': { $gt: 1, other: 2 } }, /cannot mix/],
    [{ 'metadata.topic': { $in: 'food' } }, /\$in takes an array/],
    [{ 'metadata.topic': { $exists: 1 } }, /\$exists takes true or false/],
    [{ $or: [] }, /non-empty array/],
  ])('rejects the filter %j', async (metadata, message) => {
    const attempt = core().memory.search({ sessionId: 'trip', text: 'Lisbon', metadata });
    await expect(attempt).rejects.toThrow(ValidationError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('rejects bad limits, search types and lambdas', async () => {
    for (const bad of [{ limit: 0 }, { limit: 101 }, { searchType: 'nearest' }, { mmrLambda: 2 }, { startDate: 'yesterday' }]) {
      await expect(core().memory.search({ sessionId: 'trip', text: 'Lisbon', ...(bad as object) })).rejects.toThrow(ValidationError);
    }
  });

  it('is NOT_FOUND for an unknown session', async () => {
    await expect(core().memory.search({ sessionId: 'nope', text: 'Lisbon' })).rejects.toThrow(NotFoundError);
  });
});

describe('memory.search and deletion', () => {
  it('never returns a deleted session', async () => {
    await core().memory.add({ sessionId: 'gone', messages: [{ role: 'user', content: 'Remember the ferry to Cacilhas.' }] });
    expect(await search({ sessionId: 'gone', text: 'ferry' })).toHaveLength(1);
    await core().sessions.delete({ sessionId: 'gone' });
    await expect(core().memory.search({ sessionId: 'gone', text: 'ferry' })).rejects.toThrow(NotFoundError);
    await expect(core().memory.search({ sessionId: 'gone', metadata: { 'metadata.x': 1 } })).rejects.toThrow(NotFoundError);
  });

  it('never returns the deleted messages of a revived session', async () => {
    const old = Array.from({ length: 20 }, (_, i) => ({ role: 'user', content: `zebra sighting number ${i}`, metadata: { old: true } }));
    await core().memory.add({ sessionId: 'revived', messages: old });
    expect(await search({ sessionId: 'revived', text: 'zebra', limit: 100 })).toHaveLength(20);
    await core().sessions.delete({ sessionId: 'revived' });
    // Adding messages revives the session; its old messages stay deleted.
    await core().memory.add({
      sessionId: 'revived',
      messages: [
        { role: 'user', content: 'a new zebra sighting' },
        { role: 'user', content: 'zebras again' },
      ],
    });
    expect(await search({ sessionId: 'revived', text: 'zebra sightings', limit: 100 })).toEqual(['a new zebra sighting', 'zebras again']);
    expect(await search({ sessionId: 'revived', metadata: { 'metadata.old': true } })).toEqual([]);
    expect(await search({ sessionId: 'revived', text: 'zebra', limit: 100 })).toEqual(['zebras again', 'a new zebra sighting']);
  });

  it('skips a single soft-deleted message', async () => {
    const { messages } = await core().memory.add({
      sessionId: 'single',
      messages: [
        { role: 'user', content: 'the heron flew' },
        { role: 'user', content: 'a heron again' },
      ],
    });
    await core().collections.messages.updateOne({ uuid: messages[0]!.uuid }, { $set: { deletedAt: new Date() } });
    core().store.buckets.invalidate('single'); // a write behind core's back: what it holds in memory is stale
    expect(await search({ sessionId: 'single', text: 'heron' })).toEqual(['a heron again']);
  });
});

describe('memory.search scoring', () => {
  it('weighs rare terms above common ones (idf) and prefers shorter messages (length normalisation)', async () => {
    const messages = [
      ...Array.from({ length: 30 }, (_, i) => ({ role: 'user', content: `a common remark, number ${i}` })),
      { role: 'user', content: 'common, common, common words' },
      { role: 'user', content: 'a needle among words' },
      { role: 'user', content: 'a needle lost in a long haystack of many other words' },
    ];
    await core().memory.add({ sessionId: 'scoring', messages });
    expect((await search({ sessionId: 'scoring', text: 'common needle' }))[0]).toBe('a needle among words');
    expect(await search({ sessionId: 'scoring', text: 'needle' })).toEqual([
      'a needle among words',
      'a needle lost in a long haystack of many other words',
    ]);
    expect((await search({ sessionId: 'scoring', text: 'common' }))[0]).toBe('common, common, common words');
    expect(await search({ sessionId: 'scoring', text: 'common', limit: 100 })).toHaveLength(31);
  });

  it("stores each message's terms beside it, not in it, and counts them on the session", async () => {
    const { messages } = await core().memory.add({
      sessionId: 'terms',
      messages: [{ role: 'user', content: "Running, runs & RUN: don't stop!" }],
    });
    const stored = await core().collections.messages.findOne({ uuid: messages[0]!.uuid });
    expect(stored).not.toHaveProperty('terms');
    expect(await core().collections.search.findOne({ _id: stored!._id })).toMatchObject({
      sessionId: 'terms',
      terms: ['run', 'run', 'run', 'dont', 'stop'],
    });
    await core().store.sessions.settleAll(); // a single writer's stored heads lag its appends (store/heads.ts)
    expect(await core().collections.sessions.findOne({ sessionId: 'terms' })).toMatchObject({ termDocs: 1, termLength: 5 });
    expect(await core().memory.message({ sessionId: 'terms', uuid: messages[0]!.uuid })).not.toHaveProperty('terms');
  });
});
