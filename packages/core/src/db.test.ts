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
    expect(names).toEqual(expect.arrayContaining(['messages_uuid', 'messages_session_seq', 'messages_session_live']));
  });
});
