/** memory.searchUser: the search of memory.search across all of a user's live sessions (issue 12). */
import { beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../errors';
import type { SearchUserInput } from '../schemas';
import { useTestCore } from '../test/core';
import { bm25 } from './search';
import { tokenize } from './tokenize';

const core = useTestCore();

const day = (d: number) => new Date(Date.UTC(2024, 4, d, 12));

/** Messages of `sessionId`, created on the given days of May 2024. */
async function add(sessionId: string, messages: { content: string; day: number; metadata?: Record<string, unknown> }[]) {
  await core().memory.add({
    sessionId,
    messages: messages.map(({ content, day: d, metadata }) => ({ role: 'user', content, createdAt: day(d), metadata })),
  });
}

async function searchUser(input: Omit<SearchUserInput, 'userId'> & { userId?: string }) {
  const results = await core().memory.searchUser({ userId: 'ada', ...input });
  return results.map((r) => [r.message.sessionId, r.message.content]);
}

beforeAll(async () => {
  await core().users.add({ userId: 'ada' });
  await core().users.add({ userId: 'bob' });
  for (const sessionId of ['ada-trip', 'ada-pets', 'ada-sea', 'ada-gone']) await core().sessions.add({ sessionId, userId: 'ada' });
  await core().sessions.add({ sessionId: 'bob-trip', userId: 'bob' });
  await add('ada-trip', [
    { content: 'Booking a hotel in Lisbon by the river.', day: 1, metadata: { topic: 'hotel' } },
    { content: 'The flight to Lisbon leaves at noon.', day: 3, metadata: { topic: 'flight' } },
    { content: 'Remind me to pack the passport.', day: 5, metadata: { topic: 'documents' } },
  ]);
  await add('ada-pets', [
    { content: 'My cat Miso hates the hotel for pets.', day: 2, metadata: { topic: 'hotel' } },
    { content: 'Miso needs her vaccination before the trip to Lisbon.', day: 4, metadata: { topic: 'health' } },
  ]);
  // "otter" is in every message of ada-sea, and in one long message of ada-pets.
  await add(
    'ada-sea',
    Array.from({ length: 20 }, (_, i) => ({ content: `otter ${['seen', 'swimming', 'diving', 'resting'][i % 4]}`, day: 10 + (i % 5) })),
  );
  await add('ada-pets', [{ content: 'A stuffed otter toy for Miso, bought at the aquarium gift shop downtown', day: 6 }]);
  await add('ada-gone', [{ content: 'A secret hotel in Lisbon nobody should find.', day: 7, metadata: { topic: 'hotel' } }]);
  await core().sessions.delete({ sessionId: 'ada-gone' });
  // Other users' sessions, and sessions of no user, share the words and must never appear.
  await add('bob-trip', [{ content: 'Bob books a hotel in Lisbon, with an otter.', day: 8, metadata: { topic: 'hotel' } }]);
  await add('nobody', [{ content: 'A hotel in Lisbon for an otter.', day: 9, metadata: { topic: 'hotel' } }]);
});

describe('memory.searchUser', () => {
  it('ranks the messages of all of the user’s sessions together, each naming its session', async () => {
    const results = await core().memory.searchUser({ userId: 'ada', text: 'Lisbon hotel' });
    expect(results.map((r) => [r.message.sessionId, r.message.content])).toEqual([
      ['ada-trip', 'Booking a hotel in Lisbon by the river.'], // both terms
      ['ada-pets', 'My cat Miso hates the hotel for pets.'],
      ['ada-trip', 'The flight to Lisbon leaves at noon.'],
      ['ada-pets', 'Miso needs her vaccination before the trip to Lisbon.'],
    ]);
    for (let i = 1; i < results.length; i++) expect(results[i - 1]!.dist).toBeGreaterThanOrEqual(results[i]!.dist);
    expect(results.every((r) => r.dist > 0 && r.embedding === undefined)).toBe(true);
    expect(await searchUser({ text: 'Lisbon hotel', limit: 2 })).toHaveLength(2);
    expect(await searchUser({ text: 'submarine' })).toEqual([]);
  });

  it('scores BM25 over the union of the sessions, not per session', async () => {
    // Within ada-pets, "otter" is rare (1 of 3 messages): its one long message scores high there.
    const inPets = await core().memory.search({ sessionId: 'ada-pets', text: 'otter' });
    expect(inPets.map((r) => r.message.content)).toEqual(['A stuffed otter toy for Miso, bought at the aquarium gift shop downtown']);
    // Across the user's sessions "otter" is common (21 of 26 messages): the long message weighs less
    // and ranks below every short one of ada-sea, where per-session scores would have put it first.
    const results = await core().memory.searchUser({ userId: 'ada', text: 'otter', limit: 100 });
    expect(results).toHaveLength(21);
    expect(results.at(-1)!.message.sessionId).toBe('ada-pets');
    expect(results.slice(0, 20).every((r) => r.message.sessionId === 'ada-sea')).toBe(true);
    expect(results.at(-1)!.dist).toBeLessThan(inPets[0]!.dist / 4);

    // Exactly BM25 with N and avgdl summed over the user's live sessions and df counted over all of them.
    await core().store.sessions.settleAll(); // a single writer's stored heads lag its appends (store/heads.ts)
    const sessions = await core().collections.sessions.find({ userId: 'ada', deletedAt: null }).toArray();
    const stats = { termDocs: 0, termLength: 0 };
    for (const s of sessions) {
      stats.termDocs += s.termDocs ?? 0;
      stats.termLength += s.termLength ?? 0;
    }
    expect(stats.termDocs).toBe(26);
    const ids = new Set(results.map((r) => r.message.uuid));
    const docs = await core()
      .collections.messages.find({ sessionId: { $in: sessions.map((s) => s.sessionId) } })
      .toArray();
    const candidates = docs.filter((d) => ids.has(d.uuid)).map((d) => ({ uuid: d.uuid, terms: tokenize(d.content) }));
    const scores = bm25(candidates, ['otter'], stats);
    const expected = new Map(candidates.map((c, i) => [c.uuid, scores[i]!]));
    for (const r of results) expect(r.dist).toBeCloseTo(expected.get(r.message.uuid)!, 10);
  });

  it('filters by metadata and dates across sessions; without text, newest first', async () => {
    expect(await searchUser({ text: 'Lisbon', metadata: { 'metadata.topic': 'hotel' } })).toEqual([
      ['ada-trip', 'Booking a hotel in Lisbon by the river.'],
    ]);
    expect(await searchUser({ metadata: { 'metadata.topic': { $in: ['hotel', 'health', 'flight'] } } })).toEqual([
      ['ada-pets', 'Miso needs her vaccination before the trip to Lisbon.'], // May 4
      ['ada-trip', 'The flight to Lisbon leaves at noon.'], // May 3
      ['ada-pets', 'My cat Miso hates the hotel for pets.'], // May 2
      ['ada-trip', 'Booking a hotel in Lisbon by the river.'], // May 1
    ]);
    expect(await searchUser({ startDate: day(2), endDate: day(5).toISOString(), limit: 3 })).toEqual([
      ['ada-trip', 'Remind me to pack the passport.'],
      ['ada-pets', 'Miso needs her vaccination before the trip to Lisbon.'],
      ['ada-trip', 'The flight to Lisbon leaves at noon.'],
    ]);
    expect(await searchUser({ text: 'Lisbon', endDate: day(3) })).toEqual([
      ['ada-trip', 'The flight to Lisbon leaves at noon.'],
      ['ada-trip', 'Booking a hotel in Lisbon by the river.'],
    ]);
    const results = await core().memory.searchUser({ userId: 'ada', metadata: { 'metadata.topic': 'hotel' } });
    expect(results.every((r) => r.dist === 0)).toBe(true);
  });

  it('never returns deleted sessions, other users’ sessions or sessions of no user', async () => {
    const all = await searchUser({ text: 'hotel Lisbon otter secret Bob', limit: 100 });
    expect(new Set(all.map(([sessionId]) => sessionId))).toEqual(new Set(['ada-trip', 'ada-pets', 'ada-sea']));
    expect(await searchUser({ text: 'secret' })).toEqual([]);
    expect(await searchUser({ startDate: day(7), endDate: day(9) })).toEqual([]);
    expect(await searchUser({ userId: 'bob', text: 'hotel' })).toEqual([['bob-trip', 'Bob books a hotel in Lisbon, with an otter.']]);
  });

  it('follows deletions: a session deleted later drops out', async () => {
    await core().users.add({ userId: 'cy' });
    await core().sessions.add({ sessionId: 'cy-1', userId: 'cy' });
    await core().sessions.add({ sessionId: 'cy-2', userId: 'cy' });
    await add('cy-1', [{ content: 'heron by the lake', day: 1 }]);
    await add('cy-2', [{ content: 'a heron again', day: 2 }]);
    expect(await searchUser({ userId: 'cy', text: 'heron' })).toHaveLength(2);
    await core().sessions.delete({ sessionId: 'cy-2' });
    expect(await searchUser({ userId: 'cy', text: 'heron' })).toEqual([['cy-1', 'heron by the lake']]);
  });

  it('finds nothing for a user without sessions; NOT_FOUND for an unknown or deleted user', async () => {
    await core().users.add({ userId: 'empty' });
    expect(await searchUser({ userId: 'empty', text: 'hotel' })).toEqual([]);
    await expect(core().memory.searchUser({ userId: 'nobody-here', text: 'hotel' })).rejects.toThrow(NotFoundError);
    await core().users.add({ userId: 'leaving' });
    await core().sessions.add({ sessionId: 'leaving-1', userId: 'leaving' });
    await add('leaving-1', [{ content: 'hotel', day: 1 }]);
    await core().users.delete({ userId: 'leaving' });
    await expect(core().memory.searchUser({ userId: 'leaving', text: 'hotel' })).rejects.toThrow(NotFoundError);
  });

  it('validates as session search does', async () => {
    await expect(core().memory.searchUser({ userId: 'ada' })).rejects.toThrow(/empty query/);
    for (const bad of [
      { text: '  ' },
      { text: 'x', limit: 0 },
      { text: 'x', metadata: { owner: 'x' } },
      { text: 'x', mmrLambda: 2 },
      { userId: '' },
    ]) {
      await expect(core().memory.searchUser({ userId: 'ada', ...(bad as object) })).rejects.toThrow(ValidationError);
    }
  });

  it('re-ranks by MMR across sessions', async () => {
    const sessionsOf = async (input: Omit<SearchUserInput, 'userId'>) => (await searchUser(input)).map(([sessionId]) => sessionId);
    // By relevance, the three messages about Miso (rare in the union) come first, all of ada-pets;
    // favouring diversity brings in a message of ada-sea, unlike the first.
    expect(await sessionsOf({ text: 'otter Miso', limit: 3 })).toEqual(['ada-pets', 'ada-pets', 'ada-pets']);
    const diverse = await sessionsOf({ text: 'otter Miso', limit: 3, searchType: 'mmr', mmrLambda: 0.1 });
    expect(diverse[0]).toBe('ada-pets');
    expect(diverse).toContain('ada-sea');
  });
});
