/** Forgetting a user now, and retention (issue 12), against the real database; time from an injected clock. */
import { describe, expect, it } from 'vitest';
import { NotFoundError } from './errors';
import { useTestCore } from './test/core';

const DAY = 24 * 60 * 60 * 1000;
let clock = new Date();
const core = useTestCore({ retentionDays: 30, now: () => clock });
const daysAgo = (n: number) => new Date(clock.getTime() - n * DAY);
const contents = async (sessionId: string) => (await core().memory.get({ sessionId, lastn: 100 })).messages.map((m) => m.content);

describe('forgetting a user', () => {
  it('hard-deletes the user, their sessions (deleted ones too), messages and search documents at once, and says what went', async () => {
    const c = core();
    await c.users.add({ userId: 'ada' });
    await c.users.add({ userId: 'bob' });
    await c.sessions.add({ sessionId: 'ada-1', userId: 'ada' });
    await c.sessions.add({ sessionId: 'ada-2', userId: 'ada' });
    await c.sessions.add({ sessionId: 'bob-1', userId: 'bob' });
    await c.memory.add({
      sessionId: 'ada-1',
      messages: [
        { role: 'user', content: 'my secret' },
        { role: 'assistant', content: 'noted' },
      ],
    });
    await c.memory.add({ sessionId: 'ada-2', messages: [{ role: 'user', content: 'old chat' }] });
    await c.memory.add({ sessionId: 'bob-1', messages: [{ role: 'user', content: 'bob stays' }] });
    await c.sessions.delete({ sessionId: 'ada-2' }); // soft-deleted: still stored until a purge

    expect(await c.users.forget({ userId: 'ada' })).toEqual({ users: 1, sessions: 2, messages: 3, searchDocuments: 3, summaries: 0 });
    for (const sessionId of ['ada-1', 'ada-2']) {
      expect(await c.collections.messages.countDocuments({ sessionId })).toBe(0);
      expect(await c.collections.search.countDocuments({ sessionId })).toBe(0);
      expect(await c.collections.sessions.countDocuments({ sessionId })).toBe(0);
    }
    expect(await c.collections.users.countDocuments({ userId: 'ada' })).toBe(0);
    expect(await contents('bob-1')).toEqual(['bob stays']);
    await expect(c.users.forget({ userId: 'ada' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('leaves nothing of writes queued before it, even fired in the same instant', async () => {
    const c = core();
    await c.users.add({ userId: 'cy' });
    await c.sessions.add({ sessionId: 'cy-1', userId: 'cy' });
    const writes = [
      ...Array.from({ length: 5 }, (_, i) => c.memory.add({ sessionId: 'cy-1', messages: [{ role: 'user', content: `racing ${i}` }] })),
      c.sessions.add({ sessionId: 'cy-2', userId: 'cy' }),
    ];
    const forgotten = c.users.forget({ userId: 'cy' });
    await Promise.all(writes);
    expect(await forgotten).toEqual({ users: 1, sessions: 2, messages: 5, searchDocuments: 5, summaries: 0 });
    expect(await c.collections.messages.countDocuments({ sessionId: 'cy-1' })).toBe(0);
    expect(await c.collections.sessions.countDocuments({ userId: 'cy' })).toBe(0);
  });
});

describe('retention', () => {
  it('soft-deletes old messages and inactive sessions at the next purge run, per session or by default', async () => {
    const c = core();
    clock = new Date();
    // Active now, with messages imported from 40 and 10 days ago.
    await c.memory.add({
      sessionId: 'active',
      messages: [
        { role: 'user', content: 'forty days ago', createdAt: daysAgo(40) },
        { role: 'user', content: 'ten days ago', createdAt: daysAgo(10) },
        { role: 'user', content: 'today' },
      ],
    });
    // Inactive for 40 days: gone whole. With its own longer retention: kept. With its own 1 day: old messages go.
    await c.memory.add({ sessionId: 'idle', messages: [{ role: 'user', content: 'long ago', createdAt: daysAgo(40) }] });
    await c.sessions.add({ sessionId: 'kept-long', retentionDays: 365 });
    await c.memory.add({ sessionId: 'kept-long', messages: [{ role: 'user', content: 'kept', createdAt: daysAgo(40) }] });
    for (const sessionId of ['idle', 'kept-long'])
      await c.collections.sessions.updateOne({ sessionId }, { $set: { lastActiveAt: daysAgo(40) } });
    await c.store.sessions.reload(['idle', 'kept-long']); // written behind core's back
    await c.sessions.add({ sessionId: 'short', retentionDays: 1 });
    await c.memory.add({
      sessionId: 'short',
      messages: [
        { role: 'user', content: 'yesterday-ish', createdAt: daysAgo(2) },
        { role: 'user', content: 'now' },
      ],
    });

    const run = await c.purge({ graceMs: DAY });
    expect(run.expired).toEqual({ sessions: 1, messages: 2 });
    expect(run.messages).toBe(0); // soft-deleted now, hard-deleted after the grace period
    expect(await contents('active')).toEqual(['ten days ago', 'today']);
    expect((await c.memory.list({ sessionId: 'active' })).total).toBe(2);
    await expect(c.sessions.get({ sessionId: 'idle' })).rejects.toBeInstanceOf(NotFoundError);
    expect(await contents('kept-long')).toEqual(['kept']);
    expect(await contents('short')).toEqual(['now']);
    expect(await c.memory.search({ sessionId: 'active', text: 'forty' })).toEqual([]);

    // A day and a bit later: what expired is purged for good; "short" has now been idle past its one day.
    clock = new Date(clock.getTime() + DAY + 1000);
    const later = await c.purge({ graceMs: DAY });
    expect(later).toMatchObject({ sessions: 1, messages: 3, expired: { sessions: 1, messages: 0 } });
    expect(await c.collections.messages.countDocuments({ sessionId: 'idle' })).toBe(0);
    expect(await contents('active')).toEqual(['ten days ago', 'today']);

    // Three weeks on, "ten days ago" is past 30 days; the session itself was active 22 days ago.
    clock = new Date(clock.getTime() + 21 * DAY);
    expect((await c.purge({ graceMs: DAY })).expired).toEqual({ sessions: 0, messages: 1 });
    expect(await contents('active')).toEqual(['today']);
  });

  it('expires an old message wherever it is in the session, and records the oldest one left for the next run', async () => {
    const c = core();
    clock = new Date();
    // 40 current messages (more than a bucket), then one dated 60 days back (an import keeps old dates).
    await c.memory.add({ sessionId: 'late-old', messages: Array.from({ length: 40 }, (_, i) => ({ role: 'user', content: `now ${i}` })) });
    await c.memory.add({ sessionId: 'late-old', messages: [{ role: 'user', content: 'sixty days ago', createdAt: daysAgo(60) }] });
    expect((await c.purge()).expired.messages).toBe(1);
    expect(await contents('late-old')).toEqual(Array.from({ length: 40 }, (_, i) => `now ${i}`));
    expect((await c.memory.list({ sessionId: 'late-old' })).total).toBe(40);
    // The oldest message left: the next run compares it with its cutoff instead of reading the session's messages.
    const [first] = (await c.memory.list({ sessionId: 'late-old', limit: 1 })).items;
    await c.store.sessions.settleAll(); // a single writer's stored heads lag its appends (store/heads.ts)
    expect((await c.collections.sessions.findOne({ sessionId: 'late-old' }))?.oldestMessageAt).toEqual(first!.createdAt);
    expect((await c.purge()).expired.messages).toBe(0);
  });

  it('a session’s retention can be changed and cleared (null: the server’s default)', async () => {
    const c = core();
    expect((await c.sessions.add({ sessionId: 'r', retentionDays: 7 })).retentionDays).toBe(7);
    expect((await c.sessions.update({ sessionId: 'r', retentionDays: 90 })).retentionDays).toBe(90);
    expect((await c.sessions.update({ sessionId: 'r', retentionDays: null })).retentionDays).toBeNull();
    await expect(c.sessions.update({ sessionId: 'r', retentionDays: 0 })).rejects.toThrow(/retentionDays/);
  });
});
