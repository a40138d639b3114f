/**
 * A single writer reads its sessions into memory in the background after start-up (sessions.ts):
 * meanwhile queries answer, and what is written meanwhile is what memory ends up holding.
 */
import { randomUUID } from 'node:crypto';
import { ObjectId } from 'mongodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { bucketOf, type SessionDoc } from '../db';
import { type Core, createCore } from '../index';

const dbName = `test_${randomUUID().slice(0, 8)}`;
const cores: Core[] = [];
afterAll(async () => {
  await cores[0]?.db.dropDatabase();
  for (const core of cores) await core.close();
});

describe('a single writer reading its sessions after start-up', () => {
  it('answers from the database meanwhile and keeps what was written meanwhile', async () => {
    const seed = createCore({ mongoUri: inject('mongoUri'), dbName });
    cores.push(seed);
    await seed.init();
    const now = new Date();
    const docs: SessionDoc[] = Array.from({ length: 3000 }, (_, i) => ({
      _id: new ObjectId(),
      uuid: randomUUID(),
      sessionId: `s-${i}`,
      userId: null,
      metadata: { n: i },
      lastSeq: 0,
      messageCount: 0,
      createdAt: now,
      updatedAt: now,
      lastMessageAt: null,
      lastActiveAt: now,
      listNo: i + 1,
      listBucket: bucketOf(i + 1),
      deletedAt: null,
      live: true,
    }));
    await seed.collections.sessions.insertMany(docs);
    await seed.collections.meta.updateOne({ _id: 'sessions' }, { $set: { last: docs.length } }, { upsert: true }); // their list numbers are taken

    const core = createCore({ mongoUri: inject('mongoUri'), dbName, singleWriter: true });
    cores.push(core);
    await core.init(); // returns before the sessions are all in memory
    const writes = Promise.all([
      core.memory.add({ sessionId: 's-2999', messages: [{ role: 'user', content: 'late in the list' }] }),
      core.sessions.update({ sessionId: 's-1500', metadata: { touched: true } }),
      core.sessions.delete({ sessionId: 's-10' }),
      core.sessions.add({ sessionId: 'new-one' }),
    ]);
    expect((await core.sessions.get({ sessionId: 's-2000' })).metadata).toEqual({ n: 2000 });
    expect((await core.sessions.list({ limit: 2 })).items.map((s) => s.sessionId)).toEqual(['s-0', 's-1']);
    await writes;
    await core.store.loaded();
    expect(await core.store.verify()).toEqual([]);
    expect((await core.sessions.get({ sessionId: 's-1500' })).metadata).toEqual({ n: 1500, touched: true });
    expect((await core.sessions.get({ sessionId: 's-2999' })).messageCount).toBe(1);
    await expect(core.sessions.get({ sessionId: 's-10' })).rejects.toThrow(/not found/);
    // The two sessions active since start lead the activity list (in either order: they were written at once).
    expect((await core.sessions.list({ sort: 'activity', limit: 2 })).items.map((s) => s.sessionId).sort()).toEqual(['new-one', 's-2999']);
    expect((await core.sessions.list({ limit: 1, withTotal: true })).total).toBe(3000);
  });
});
