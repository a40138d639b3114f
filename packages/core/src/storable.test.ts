/**
 * Input the database cannot store is refused before anything is written: a VALIDATION error that
 * says why, and no session, user or message appears (not even a half-created session).
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors';
import { useTestCore } from './test/core';

const core = useTestCore();

async function storedCounts() {
  const { users, sessions, messages, search } = core().collections;
  return Promise.all([users, sessions, messages, search].map((c) => c.countDocuments()));
}

const unstorable: [string, Record<string, unknown>][] = [
  ['a NUL in a message', { role: 'user', content: 'a\u0000b' }],
  ['a NUL in a role', { role: 'us\u0000er', content: 'hi' }],
  ['a lone surrogate in a message', { role: 'user', content: 'a\uD800b' }],
  ['a NUL in a metadata value', { role: 'user', content: 'hi', metadata: { note: 'a\u0000b' } }],
  ['a NUL in a metadata key', { role: 'user', content: 'hi', metadata: { 'a\u0000b': 1 } }],
  ['a lone surrogate in a metadata key', { role: 'user', content: 'hi', metadata: { '\uDC00': 1 } }],
  [
    'an array inside an array',
    {
      role: 'user',
      content: 'hi',
      metadata: {
        grid: [
          [1, 2],
          [3, 4],
        ],
      },
    },
  ],
  ['a date past the year 9999', { role: 'user', content: 'hi', createdAt: '9999-12-31T23:59:59-23:59' }],
  ['a date before the year 1', { role: 'user', content: 'hi', createdAt: new Date(-62198755200001) }],
];

describe('unstorable input', () => {
  it.each(unstorable)('refuses %s in memory.add and writes nothing', async (_, message) => {
    const before = await storedCounts();
    const attempt = core().memory.add({ sessionId: 'never-created', messages: [{ role: 'user', content: 'fine' }, message as never] });
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toThrow(/NUL|surrogate|array inside an array|years 1 and 9999/);
    expect(await storedCounts()).toEqual(before);
  });

  it('refuses the same in session, user and message metadata, profiles and ids', async () => {
    const c = core();
    await c.users.add({ userId: 'u' });
    await c.sessions.add({ sessionId: 's' });
    const { messages } = await c.memory.add({ sessionId: 's', messages: [{ role: 'user', content: 'hi' }] });
    const before = await storedCounts();
    for (const attempt of [
      c.sessions.add({ sessionId: 's2', metadata: { grid: [[1]] } }),
      c.sessions.update({ sessionId: 's', metadata: { k: 'x\u0000' } }),
      c.sessions.update({ sessionId: 's', metadata: { ' padded ': 1 } }),
      c.sessions.add({ sessionId: 's3', metadata: { nested: { 'trailing ': 1 } } }),
      c.users.add({ userId: 'u2', firstName: 'A\u0000' }),
      c.users.update({ userId: 'u', metadata: { grid: [[1]] } }),
      c.memory.updateMessage({ sessionId: 's', uuid: messages[0]!.uuid, metadata: { '\uD800x': 1 } }),
      c.sessions.add({ sessionId: 'a\uDC00b' }),
      c.memory.search({ sessionId: 's', metadata: { 'metadata.a\u0000': 1 } }),
      c.memory.search({ sessionId: 's', metadata: { 'metadata.a': 'x\u0000' } }),
    ]) {
      await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    }
    expect(await storedCounts()).toEqual(before);
  });

  it('stores and finds a message of 3,000 distinct words (an index over its terms array would exceed 8 KB)', async () => {
    const words = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}q${(i * 7919).toString(36)}`);
    await core().memory.add({ sessionId: 'wordy', messages: [{ role: 'user', content: words.join(' ') }] });
    const [hit] = await core().memory.search({ sessionId: 'wordy', text: words[2999]! });
    expect(hit?.message.content).toHaveLength(words.join(' ').length);
  });

  it('stores what it accepts unchanged: astral characters, control characters other than NUL, arrays of objects', async () => {
    const content = 'emoji 🦊, tab\there, bell \u0007, RTL \u202e';
    const metadata = { rows: [{ cells: [1, 2] }, { cells: [3] }], '🔑': 'ok' };
    const { messages } = await core().memory.add({ sessionId: 'kept', messages: [{ role: 'user', content, metadata }] });
    expect(await core().memory.message({ sessionId: 'kept', uuid: messages[0]!.uuid })).toMatchObject({ content, metadata });
  });
});
