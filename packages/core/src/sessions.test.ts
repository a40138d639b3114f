import { describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from './errors';
import { useTestCore } from './test/core';

const core = useTestCore();
const text = (role: string, content: string) => ({ role, content });

describe('sessions', () => {
  it('adds a session with a user and metadata, and gets it back', async () => {
    await core().users.add({ userId: 'owner' });
    const session = await core().sessions.add({ sessionId: 'with-user', userId: 'owner', metadata: { foo: 'bar' } });
    expect(session).toMatchObject({ sessionId: 'with-user', userId: 'owner', metadata: { foo: 'bar' } });
    expect(await core().sessions.get({ sessionId: 'with-user' })).toEqual(session);
  });

  it('refuses an id that exists, live or soft-deleted', async () => {
    await core().sessions.add({ sessionId: 'taken' });
    await expect(core().sessions.add({ sessionId: 'taken' })).rejects.toBeInstanceOf(ConflictError);
    await core().sessions.delete({ sessionId: 'taken' });
    await expect(core().sessions.add({ sessionId: 'taken' })).rejects.toBeInstanceOf(ConflictError);
  });

  it('refuses an unknown or deleted user', async () => {
    await expect(core().sessions.add({ sessionId: 'orphan', userId: 'nobody' })).rejects.toBeInstanceOf(NotFoundError);
    await core().users.add({ userId: 'gone' });
    await core().users.delete({ userId: 'gone' });
    await expect(core().sessions.add({ sessionId: 'orphan', userId: 'gone' })).rejects.toBeInstanceOf(NotFoundError);
    expect(await core().collections.sessions.countDocuments({ sessionId: 'orphan' })).toBe(0);
  });

  it('soft-deletes a session and its messages; reads skip them; memory and updates undelete it', async () => {
    const c = core();
    await c.memory.add({ sessionId: 'del', messages: [text('user', 'old 1'), text('assistant', 'old 2')] });
    await c.sessions.delete({ sessionId: 'del' });

    const doc = await c.collections.sessions.findOne({ sessionId: 'del' });
    expect(doc?.deletedAt).toBeInstanceOf(Date);
    const messages = await c.collections.messages.find({ sessionId: 'del' }).toArray();
    expect(messages).toHaveLength(2);
    expect(messages.every((m) => m.deletedAt instanceof Date)).toBe(true);

    await expect(c.sessions.get({ sessionId: 'del' })).rejects.toBeInstanceOf(NotFoundError);
    expect((await c.memory.get({ sessionId: 'del' })).messages).toEqual([]);
    expect((await c.memory.list({ sessionId: 'del' })).items).toEqual([]);
    await expect(c.memory.message({ sessionId: 'del', uuid: messages[0]!.uuid })).rejects.toBeInstanceOf(NotFoundError);
    await expect(c.sessions.delete({ sessionId: 'del' })).rejects.toBeInstanceOf(NotFoundError);
    expect((await c.sessions.list({ limit: 100 })).items.map((s) => s.sessionId)).not.toContain('del');

    await c.memory.add({ sessionId: 'del', messages: [text('user', 'new')] });
    expect((await c.sessions.get({ sessionId: 'del' })).sessionId).toBe('del');
    const memory = await c.memory.get({ sessionId: 'del' });
    expect(memory.messages.map((m) => [m.content, m.seq])).toEqual([['new', 3]]);

    await c.sessions.delete({ sessionId: 'del' });
    const revived = await c.sessions.update({ sessionId: 'del', metadata: { back: true } });
    expect(revived.metadata).toEqual({ back: true });
    expect((await c.memory.get({ sessionId: 'del' })).messages).toEqual([]);
  });

  it('updating an unknown session is NOT_FOUND', async () => {
    await expect(core().sessions.update({ sessionId: 'never', metadata: { a: 1 } })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('users', () => {
  it('adds, gets, updates profile fields and lists users', async () => {
    const user = await core().users.add({ userId: 'ada', email: 'ada@example.com', firstName: 'Ada', metadata: { a: 1 } });
    expect(user).toMatchObject({ userId: 'ada', email: 'ada@example.com', firstName: 'Ada', metadata: { a: 1 } });
    expect(user).not.toHaveProperty('lastName');
    const doc = await core().collections.users.findOne({ userId: 'ada' });
    expect(doc).not.toHaveProperty('lastName'); // absent fields are not written as null
    const updated = await core().users.update({ userId: 'ada', lastName: 'Lovelace', metadata: { b: 2 } });
    expect(updated).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', metadata: { a: 1, b: 2 } });
    await expect(core().users.add({ userId: 'ada' })).rejects.toBeInstanceOf(ConflictError);
    expect((await core().users.list()).items.map((u) => u.userId)).toContain('ada');
  });

  it('leaves no live session to a user deleted while sessions were being added for it', async () => {
    const c = core();
    await c.users.add({ userId: 'racing' });
    const adds = Array.from({ length: 30 }, (_, i) =>
      c.sessions.add({ sessionId: `race-${i}`, userId: 'racing' }).then(
        () => 'added',
        (e: Error) => e.name,
      ),
    );
    await c.users.delete({ userId: 'racing' });
    const outcomes = await Promise.all(adds);
    expect(outcomes.every((o) => o === 'added' || o === 'NotFoundError')).toBe(true);
    expect(await c.collections.sessions.countDocuments({ userId: 'racing', deletedAt: null })).toBe(0);
  });

  it('cascades a delete to its sessions and their messages, and the id can be added again', async () => {
    const c = core();
    await c.users.add({ userId: 'cascade', metadata: { old: true } });
    await c.sessions.add({ sessionId: 'c1', userId: 'cascade' });
    await c.sessions.add({ sessionId: 'c2', userId: 'cascade' });
    await c.memory.add({ sessionId: 'c1', messages: [text('user', 'm1'), text('user', 'm2')] });
    await c.sessions.add({ sessionId: 'not-theirs' });
    expect((await c.users.sessions({ userId: 'cascade' })).items.map((s) => s.sessionId)).toEqual(['c1', 'c2']);

    await c.users.delete({ userId: 'cascade' });
    expect((await c.collections.users.findOne({ userId: 'cascade' }))?.deletedAt).toBeInstanceOf(Date);
    const sessions = await c.collections.sessions.find({ userId: 'cascade' }).sort({ sessionId: 1 }).toArray();
    expect(sessions.map((s) => [s.sessionId, s.deletedAt instanceof Date])).toEqual([
      ['c1', true],
      ['c2', true],
    ]);
    const messages = await c.collections.messages.find({ sessionId: 'c1' }).toArray();
    expect(messages.map((m) => m.deletedAt instanceof Date)).toEqual([true, true]);
    expect((await c.sessions.get({ sessionId: 'not-theirs' })).sessionId).toBe('not-theirs');
    await expect(c.users.get({ userId: 'cascade' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(c.users.sessions({ userId: 'cascade' })).rejects.toBeInstanceOf(NotFoundError);

    const again = await c.users.add({ userId: 'cascade' });
    expect(again.metadata).toEqual({});
    expect((await c.users.get({ userId: 'cascade' })).uuid).toBe(again.uuid);
    expect((await c.users.sessions({ userId: 'cascade' })).items).toEqual([]);
  });
});
