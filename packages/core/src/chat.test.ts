/** What chat apps need beyond Zep: edit, delete, truncate, streaming messages, parts, live events. */
import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from './errors';
import type { CoreEvent, Tracked } from './events';
import { STREAM_IDLE_MS } from './schemas';
import { useTestCore } from './test/core';
import { countMessageTokens } from './tokens';

const core = useTestCore();
const user = (content: string, uuid?: string) => ({ role: 'user', content, ...(uuid && { uuid }) });
const contents = async (sessionId: string) => (await core().memory.get({ sessionId, lastn: 1000 })).messages.map((m) => m.content);
const found = async (sessionId: string, text: string) => (await core().memory.search({ sessionId, text })).map((r) => r.message.content);

describe('editing a message', () => {
  it('replaces content and role, re-counts tokens, re-indexes search; metadata still merges', async () => {
    await core().memory.add({
      sessionId: 'edit',
      messages: [{ ...user('the quick brown fox', 'e1'), metadata: { a: 1 } }, user('other words')],
    });
    const edited = await core().memory.updateMessage({
      sessionId: 'edit',
      uuid: 'e1',
      content: 'a lazy purple walrus',
      role: 'assistant',
      metadata: { b: 2 },
    });
    expect(edited).toMatchObject({
      content: 'a lazy purple walrus',
      role: 'assistant',
      metadata: { a: 1, b: 2 },
      status: 'complete',
      seq: 1,
    });
    expect(edited.tokenCount).toBe(countMessageTokens('assistant', 'a lazy purple walrus'));
    expect(await found('edit', 'walrus')).toEqual(['a lazy purple walrus']);
    expect(await found('edit', 'fox')).toEqual([]);
    expect(await core().memory.message({ sessionId: 'edit', uuid: 'e1' })).toEqual(edited);
    // A given token count wins; an empty update changes nothing, not even updatedAt.
    expect((await core().memory.updateMessage({ sessionId: 'edit', uuid: 'e1', content: 'x', tokenCount: 99 })).tokenCount).toBe(99);
    const before = await core().memory.message({ sessionId: 'edit', uuid: 'e1' });
    expect(await core().memory.updateMessage({ sessionId: 'edit', uuid: 'e1' })).toEqual(before);
  });

  it('refuses content and append together, and an unknown message', async () => {
    await core().memory.add({ sessionId: 'edit-bad', messages: [user('x', 'b1')] });
    await expect(core().memory.updateMessage({ sessionId: 'edit-bad', uuid: 'b1', content: 'a', append: 'b' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(core().memory.updateMessage({ sessionId: 'edit-bad', uuid: 'nope', content: 'a' })).rejects.toBeInstanceOf(NotFoundError);
    expect(await contents('edit-bad')).toEqual(['x']);
  });
});

describe('parts', () => {
  it('keeps parts verbatim (arrays in arrays, "$" and dotted keys) and takes content from their text', async () => {
    const parts = [
      { type: 'step-start' },
      { type: 'reasoning', text: 'thinking…', providerMetadata: { 'a.b': { $x: 1 } } },
      { type: 'tool-weather', toolCallId: 'c1', state: 'output-available', input: { city: 'Lisbon' }, output: { grid: [[1, 2], [3]] } },
      { type: 'text', text: 'It is sunny.' },
      { type: 'text', text: 'Bring a hat.' },
    ];
    const { messages } = await core().memory.add({ sessionId: 'parts', messages: [{ role: 'assistant', parts, uuid: 'p1' }] });
    expect(messages[0]).toMatchObject({ content: 'It is sunny.\nBring a hat.', parts });
    expect((await core().memory.get({ sessionId: 'parts' })).messages[0]!.parts).toEqual(parts);
    expect(await found('parts', 'sunny')).toEqual(['It is sunny.\nBring a hat.']);
    // Parts without text parts give empty content; messages without parts have none.
    const updated = await core().memory.updateMessage({ sessionId: 'parts', uuid: 'p1', parts: [{ type: 'text', text: 'Rain.' }] });
    expect(updated).toMatchObject({ content: 'Rain.', parts: [{ type: 'text', text: 'Rain.' }] });
    expect((await core().memory.add({ sessionId: 'parts', messages: [user('plain')] })).messages[0]).not.toHaveProperty('parts');
  });

  it('refuses a message with neither content nor parts, and parts without a type', async () => {
    await expect(core().memory.add({ sessionId: 'parts-bad', messages: [{ role: 'user' }] })).rejects.toThrow(/content or parts/);
    await expect(
      core().memory.add({ sessionId: 'parts-bad', messages: [{ role: 'user', parts: [{ text: 'x' } as never] }] }),
    ).rejects.toThrow(/type/);
    await expect(
      core().memory.add({ sessionId: 'parts-bad', messages: [{ role: 'user', parts: [{ type: 'text', text: 'a\u0000' }] }] }),
    ).rejects.toThrow(/NUL/);
    expect(await contents('parts-bad')).toEqual([]);
  });
});

describe('streaming messages', () => {
  it('grow by append, show their partial content and status, and complete', async () => {
    await core().memory.add({
      sessionId: 'stream',
      messages: [user('tell me a story'), { role: 'assistant', content: '', status: 'streaming', uuid: 's1' }],
    });
    expect((await core().memory.get({ sessionId: 'stream' })).messages[1]).toMatchObject({ content: '', status: 'streaming' });
    await core().memory.updateMessage({ sessionId: 'stream', uuid: 's1', append: 'Once upon' });
    await core().memory.updateMessage({ sessionId: 'stream', uuid: 's1', append: ' a time' });
    expect((await core().memory.get({ sessionId: 'stream' })).messages[1]).toMatchObject({
      content: 'Once upon a time',
      status: 'streaming',
    });
    const done = await core().memory.updateMessage({ sessionId: 'stream', uuid: 's1', append: '.', status: 'complete' });
    expect(done).toMatchObject({
      content: 'Once upon a time.',
      status: 'complete',
      tokenCount: countMessageTokens('assistant', 'Once upon a time.'),
    });
    expect(await found('stream', 'upon')).toEqual(['Once upon a time.']);
  });

  it('reads as interrupted, not complete, when nobody has updated it for STREAM_IDLE_MS', async () => {
    await core().memory.add({
      sessionId: 'stream-dead',
      messages: [{ role: 'assistant', content: 'Half a', status: 'streaming', uuid: 'd1' }],
    });
    await core().collections.messages.updateOne({ uuid: 'd1' }, { $set: { updatedAt: new Date(Date.now() - STREAM_IDLE_MS - 1000) } });
    core().store.buckets.invalidate('stream-dead'); // a write behind core's back: what it holds in memory is stale
    expect((await core().memory.get({ sessionId: 'stream-dead' })).messages[0]).toMatchObject({ content: 'Half a', status: 'interrupted' });
    // Another update brings it back to streaming.
    expect((await core().memory.updateMessage({ sessionId: 'stream-dead', uuid: 'd1', append: ' sentence' })).status).toBe('streaming');
  });
});

describe('deleting and truncating', () => {
  it('deletes one message softly: gone from reads, counts and search; purged later', async () => {
    await core().memory.add({ sessionId: 'del-one', messages: [user('alpha', 'd1'), user('bravo', 'd2'), user('charlie', 'd3')] });
    expect(await core().memory.deleteMessage({ sessionId: 'del-one', uuid: 'd2' })).toEqual({ deleted: 1 });
    expect(await contents('del-one')).toEqual(['alpha', 'charlie']);
    expect((await core().memory.list({ sessionId: 'del-one' })).total).toBe(2);
    expect(await found('del-one', 'bravo')).toEqual([]);
    await expect(core().memory.message({ sessionId: 'del-one', uuid: 'd2' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(core().memory.deleteMessage({ sessionId: 'del-one', uuid: 'd2' })).rejects.toBeInstanceOf(NotFoundError);
    expect(await core().collections.messages.countDocuments({ uuid: 'd2', sessionId: 'del-one' })).toBe(1);
    await core().purge();
    expect(await core().collections.messages.countDocuments({ uuid: 'd2', sessionId: 'del-one' })).toBe(0);
  });

  it('truncates after a message (or from it), across buckets, and its ids can be used again', async () => {
    const messages = Array.from({ length: 70 }, (_, i) => user(`m${i + 1}`, `t${i + 1}`));
    await core().memory.add({ sessionId: 'trunc', messages });
    expect(await core().memory.truncate({ sessionId: 'trunc', uuid: 't20' })).toEqual({ deleted: 50 });
    expect(await contents('trunc')).toEqual(messages.slice(0, 20).map((m) => m.content));
    expect(await core().memory.truncate({ sessionId: 'trunc', uuid: 't20', inclusive: true })).toEqual({ deleted: 1 });
    expect(await core().memory.truncate({ sessionId: 'trunc', uuid: 't19' })).toEqual({ deleted: 0 });
    // Edit and resend: the same id again is a new message, at the end.
    const { messages: resent } = await core().memory.add({ sessionId: 'trunc', messages: [user('m20 edited', 't20')] });
    expect(resent[0]).toMatchObject({ uuid: 't20', content: 'm20 edited', seq: 71 });
    expect((await core().memory.list({ sessionId: 'trunc', order: 'desc', limit: 2 })).items.map((m) => m.content)).toEqual([
      'm20 edited',
      'm19',
    ]);
    expect((await core().memory.list({ sessionId: 'trunc' })).total).toBe(20);
  });

  it('is queued with appends: a regenerate racing other writes never loses or reorders messages', async () => {
    await core().memory.add({ sessionId: 'race', messages: [user('q1', 'q1'), { role: 'assistant', content: 'bad answer', uuid: 'a1' }] });
    // Fired together, in this order: each lands whole, in call order.
    const calls = [
      core().memory.truncate({ sessionId: 'race', uuid: 'q1' }),
      core().memory.add({ sessionId: 'race', messages: [{ role: 'assistant', content: 'good answer', uuid: 'a2' }] }),
      core().memory.add({ sessionId: 'race', messages: [user('q2'), user('q3')] }),
      core().memory.truncate({ sessionId: 'race', uuid: 'a2' }),
      core().memory.add({ sessionId: 'race', messages: [user('q4')] }),
      core().memory.deleteMessage({ sessionId: 'race', uuid: 'q1' }),
    ];
    await Promise.all(calls);
    expect(await contents('race')).toEqual(['good answer', 'q4']);
    const page = await core().memory.list({ sessionId: 'race' });
    expect(page.total).toBe(2);
    expect(page.items.map((m) => m.seq)).toEqual([...page.items.map((m) => m.seq)].sort((a, b) => a - b));
  });
});

describe('undoing a delete', () => {
  it('restores a deleted message in its place: read, counted and found again; idempotent; not after purge or reuse', async () => {
    await core().memory.add({ sessionId: 'undo', messages: [user('alpha', 'u1'), user('bravo tango', 'u2'), user('charlie', 'u3')] });
    await core().memory.deleteMessage({ sessionId: 'undo', uuid: 'u2' });
    const restored = await core().memory.restoreMessage({ sessionId: 'undo', uuid: 'u2' });
    expect(restored.messages).toMatchObject([{ uuid: 'u2', seq: 2, content: 'bravo tango' }]);
    expect(await contents('undo')).toEqual(['alpha', 'bravo tango', 'charlie']);
    expect((await core().sessions.get({ sessionId: 'undo' })).messageCount).toBe(3);
    expect((await core().memory.list({ sessionId: 'undo' })).total).toBe(3);
    expect(await found('undo', 'tango')).toEqual(['bravo tango']);
    expect(await core().memory.restoreMessage({ sessionId: 'undo', uuid: 'u2' })).toEqual(restored); // already live
    // Deleted, then a new message takes its id: the old one is gone for good. The Undo names the
    // message by its number too, and is refused (it would otherwise answer the new message).
    await core().memory.deleteMessage({ sessionId: 'undo', uuid: 'u3' });
    await core().memory.add({ sessionId: 'undo', messages: [user('charlie again', 'u3')] });
    await expect(core().memory.restoreMessage({ sessionId: 'undo', uuid: 'u3', seq: 3 })).rejects.toBeInstanceOf(NotFoundError);
    await core().memory.deleteMessage({ sessionId: 'undo', uuid: 'u3' }); // the new one deleted too: still not the old one
    await expect(core().memory.restoreMessage({ sessionId: 'undo', uuid: 'u3', seq: 3 })).rejects.toBeInstanceOf(NotFoundError);
    expect(await contents('undo')).toEqual(['alpha', 'bravo tango']);
    expect((await core().memory.restoreMessage({ sessionId: 'undo', uuid: 'u3', seq: 4 })).messages).toMatchObject([
      { content: 'charlie again', seq: 4 },
    ]);
    expect((await core().memory.restoreMessage({ sessionId: 'undo', uuid: 'u2', seq: 2 })).messages).toMatchObject([{ seq: 2 }]); // live, by its number
    await core().memory.deleteMessage({ sessionId: 'undo', uuid: 'u1' });
    await core().purge();
    await expect(core().memory.restoreMessage({ sessionId: 'undo', uuid: 'u1' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(core().memory.restoreMessage({ sessionId: 'nope', uuid: 'u1' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('undoes a truncation (deletedWith): every message it removed comes back, not one deleted before', async () => {
    const messages = Array.from({ length: 40 }, (_, i) => user(`m${i + 1} word${i + 1}`, `r${i + 1}`));
    await core().memory.add({ sessionId: 'undo-t', messages });
    await core().memory.deleteMessage({ sessionId: 'undo-t', uuid: 'r38' });
    await core().memory.truncate({ sessionId: 'undo-t', uuid: 'r30', inclusive: true }); // across two buckets
    expect((await core().memory.list({ sessionId: 'undo-t' })).total).toBe(29);
    const { messages: back } = await core().memory.restoreMessage({ sessionId: 'undo-t', uuid: 'r33', deletedWith: true });
    expect(back.map((m) => m.uuid)).toEqual(['r30', 'r31', 'r32', 'r33', 'r34', 'r35', 'r36', 'r37', 'r39', 'r40']);
    expect(await contents('undo-t')).toEqual(messages.filter((m) => m.uuid !== 'r38').map((m) => m.content));
    expect((await core().sessions.get({ sessionId: 'undo-t' })).messageCount).toBe(39);
    expect(await found('undo-t', 'word35')).toEqual(['m35 word35']);
    expect(await found('undo-t', 'word38')).toEqual([]);
  });

  it('restores a deleted session with the messages deleted with it, not those deleted before', async () => {
    await core().users.add({ userId: 'undo-user' });
    await core().sessions.add({ sessionId: 'undo-s', userId: 'undo-user', metadata: { topic: 'tea' } });
    await core().memory.add({ sessionId: 'undo-s', messages: [user('one', 's1'), user('two', 's2'), user('three', 's3')] });
    await core().memory.deleteMessage({ sessionId: 'undo-s', uuid: 's2' });
    await core().sessions.delete({ sessionId: 'undo-s' });
    await expect(core().memory.restoreMessage({ sessionId: 'undo-s', uuid: 's1' })).rejects.toBeInstanceOf(NotFoundError);
    const session = await core().sessions.restore({ sessionId: 'undo-s' });
    expect(session).toMatchObject({ sessionId: 'undo-s', userId: 'undo-user', metadata: { topic: 'tea' }, messageCount: 2 });
    expect(await contents('undo-s')).toEqual(['one', 'three']);
    expect(await found('undo-s', 'three')).toEqual(['three']);
    expect((await core().users.sessions({ userId: 'undo-user' })).items.map((s) => s.sessionId)).toEqual(['undo-s']);
    expect(await core().sessions.restore({ sessionId: 'undo-s' })).toEqual(session); // already live
    // A session whose user is gone stays deleted; a purged one is not found.
    await core().users.delete({ userId: 'undo-user' });
    await expect(core().sessions.restore({ sessionId: 'undo-s' })).rejects.toBeInstanceOf(NotFoundError);
    await core().purge();
    await expect(core().sessions.restore({ sessionId: 'undo-s' })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('events', () => {
  /** Collects a subscription's events until `count` are had. */
  async function take<E>(events: AsyncGenerator<Tracked<E>>, count: number): Promise<Tracked<E>[]> {
    const got: Tracked<E>[] = [];
    for await (const item of events) {
      got.push(item);
      if (got.length === count) break;
    }
    return got;
  }
  const types = (items: Tracked<CoreEvent>[]) => items.map((i) => i.event.type);

  it('tell a session subscriber about every write, and resume from the last event id', async () => {
    const stream = core().events.messages('ev');
    const first = take(stream, 5);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await core().memory.add({ sessionId: 'ev', messages: [user('one', 'v1'), user('two', 'v2')] });
    await core().memory.add({ sessionId: 'other-session', messages: [user('not for ev')] });
    await core().memory.updateMessage({ sessionId: 'ev', uuid: 'v1', content: 'uno' });
    await core().memory.deleteMessage({ sessionId: 'ev', uuid: 'v2' });
    await core().sessions.delete({ sessionId: 'ev' });
    const seen = await first;
    expect(types(seen)).toEqual(['reset', 'messages', 'messages', 'deleted', 'session-deleted']);
    expect(seen[1]!.event).toMatchObject({ messages: [{ content: 'one' }, { content: 'two' }] });
    expect(seen[2]!.event).toMatchObject({ messages: [{ content: 'uno' }] });
    expect(seen[3]!.event).toMatchObject({ uuids: ['v2'] });

    // Reconnecting after the first message event replays what came after it, without a reset.
    const resumed = await take(core().events.messages('ev', { lastEventId: seen[1]!.id }), 3);
    expect(resumed).toEqual(seen.slice(2));
    // An id of another server run (or long gone) starts with a reset: re-read.
    expect(types(await take(core().events.messages('ev', { lastEventId: 'deadbeef.3' }), 1))).toEqual(['reset']);
  });

  it('tell a session-list subscriber about one user’s sessions only', async () => {
    await core().users.add({ userId: 'ada' });
    const stream = take(core().events.sessions('ada'), 4);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await core().sessions.add({ sessionId: 'ada-1', userId: 'ada' });
    await core().sessions.add({ sessionId: 'nobodys' });
    await core().memory.add({ sessionId: 'ada-1', messages: [user('hi')] });
    await core().users.delete({ userId: 'ada' });
    const seen = await stream;
    expect(types(seen)).toEqual(['reset', 'session', 'session', 'session-deleted']);
    expect(
      seen.slice(1).map((i) => ('session' in i.event ? i.event.session.sessionId : 'sessionId' in i.event && i.event.sessionId)),
    ).toEqual(['ada-1', 'ada-1', 'ada-1']);
  });

  it('end when the signal aborts', async () => {
    const controller = new AbortController();
    const stream = core().events.messages('abort', { signal: controller.signal });
    expect((await stream.next()).value?.event.type).toBe('reset');
    const next = stream.next();
    controller.abort();
    expect((await next).done).toBe(true);
  });
});
