import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useTestCore } from './test/core';

const core = useTestCore();

describe('init', () => {
  it('is idempotent, as every server start runs it on an existing database', async () => {
    await core().sessions.add({ sessionId: 'before-restart' });
    await core().init();
    await core().init();
    expect((await core().sessions.get({ sessionId: 'before-restart' })).sessionId).toBe('before-restart');
    const names = (await core().collections.messages.indexes()).map((i) => i.name);
    expect(names).toEqual(expect.arrayContaining(['messages_id', 'messages_session_seq', 'messages_bucket']));
    expect(names).not.toContain('messages_session_live'); // retired
    expect(names).not.toContain('messages_uuid'); // retired: ids are unique per session
  });
});

describe('migrations', () => {
  it('bring documents of an earlier Mnemo up to date once: live flags, list places, message buckets', async () => {
    const c = core();
    const at = new Date('2026-01-01T00:00:00Z');
    const lifecycle = { metadata: {}, createdAt: at, updatedAt: at };
    // Documents as the first Mnemo stored them, in a database whose schema record is gone.
    await c.db.collection('users').insertOne({ uuid: randomUUID(), userId: 'old-user', ...lifecycle, deletedAt: null });
    await c.db.collection('sessions').insertMany([
      { uuid: randomUUID(), sessionId: 'old', userId: 'old-user', lastSeq: 70, ...lifecycle, deletedAt: null },
      { uuid: randomUUID(), sessionId: 'old-gone', userId: null, lastSeq: 0, ...lifecycle, deletedAt: at },
    ]);
    await c.db.collection('messages').insertMany(
      Array.from({ length: 70 }, (_, i) => ({
        uuid: randomUUID(),
        sessionId: 'old',
        seq: i + 1,
        role: 'user',
        content: `m${i + 1}`,
        tokenCount: 1,
        ...lifecycle,
        deletedAt: null,
        ...(i === 7 && { content: 'a lighthouse', terms: ['lighthous'] }), // search terms were kept on the message
      })),
    );
    await c.collections.meta.deleteOne({ _id: 'schema' });

    await c.init();
    expect((await c.collections.meta.findOne({ _id: 'schema' }))?.version).toBe(7);
    expect((await c.users.list({ limit: 100 })).items.map((u) => u.userId)).toContain('old-user');
    const sessionIds = (await c.sessions.list({ limit: 100 })).items.map((s) => s.sessionId);
    expect(sessionIds).toContain('old');
    expect(sessionIds).not.toContain('old-gone');
    // Its last update stands in for its activity.
    expect(await c.sessions.get({ sessionId: 'old' })).toMatchObject({ lastActiveAt: at, lastMessageAt: at, messageCount: 70 });
    expect((await c.collections.sessions.findOne({ sessionId: 'old' }))?.oldestMessageAt).toEqual(at); // for retention
    const { messages } = await c.memory.get({ sessionId: 'old', lastn: 40 }); // spans two buckets
    expect(messages.map((m) => m.content)).toEqual(Array.from({ length: 40 }, (_, i) => `m${i + 31}`));
    expect((await c.memory.search({ sessionId: 'old', text: 'lighthouses' })).map((r) => r.message.seq)).toEqual([8]);
    expect(await c.collections.messages.findOne({ sessionId: 'old', seq: 8 })).not.toHaveProperty('terms');
    // New messages continue the old session; a second init changes nothing.
    await c.memory.add({ sessionId: 'old', messages: [{ role: 'user', content: 'm71' }] });
    await c.init();
    const page = await c.memory.list({ sessionId: 'old', limit: 100 });
    expect(page.items.map((m) => m.seq)).toEqual(Array.from({ length: 71 }, (_, i) => i + 1));
    expect(page.total).toBe(71);
  });
});
