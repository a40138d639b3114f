import { describe, expect, it } from 'vitest';
import { useTestCore } from './test/core';

const core = useTestCore();

describe('purge', () => {
  it('hard-deletes what was soft-deleted past the grace period and nothing else', async () => {
    const c = core();
    await c.users.add({ userId: 'p-user' });
    await c.sessions.add({ sessionId: 'p-owned', userId: 'p-user' });
    await c.memory.add({ sessionId: 'p-owned', messages: [{ role: 'user', content: 'a' }] });
    await c.memory.add({
      sessionId: 'p-dead',
      messages: [
        { role: 'user', content: 'b' },
        { role: 'user', content: 'c' },
      ],
    });
    await c.memory.add({ sessionId: 'p-live', messages: [{ role: 'user', content: 'keep' }] });
    await c.users.delete({ userId: 'p-user' });
    await c.sessions.delete({ sessionId: 'p-dead' });

    expect(await c.purge({ graceMs: 60_000 })).toEqual({ users: 0, sessions: 0, messages: 0, expired: { sessions: 0, messages: 0 } });
    const [first, second] = await Promise.all([c.purge(), c.purge()]);
    expect({
      users: first.users + second.users,
      sessions: first.sessions + second.sessions,
      messages: first.messages + second.messages,
    }).toEqual({ users: 1, sessions: 2, messages: 3 });

    expect(await c.collections.users.countDocuments({})).toBe(0);
    expect((await c.collections.sessions.find({}).toArray()).map((s) => s.sessionId)).toEqual(['p-live']);
    expect((await c.collections.messages.find({}).toArray()).map((m) => m.content)).toEqual(['keep']);

    await c.users.add({ userId: 'p-user' });
    await c.sessions.add({ sessionId: 'p-dead', userId: 'p-user' });
    expect((await c.sessions.get({ sessionId: 'p-dead' })).userId).toBe('p-user');
  });
});
