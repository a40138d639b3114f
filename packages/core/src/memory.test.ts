import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from './errors';
import { useTestCore } from './test/core';
import { countMessageTokens } from './tokens';

const core = useTestCore({ messageWindow: 12 });
const many = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => ({ role: 'user', content: `${prefix}${i + 1}` }));

describe('memory', () => {
  it('returns the last N messages in ascending order, 12 by default', async () => {
    await core().memory.add({ sessionId: 'window', messages: many(20) });
    const byDefault = await core().memory.get({ sessionId: 'window' });
    expect(byDefault.messages.map((m) => m.content)).toEqual(
      many(20)
        .slice(8)
        .map((m) => m.content),
    );
    const last3 = await core().memory.get({ sessionId: 'window', lastn: 3 });
    expect(last3.messages.map((m) => [m.content, m.seq])).toEqual([
      ['m18', 18],
      ['m19', 19],
      ['m20', 20],
    ]);
  });

  it('is an empty history for a session that does not exist yet (a new chat), which reading does not create', async () => {
    expect(await core().memory.get({ sessionId: 'new-chat' })).toEqual({ messages: [] });
    expect(await core().memory.list({ sessionId: 'new-chat', order: 'desc' })).toEqual({ items: [], nextCursor: null, total: 0 });
    await expect(core().sessions.get({ sessionId: 'new-chat' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('counts tokens with cl100k_base when absent and keeps a given count', async () => {
    const { messages } = await core().memory.add({
      sessionId: 'tokens',
      messages: [
        { role: 'user', content: 'Hello, how are you today?' },
        { role: 'user', content: 'x', tokenCount: 42 },
      ],
    });
    expect(messages[0]!.tokenCount).toBe(countMessageTokens('user', 'Hello, how are you today?'));
    expect(messages[0]!.tokenCount).toBe(9); // "user", ":", " Hello", ",", " how", " are", " you", " today", "?"
    expect(messages[1]!.tokenCount).toBe(42);
  });

  it('stores a message that contains special tokens, counting them as ordinary text', async () => {
    // A chat about tokenizers quotes them; refusing (or failing on) such a message would lose it.
    const { messages } = await core().memory.add({ sessionId: 'special', messages: [{ role: 'user', content: 'what is <|endoftext|>?' }] });
    expect(messages[0]!.tokenCount).toBe(10); // "user: what is <|endoftext|>?" encoded as plain text
    expect((await core().memory.get({ sessionId: 'special' })).messages[0]!.content).toBe('what is <|endoftext|>?');
  });

  it('keeps a supplied createdAt (imports)', async () => {
    const createdAt = new Date('2020-01-02T03:04:05.678Z');
    const { messages } = await core().memory.add({ sessionId: 'import', messages: [{ role: 'user', content: 'old', createdAt }] });
    expect(messages[0]!.createdAt).toEqual(createdAt);
    expect((await core().memory.message({ sessionId: 'import', uuid: messages[0]!.uuid })).createdAt).toEqual(createdAt);
  });

  it('stores a client id once per session (retries create no duplicates); another session may use the same id', async () => {
    const uuid = randomUUID();
    const batch = [
      { role: 'user', content: 'once', uuid },
      { role: 'user', content: 'new' },
    ];
    const first = await core().memory.add({ sessionId: 'idem', messages: batch });
    const retry = await core().memory.add({ sessionId: 'idem', messages: [{ role: 'user', content: 'once', uuid }] });
    expect(retry.messages[0]).toEqual(first.messages[0]);
    expect(await core().collections.messages.countDocuments({ uuid })).toBe(1);
    expect((await core().memory.get({ sessionId: 'idem' })).messages.map((m) => m.seq)).toEqual([1, 2]);
    const other = await core().memory.add({ sessionId: 'other', messages: [{ role: 'user', content: 'x', uuid }] });
    expect(other.messages[0]).toMatchObject({ uuid, sessionId: 'other', content: 'x', seq: 1 });
    expect((await core().memory.message({ sessionId: 'idem', uuid })).content).toBe('once');
  });

  it('accepts the ids chat SDKs make (1–128 of letters, digits, - _ . :) and refuses others', async () => {
    const ids = ['aB3xY9kLmN0pQr7s', 'msg_01HXYZ', 'run-1:step.2', 'x', 'a'.repeat(128), randomUUID()];
    const { messages } = await core().memory.add({
      sessionId: 'sdk-ids',
      messages: ids.map((uuid) => ({ role: 'user', content: uuid, uuid })),
    });
    expect(messages.map((m) => m.uuid)).toEqual(ids);
    for (const uuid of ids) expect((await core().memory.message({ sessionId: 'sdk-ids', uuid })).content).toBe(uuid);
    for (const bad of ['', 'a'.repeat(129), 'has space', 'slash/id', 'ünï']) {
      await expect(core().memory.add({ sessionId: 'sdk-ids', messages: [{ role: 'user', content: 'x', uuid: bad }] })).rejects.toThrow(
        /uuid/,
      );
    }
  });
});

describe('messages', () => {
  it('lists in ascending pages', async () => {
    await core().memory.add({ sessionId: 'paged', messages: many(5) });
    const first = await core().memory.list({ sessionId: 'paged', limit: 2 });
    expect(first.items.map((m) => m.content)).toEqual(['m1', 'm2']);
    const second = await core().memory.list({ sessionId: 'paged', limit: 2, cursor: first.nextCursor });
    const third = await core().memory.list({ sessionId: 'paged', limit: 2, cursor: second.nextCursor });
    expect([...second.items, ...third.items].map((m) => m.content)).toEqual(['m3', 'm4', 'm5']);
    expect(third.nextCursor).toBeNull();
  });

  it('gets one by uuid, NOT_FOUND in another session or once deleted', async () => {
    const [message] = (await core().memory.add({ sessionId: 'one', messages: many(1) })).messages;
    await core().sessions.add({ sessionId: 'two' });
    expect((await core().memory.message({ sessionId: 'one', uuid: message!.uuid })).content).toBe('m1');
    await expect(core().memory.message({ sessionId: 'two', uuid: message!.uuid })).rejects.toBeInstanceOf(NotFoundError);
    await expect(core().memory.message({ sessionId: 'one', uuid: randomUUID() })).rejects.toBeInstanceOf(NotFoundError);
    await core().sessions.delete({ sessionId: 'one' });
    await expect(core().memory.message({ sessionId: 'one', uuid: message!.uuid })).rejects.toBeInstanceOf(NotFoundError);
    await expect(core().memory.updateMessage({ sessionId: 'one', uuid: message!.uuid, metadata: { a: 1 } })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('merges message metadata and keeps tokenCount unless given', async () => {
    const [message] = (
      await core().memory.add({ sessionId: 'meta', messages: [{ role: 'user', content: 'hi', metadata: { a: { b: 1 } } }] })
    ).messages;
    const merged = await core().memory.updateMessage({ sessionId: 'meta', uuid: message!.uuid, metadata: { a: { c: 2 } } });
    expect(merged).toMatchObject({ metadata: { a: { b: 1, c: 2 } }, tokenCount: message!.tokenCount, content: 'hi' });
    const recounted = await core().memory.updateMessage({ sessionId: 'meta', uuid: message!.uuid, metadata: {}, tokenCount: 99 });
    expect(recounted.tokenCount).toBe(99);
  });

  it('gives every page of messages the total of live messages, also after a delete and a fresh start', async () => {
    const c = core();
    await c.memory.add({ sessionId: 'counted', messages: many(40) }); // two buckets
    const first = await c.memory.list({ sessionId: 'counted', limit: 30 });
    expect(first.total).toBe(40);
    expect((await c.memory.list({ sessionId: 'counted', limit: 30, cursor: first.nextCursor })).items.map((m) => m.content)).toEqual(
      many(10).map((_, i) => `m${i + 31}`),
    );
    await c.sessions.delete({ sessionId: 'counted' });
    await c.memory.add({ sessionId: 'counted', messages: many(2, 'new') }); // undeletes the session, not its messages
    const after = await c.memory.list({ sessionId: 'counted', limit: 100 });
    expect(after).toMatchObject({ total: 2, nextCursor: null });
    expect(after.items.map((m) => [m.content, m.seq])).toEqual([
      ['new1', 41],
      ['new2', 42],
    ]);
    expect((await c.memory.get({ sessionId: 'counted' })).messages.map((m) => m.content)).toEqual(['new1', 'new2']);
  });
});
