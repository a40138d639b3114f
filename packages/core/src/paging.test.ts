import { describe, expect, it } from 'vitest';
import { useTestCore } from './test/core';

const core = useTestCore();

/** Walks every page with `limit` 7, calling `between` after each fetch. */
async function walk<T>(
  fetch: (cursor: string | null) => Promise<{ items: T[]; nextCursor: string | null }>,
  between: (page: number) => Promise<void>,
) {
  const seen: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; ; page++) {
    const result = await fetch(cursor);
    seen.push(...result.items);
    if (!result.nextCursor) return seen;
    cursor = result.nextCursor;
    await between(page);
  }
}

const pad = (i: number) => String(i).padStart(3, '0');

describe('keyset pagination', () => {
  it('walks 250 users once each, in order, while users are added and deleted between pages', async () => {
    const c = core();
    for (let i = 0; i < 250; i++) await c.users.add({ userId: `u${pad(i)}` });
    const deleted = new Set<string>();
    const seen = await walk(
      (cursor) => c.users.list({ limit: 7, cursor }),
      async (page) => {
        await c.users.add({ userId: `late${pad(page)}` });
        if (page < 20) {
          const victim = `u${pad(249 - page)}`; // well ahead of the cursor: must not be returned
          await c.users.delete({ userId: victim });
          deleted.add(victim);
          await c.users.delete({ userId: `u${pad(page)}` }); // already returned: must not shift the pages
        }
      },
    );
    const ids = seen.map((u) => u.userId);
    expect(new Set(ids).size).toBe(ids.length); // no duplicates
    const originals = ids.filter((id) => id.startsWith('u'));
    const expected = Array.from({ length: 250 }, (_, i) => `u${pad(i)}`).filter((id) => !deleted.has(id));
    expect(originals).toEqual(expected); // none skipped, in order
  });

  it('walks 250 sessions and 250 messages the same way', async () => {
    const c = core();
    for (let i = 0; i < 250; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => c.sessions.add({ sessionId: `s${pad(i + j)}` })));
    }
    const sessions = await walk(
      (cursor) => c.sessions.list({ limit: 7, cursor }),
      async (page) => {
        await c.sessions.add({ sessionId: `late${pad(page)}` });
      },
    );
    const sessionIds = sessions.map((s) => s.sessionId).filter((id) => id.startsWith('s'));
    expect(new Set(sessionIds).size).toBe(250);

    await c.memory.add({ sessionId: 'long', messages: Array.from({ length: 250 }, (_, i) => ({ role: 'user', content: `m${i}` })) });
    const messages = await walk(
      (cursor) => c.memory.list({ sessionId: 'long', limit: 7, cursor }),
      async () => {
        await c.memory.add({ sessionId: 'long', messages: [{ role: 'user', content: 'late' }] });
      },
    );
    const contents = messages.map((m) => m.content).filter((m) => m !== 'late');
    expect(contents).toEqual(Array.from({ length: 250 }, (_, i) => `m${i}`));
    expect(messages.map((m) => m.seq)).toEqual([...messages.map((m) => m.seq)].sort((a, b) => a - b));
  });

  it('walks a session backward, newest first, while messages are appended (scroll-back)', async () => {
    const c = core();
    await c.memory.add({ sessionId: 'back', messages: Array.from({ length: 100 }, (_, i) => ({ role: 'user', content: `m${i}` })) });
    const messages = await walk(
      (cursor) => c.memory.list({ sessionId: 'back', limit: 7, cursor, order: 'desc' }),
      async () => {
        await c.memory.add({ sessionId: 'back', messages: [{ role: 'user', content: 'late' }] }); // newer: never in a later page
      },
    );
    expect(messages.map((m) => m.content)).toEqual(Array.from({ length: 100 }, (_, i) => `m${99 - i}`));
    const first = await c.memory.list({ sessionId: 'back', limit: 3, order: 'desc' });
    expect(first.items.map((m) => m.content)).toEqual(['late', 'late', 'late']);
    expect(first.total).toBe(100 + 14);
  });
});
