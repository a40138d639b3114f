import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors';
import { useTestCore } from './test/core';

const core = useTestCore();

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) value = { d: value };
  return value;
}

const badMetadata: [string, Record<string, unknown>][] = [
  ['a key with "."', { 'a.b': 1 }],
  ['a key starting with "$"', { $set: 1 }],
  ['a nested key starting with "$"', { ok: { $where: 'x' } }],
  ['__proto__', JSON.parse('{"__proto__": {"polluted": true}}')],
  ['constructor', { constructor: 1 }],
  ['an empty key', { '': 1 }],
  ['depth 17', nested(17)],
  ['65 KiB', { big: 'x'.repeat(65 * 1024) }],
];
const badIds: [string, string][] = [
  ['empty', ''],
  ['257 characters', 'x'.repeat(257)],
  ['a control character', 'a\u0000b'],
  ['a newline', 'a\nb'],
];

/** Documents per collection (a filter holding the bad id itself could not even reach PostgreSQL: jsonb refuses NUL). */
async function storedCounts() {
  const { users, sessions, messages } = core().collections;
  return Promise.all([users, sessions, messages].map((c) => c.countDocuments()));
}

async function expectValidation(promise: Promise<unknown>) {
  await expect(promise).rejects.toBeInstanceOf(ValidationError);
}

describe('validation', () => {
  it('accepts the limits themselves: depth 16, 256-character ids', async () => {
    await core().sessions.add({ sessionId: 'y'.repeat(256), metadata: nested(16) });
    expect((await core().sessions.get({ sessionId: 'y'.repeat(256) })).metadata).toEqual(nested(16));
  });

  it.each(badMetadata)('rejects metadata with %s and writes nothing', async (_, metadata) => {
    const c = core();
    await expectValidation(c.sessions.add({ sessionId: 'bad-meta', metadata }));
    await expectValidation(c.users.add({ userId: 'bad-meta', metadata }));
    await expectValidation(c.memory.add({ sessionId: 'bad-meta', messages: [{ role: 'user', content: 'x', metadata }] }));
    expect(await c.collections.sessions.countDocuments({ sessionId: 'bad-meta' })).toBe(0);
    expect(await c.collections.users.countDocuments({ userId: 'bad-meta' })).toBe(0);
    expect(await c.collections.messages.countDocuments({ sessionId: 'bad-meta' })).toBe(0);

    await c.sessions.add({ sessionId: 'good', metadata: { a: 1 } });
    await expectValidation(c.sessions.update({ sessionId: 'good', metadata }));
    expect((await c.collections.sessions.findOne({ sessionId: 'good' }))?.metadata).toEqual({ a: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await c.sessions.delete({ sessionId: 'good' });
    await c.purge();
  });

  it.each(badIds)('rejects an id that is %s and writes nothing', async (_, id) => {
    const c = core();
    const before = await storedCounts();
    await expectValidation(c.sessions.add({ sessionId: id }));
    await expectValidation(c.users.add({ userId: id }));
    await expectValidation(c.memory.add({ sessionId: id, messages: [{ role: 'user', content: 'x' }] }));
    await expectValidation(c.sessions.get({ sessionId: id }));
    expect(await storedCounts()).toEqual(before);
  });

  it('rejects a bad cursor, limit and message uuid', async () => {
    await expectValidation(core().sessions.list({ cursor: 'nonsense' }));
    await expectValidation(core().sessions.list({ limit: 101 }));
    await expectValidation(core().memory.message({ sessionId: 's', uuid: 'not an id' }));
  });
});
