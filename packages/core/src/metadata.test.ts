import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors';
import { mergeMetadata } from './metadata';
import { useTestCore } from './test/core';

const core = useTestCore();

const stored = { a: { b: 1, c: { d: 2 } }, list: [1, 2], scalar: 'x', obj: { k: 1 }, keep: true };
const patch = { a: { c: { e: 3 } }, list: [3], scalar: { now: 'object' }, obj: 7, n: null, fresh: { deep: { x: 1 } } };
const merged = {
  a: { b: 1, c: { d: 2, e: 3 } },
  list: [3],
  scalar: { now: 'object' },
  obj: 7,
  keep: true,
  n: null,
  fresh: { deep: { x: 1 } },
};

describe('metadata merge', () => {
  it('merges objects recursively; arrays, scalars and type changes replace; null is stored', async () => {
    await core().sessions.add({ sessionId: 'merge', metadata: stored });
    const updated = await core().sessions.update({ sessionId: 'merge', metadata: patch });
    expect(updated.metadata).toEqual(merged);
    const doc = await core().collections.sessions.findOne({ sessionId: 'merge' });
    expect(doc?.metadata).toEqual(merged);
    expect(doc?.metadata).toHaveProperty('n', null);
  });

  it('computes the same result in memory (used for optimistic updates)', () => {
    expect(mergeMetadata(stored, patch)).toEqual(merged);
    expect(stored.a.c).toEqual({ d: 2 }); // inputs untouched
  });

  it('treats {} as a no-op', async () => {
    const before = await core().sessions.add({ sessionId: 'noop', metadata: { a: 1 } });
    const after = await core().sessions.update({ sessionId: 'noop', metadata: {} });
    expect(after).toEqual(before);
    expect((await core().collections.sessions.findOne({ sessionId: 'noop' }))?.updatedAt).toEqual(before.updatedAt);
  });

  it('drops a top-level `system` key on session and message updates, keeps it on user updates', async () => {
    await core().sessions.add({ sessionId: 'sys', metadata: { system: { from: 'create' } } });
    const session = await core().sessions.update({ sessionId: 'sys', metadata: { system: { x: 1 }, other: { system: 1 } } });
    expect(session.metadata).toEqual({ system: { from: 'create' }, other: { system: 1 } });

    const [message] = (await core().memory.add({ sessionId: 'sys', messages: [{ role: 'user', content: 'hi' }] })).messages;
    const updated = await core().memory.updateMessage({ sessionId: 'sys', uuid: message!.uuid, metadata: { system: 1, a: 1 } });
    expect(updated.metadata).toEqual({ a: 1 });

    await core().users.add({ userId: 'sys-user' });
    const user = await core().users.update({ userId: 'sys-user', metadata: { system: { role: 'admin' } } });
    expect(user.metadata).toEqual({ system: { role: 'admin' } });
  });

  it('merges message and user metadata with the same rules', async () => {
    const [message] = (await core().memory.add({ sessionId: 'mm', messages: [{ role: 'user', content: 'x', metadata: stored }] })).messages;
    expect((await core().memory.updateMessage({ sessionId: 'mm', uuid: message!.uuid, metadata: patch })).metadata).toEqual(merged);
    await core().users.add({ userId: 'mu', metadata: stored });
    expect((await core().users.update({ userId: 'mu', metadata: patch })).metadata).toEqual(merged);
  });
});

describe('removing a metadata key ({ $delete: true })', () => {
  const del = { $delete: true };

  it('removes top-level and nested keys, and sets others in the same patch', async () => {
    await core().sessions.add({ sessionId: 'del', metadata: { a: 1, b: { c: 2, d: 3 }, n: null, keep: 'k' } });
    const updated = await core().sessions.update({ sessionId: 'del', metadata: { a: del, b: { c: del, e: 4 }, n: del, f: 5 } });
    const expected = { b: { d: 3, e: 4 }, keep: 'k', f: 5 };
    expect(updated.metadata).toEqual(expected);
    const doc = await core().collections.sessions.findOne({ sessionId: 'del' });
    expect(doc?.metadata).toEqual(expected);
    // The last key of an object leaves the (empty) object.
    expect((await core().sessions.update({ sessionId: 'del', metadata: { b: { d: del, e: del } } })).metadata).toEqual({
      b: {},
      keep: 'k',
      f: 5,
    });
  });

  it('does nothing for an absent key (nor creates its parents); leaves markers out of objects that replace', async () => {
    await core().sessions.add({ sessionId: 'del-absent', metadata: { a: 1, s: 'x' } });
    const updated = await core().sessions.update({ sessionId: 'del-absent', metadata: { missing: del, deep: { x: del }, a: { in: del } } });
    expect(updated.metadata).toEqual({ a: {}, s: 'x' });
    const again = await core().sessions.update({ sessionId: 'del-absent', metadata: { s: { t: { u: del, v: 1 } } } });
    expect(again.metadata).toEqual({ a: {}, s: { t: { v: 1 } } });
  });

  it('works on message and user metadata, and in memory as the database does', async () => {
    const stored = { a: { b: 1, c: 2 }, x: [1], y: null };
    const patch = { a: { b: del }, x: del, y: del, z: { w: del } };
    const expected = { a: { c: 2 } };
    expect(mergeMetadata(stored, patch)).toEqual(expected);
    expect(stored).toEqual({ a: { b: 1, c: 2 }, x: [1], y: null }); // inputs untouched
    const [message] = (await core().memory.add({ sessionId: 'del-m', messages: [{ role: 'user', content: 'x', metadata: stored }] }))
      .messages;
    expect((await core().memory.updateMessage({ sessionId: 'del-m', uuid: message!.uuid, metadata: patch })).metadata).toEqual(expected);
    await core().users.add({ userId: 'del-u', metadata: stored });
    expect((await core().users.update({ userId: 'del-u', metadata: patch })).metadata).toEqual(expected);
  });

  it('is refused where metadata is stored whole, inside arrays, and in any other form', async () => {
    const c = core();
    await expect(c.sessions.add({ sessionId: 'del-bad', metadata: { a: del } })).rejects.toThrow(/only in a metadata update/);
    await expect(c.users.add({ userId: 'del-bad', metadata: { a: { b: del } } })).rejects.toBeInstanceOf(ValidationError);
    await expect(c.memory.add({ sessionId: 'del-bad', messages: [{ role: 'user', content: 'x', metadata: { a: del } }] })).rejects.toThrow(
      /only in a metadata update/,
    );
    await c.sessions.add({ sessionId: 'del-bad', metadata: { a: 1 } });
    for (const metadata of [{ list: [del] }, { list: [{ a: del }] }, { a: { $delete: false } }, { a: { $delete: true, b: 1 } }, del]) {
      await expect(c.sessions.update({ sessionId: 'del-bad', metadata })).rejects.toThrow(/whole value, and not inside an array/);
    }
    await expect(c.sessions.update({ sessionId: 'del-bad', metadata: { a: { $unset: true } } })).rejects.toThrow(
      /must not start with "\$"/,
    );
    expect((await c.sessions.get({ sessionId: 'del-bad' })).metadata).toEqual({ a: 1 });
  });

  it('keeps every concurrent merge while keys are removed', async () => {
    const initial = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`old${i}`, i]));
    await core().sessions.add({ sessionId: 'del-parallel', metadata: { ...initial, nested: { ...initial } } });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        core().sessions.update({
          sessionId: 'del-parallel',
          metadata: { [`old${i}`]: del, [`new${i}`]: i, nested: { [`old${i}`]: del, [`new${i}`]: i } },
        }),
      ),
    );
    const expected = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`new${i}`, i]));
    expect((await core().sessions.get({ sessionId: 'del-parallel' })).metadata).toEqual({ ...expected, nested: expected });
  });
});

describe('stored metadata size', () => {
  it('is limited after a merge too: many small patches cannot grow metadata past 64 KiB', async () => {
    const c = core();
    const chunk = 'x'.repeat(20_000);
    await c.sessions.add({ sessionId: 'growing', metadata: { a: chunk } });
    await c.sessions.update({ sessionId: 'growing', metadata: { b: chunk } });
    await c.sessions.update({ sessionId: 'growing', metadata: { c: chunk } });
    await expect(c.sessions.update({ sessionId: 'growing', metadata: { d: chunk } })).rejects.toThrow(
      /after this merge; the limit is 65536/,
    );
    await expect(c.users.add({ userId: 'grower', metadata: { a: chunk, b: chunk, c: chunk } })).resolves.toBeDefined();
    await expect(c.users.update({ userId: 'grower', metadata: { d: chunk } })).rejects.toBeInstanceOf(ValidationError);
    // Replacing a value with a smaller one is fine, and nothing above was written.
    await c.sessions.update({ sessionId: 'growing', metadata: { a: 'small' } });
    expect(Object.keys((await c.sessions.get({ sessionId: 'growing' })).metadata)).toEqual(['a', 'b', 'c']);
  });
});
