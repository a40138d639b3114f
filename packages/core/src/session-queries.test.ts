/** Session lists: filters, sorts, keyset cursors under concurrent change, totals and previews (issue 12). */
import { beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from './errors';
import type { ListSessionsInput, SessionPage } from './schemas';
import { useTestCore } from './test/core';

const core = useTestCore();
const ids = (page: SessionPage) => page.items.map((s) => s.sessionId);
const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

/** Every session id of a list, page by page. */
async function all(input: ListSessionsInput): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const page: SessionPage = await core().sessions.list({ ...input, cursor });
    out.push(...ids(page));
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

let t1: Date;
beforeAll(async () => {
  const c = core();
  await c.users.add({ userId: 'ada' });
  await c.users.add({ userId: 'bob' });
  // a1..a5 for ada (a3 tagged work), b1 for bob, n1 without a user; created in this order, a few ms apart.
  for (const [sessionId, userId, metadata] of [
    ['a1', 'ada', { topic: 'tea' }],
    ['a2', 'ada', { topic: 'tea', n: 2 }],
    ['a3', 'ada', { topic: 'work', n: 3 }],
    ['a4', 'ada', {}],
    ['b1', 'bob', { topic: 'tea' }],
    ['n1', null, {}],
    ['a5', 'ada', { topic: 'work', n: 5 }],
  ] as const) {
    await c.sessions.add({ sessionId, userId, metadata });
    await pause();
    if (sessionId === 'a3') {
      t1 = new Date();
      await pause();
    }
  }
  // Activity: a2 then a1 get messages (a1 most recently).
  await c.memory.add({ sessionId: 'a2', messages: [{ role: 'user', content: 'second chat' }] });
  await pause();
  await c.memory.add({
    sessionId: 'a1',
    messages: [
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'latest words' },
    ],
  });
});

describe('session lists', () => {
  it('by creation, either order, all or one user’s', async () => {
    expect(await all({ limit: 2 })).toEqual(['a1', 'a2', 'a3', 'a4', 'b1', 'n1', 'a5']);
    expect(await all({ limit: 2, order: 'desc' })).toEqual(['a5', 'n1', 'b1', 'a4', 'a3', 'a2', 'a1']);
    expect(await all({ userId: 'ada', limit: 2 })).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
    expect(await all({ userId: 'ada', limit: 3, order: 'desc' })).toEqual(['a5', 'a4', 'a3', 'a2', 'a1']);
    expect(await core().users.sessions({ userId: 'bob' })).toMatchObject({ items: [{ sessionId: 'b1' }], nextCursor: null });
  });

  it('by last activity (creation or last message), most recent first by default', async () => {
    expect(await all({ userId: 'ada', sort: 'activity', limit: 2 })).toEqual(['a1', 'a2', 'a5', 'a4', 'a3']);
    expect(await all({ userId: 'ada', sort: 'activity', order: 'asc', limit: 2 })).toEqual(['a3', 'a4', 'a5', 'a2', 'a1']);
    const [a1] = (await core().sessions.list({ userId: 'ada', sort: 'activity', limit: 1 })).items;
    expect(a1).toMatchObject({ sessionId: 'a1', messageCount: 2 });
    expect(a1!.lastMessageAt).toBeInstanceOf(Date);
    expect(a1!.lastActiveAt).toEqual(a1!.lastMessageAt);
  });

  it('filter by metadata (the search filter language) and by creation and update dates', async () => {
    expect(await all({ metadata: { 'metadata.topic': 'tea' } })).toEqual(['a1', 'a2', 'b1']);
    expect(await all({ userId: 'ada', metadata: { $or: [{ 'metadata.n': { $gte: 3 } }, { 'metadata.topic': 'tea' }] }, limit: 1 })).toEqual(
      ['a1', 'a2', 'a3', 'a5'],
    );
    expect(await all({ userId: 'ada', createdBefore: t1 })).toEqual(['a1', 'a2', 'a3']);
    expect(await all({ userId: 'ada', createdAfter: t1, sort: 'activity' })).toEqual(['a5', 'a4']);
    const updated = await core().sessions.update({ sessionId: 'a4', metadata: { touched: true } });
    expect(await all({ updatedAfter: updated.updatedAt })).toEqual(['a4']);
    await expect(core().sessions.list({ metadata: { topic: 'tea' } as never })).rejects.toBeInstanceOf(ValidationError);
  });

  it('count the matches and carry each session’s last message on request', async () => {
    const page = await core().sessions.list({ userId: 'ada', sort: 'activity', limit: 2, withTotal: true, withLastMessage: true });
    expect(page.total).toBe(5);
    expect(page.items.map((s) => [s.sessionId, s.lastMessage?.content ?? null])).toEqual([
      ['a1', 'latest words'],
      ['a2', 'second chat'],
    ]);
    const quiet = await core().sessions.list({ userId: 'ada', sort: 'created', order: 'desc', limit: 1, withLastMessage: true });
    expect(quiet.items[0]).toMatchObject({ sessionId: 'a5', lastMessage: null });
    expect((await core().sessions.list({ metadata: { 'metadata.topic': 'work' }, withTotal: true })).total).toBe(2);
    expect(await core().sessions.list({ limit: 1 })).not.toHaveProperty('total');
  });

  it('keep keyset cursors correct while sessions are added, deleted and re-sorted by new activity', async () => {
    const c = core();
    await c.users.add({ userId: 'cy' });
    for (const s of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']) {
      await c.sessions.add({ sessionId: s, userId: 'cy' });
      await pause();
    }
    const first = await c.sessions.list({ userId: 'cy', sort: 'activity', limit: 2 });
    expect(ids(first)).toEqual(['c6', 'c5']);
    // Meanwhile: c2 gets a message (jumps to the top), c4 is deleted, c7 is created.
    await c.memory.add({ sessionId: 'c2', messages: [{ role: 'user', content: 'back again' }] });
    await c.sessions.delete({ sessionId: 'c4' });
    await c.sessions.add({ sessionId: 'c7', userId: 'cy' });
    const rest: string[] = [];
    for (let cursor = first.nextCursor; cursor; ) {
      const page: SessionPage = await c.sessions.list({ userId: 'cy', sort: 'activity', limit: 2, cursor });
      rest.push(...ids(page));
      cursor = page.nextCursor;
    }
    // No session seen twice, none skipped among those whose activity did not change; the moved ones are on page one now.
    expect(rest).toEqual(['c3', 'c1']);
    expect(await all({ userId: 'cy', sort: 'activity' })).toEqual(['c7', 'c2', 'c6', 'c5', 'c3', 'c1']);
  });

  it('refuse a cursor of another list and an unknown user', async () => {
    const byCreation = await core().sessions.list({ userId: 'ada', limit: 1 });
    await expect(core().sessions.list({ userId: 'ada', sort: 'activity', cursor: byCreation.nextCursor })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(core().sessions.list({ userId: 'ada', cursor: 'garbage' })).rejects.toBeInstanceOf(ValidationError);
    await expect(core().users.sessions({ userId: 'nobody' })).rejects.toBeInstanceOf(NotFoundError);
    expect((await core().sessions.list({ userId: 'nobody' })).items).toEqual([]);
  });
});
