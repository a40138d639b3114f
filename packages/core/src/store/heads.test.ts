/**
 * Session heads of a single writer (heads.ts): appends advance them in memory, the database catches
 * up later, and a crash in between loses nothing: the next start repairs them from the messages.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type Core, createCore } from '../index';

const dbName = `test_${randomUUID().slice(0, 8)}`;
const cores: Core[] = [];
/** A single writer on this file's database whose heads are written only when asked (or on close). */
async function start(): Promise<Core> {
  const core = createCore({ mongoUri: inject('mongoUri'), dbName, singleWriter: true, flushHeadsMs: 3_600_000 });
  cores.push(core);
  await core.init();
  await core.store.loaded();
  return core;
}
afterAll(async () => {
  await cores.at(-1)?.db.dropDatabase();
  for (const core of cores) await core.client.close();
});

const HEAD = ['lastSeq', 'messageCount', 'termDocs', 'termLength', 'lastMessageAt', 'lastActiveAt', 'updatedAt'] as const;
const headOf = (doc: object | null) => Object.fromEntries(HEAD.map((field) => [field, (doc as Record<string, unknown> | null)?.[field]]));

describe('session heads of a single writer', () => {
  it('are written later, once, and repaired from the messages after a crash', async () => {
    const first = await start();
    await first.memory.add({ sessionId: 'chat', messages: [{ role: 'user', content: 'the first words' }] }); // creates it: written through
    for (let i = 0; i < 40; i++) {
      await first.memory.add({
        sessionId: 'chat',
        messages: [
          { role: 'user', content: `question ${i} about herons` },
          { role: 'assistant', content: `answer ${i}` },
        ],
      });
    }
    const inMemory = headOf(await first.store.sessions.get('chat'));
    expect(inMemory).toMatchObject({ lastSeq: 81, messageCount: 81, termDocs: 81 });
    // The database has the head of the first append only, and a marker saying it lags.
    expect(headOf(await first.collections.sessions.findOne({ sessionId: 'chat' }))).toMatchObject({ lastSeq: 1, messageCount: 1 });
    expect(await first.collections.meta.findOne({ _id: 'head:chat' })).not.toBeNull();

    // A crash: the process goes without writing anything more.
    await first.client.close();
    const second = await start();
    expect(headOf(await second.store.sessions.get('chat'))).toEqual(inMemory);
    expect(headOf(await second.collections.sessions.findOne({ sessionId: 'chat' }))).toEqual(inMemory);
    expect(await second.collections.meta.findOne({ _id: 'head:chat' })).toBeNull();
    // Numbering goes on where it was; search statistics and lists agree.
    const { messages } = await second.memory.add({ sessionId: 'chat', messages: [{ role: 'user', content: 'after the crash' }] });
    expect(messages[0]!.seq).toBe(82);
    expect((await second.memory.list({ sessionId: 'chat', limit: 1 })).total).toBe(82);
    expect((await second.memory.search({ sessionId: 'chat', text: 'heron' })).length).toBeGreaterThan(0);

    // Anything but an append writes the head first; a clean stop writes what lags and drops the marker.
    await second.sessions.update({ sessionId: 'chat', metadata: { topic: 'birds' } });
    expect(headOf(await second.collections.sessions.findOne({ sessionId: 'chat' }))).toEqual(
      headOf(await second.store.sessions.get('chat')),
    );
    await second.memory.add({ sessionId: 'chat', messages: [{ role: 'user', content: 'one more' }] });
    await second.store.sessions.close();
    expect(await second.collections.meta.countDocuments({ _id: { $regex: /^head:/ } })).toBe(0);
    expect((await second.collections.sessions.findOne({ sessionId: 'chat' }))?.lastSeq).toBe(83);
    expect(await second.store.verify()).toEqual([]);
  });
});
