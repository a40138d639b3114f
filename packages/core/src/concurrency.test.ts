import { describe, expect, it } from 'vitest';
import { useTestCore } from './test/core';

const core = useTestCore();

describe('concurrency', () => {
  it('keeps every key of 20 parallel metadata merges on one session', async () => {
    await core().sessions.add({ sessionId: 'parallel', metadata: { base: true } });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        core().sessions.update({ sessionId: 'parallel', metadata: { [`k${i}`]: i, nested: { [`n${i}`]: i } } }),
      ),
    );
    const { metadata } = await core().sessions.get({ sessionId: 'parallel' });
    expect(Object.keys(metadata)).toHaveLength(22);
    for (let i = 0; i < 20; i++) {
      expect(metadata[`k${i}`]).toBe(i);
      expect((metadata.nested as Record<string, number>)[`n${i}`]).toBe(i);
    }
  });

  it('gives 50 parallel first writes of 2 messages one session and seq 1..100, each batch contiguous', async () => {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        core().memory.add({
          sessionId: 'fresh-session',
          messages: [
            { role: 'user', content: `batch ${i} first` },
            { role: 'assistant', content: `batch ${i} second` },
          ],
        }),
      ),
    );
    expect(await core().collections.sessions.countDocuments({ sessionId: 'fresh-session' })).toBe(1);
    const messages = await core().collections.messages.find({ sessionId: 'fresh-session' }).sort({ seq: 1 }).toArray();
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    for (let i = 0; i < 100; i += 2) {
      const batch = /^batch (\d+) first$/.exec(messages[i]!.content)?.[1];
      expect(messages[i + 1]!.content).toBe(`batch ${batch} second`);
    }
    await core().store.sessions.settleAll(); // a single writer's stored heads lag its appends (store/heads.ts)
    expect((await core().collections.sessions.findOne({ sessionId: 'fresh-session' }))?.lastSeq).toBe(100);
  });
});
