import type { MessageFormatAdapter, ThreadMessage } from '@assistant-ui/react';
import { createMnemoClient } from '@mnemo/client';
import { describe, expect, it } from 'vitest';
import { mnemoBranchChange, mnemoHistoryAdapter, mnemoThreadListAdapter } from './assistant-ui';
import { uniqueId, useTestServer } from './test/harness';

const server = useTestServer();
const client = () => createMnemoClient({ url: server().url });

interface UIMessage {
  id: string;
  role: 'user' | 'assistant' | 'system';
  parts: { type: 'text'; text: string }[];
  metadata?: unknown;
}
/** The AI SDK format as assistant-ui's AI SDK runtime stores it ("ai-sdk/v6"): the UIMessage without its id. */
const aiSdkFormat: MessageFormatAdapter<UIMessage, Record<string, unknown>> = {
  format: 'ai-sdk/v6',
  encode: ({ message: { id: _id, ...rest } }) => rest,
  decode: (stored) => ({ parentId: stored.parent_id, message: { id: stored.id, ...(stored.content as Omit<UIMessage, 'id'>) } }),
  getId: (message) => message.id,
};
const ui = (id: string, role: UIMessage['role'], text: string): UIMessage => ({ id, role, parts: [{ type: 'text', text }] });

describe('mnemoHistoryAdapter', () => {
  it('withFormat: appends under parents make branches; load gives the whole tree and the head; setHead persists a switch', async () => {
    const sessionId = uniqueId('aui');
    const history = mnemoHistoryAdapter(client(), sessionId).withFormat!(aiSdkFormat);
    expect(await history.load()).toEqual({ headId: null, messages: [] });
    await history.append({ parentId: null, message: ui('q1', 'user', 'Name a tea') });
    await history.append({ parentId: 'q1', message: ui('a1', 'assistant', 'Sencha') });
    // Edit: a second question beside the first, with its answer.
    await history.append({ parentId: null, message: ui('q2', 'user', 'Name a green tea') });
    await history.append({ parentId: 'q2', message: ui('a2', 'assistant', 'Gyokuro') });
    // The runtime repeats an append: nothing is written twice.
    await history.append({ parentId: 'q2', message: ui('a2', 'assistant', 'Gyokuro') });

    const loaded = await history.load();
    expect(loaded.headId).toBe('a2');
    expect(loaded.messages).toEqual([
      { parentId: null, message: ui('q1', 'user', 'Name a tea') },
      { parentId: 'q1', message: ui('a1', 'assistant', 'Sencha') },
      { parentId: null, message: ui('q2', 'user', 'Name a green tea') },
      { parentId: 'q2', message: ui('a2', 'assistant', 'Gyokuro') },
    ]);
    // Other readers see the same conversation: the active path is the edited one.
    expect((await client().memory.get.query({ sessionId })).messages.map((m) => m.content)).toEqual(['Name a green tea', 'Gyokuro']);

    // The branch picker goes back to 1/2: the runtime reports the canonical head, the adapter stores it.
    const base = mnemoHistoryAdapter(client(), sessionId);
    await base.setHead('a1');
    expect((await history.load()).headId).toBe('a1');
    mnemoBranchChange(base)({ headId: 'a2' });
    await expect.poll(async () => (await history.load()).headId).toBe('a2');
  });

  it('the base format loads ThreadMessages with their tree and appends text messages', async () => {
    const sessionId = uniqueId('aui');
    const history = mnemoHistoryAdapter(client(), () => sessionId);
    const message = (id: string, role: 'user' | 'assistant', text: string) =>
      ({
        id,
        role,
        content: [{ type: 'text', text }],
        createdAt: new Date(),
        metadata: {},
        status: { type: 'complete' },
      }) as unknown as ThreadMessage;
    await history.append({ parentId: null, message: message('q', 'user', 'Hello') });
    await history.append({ parentId: 'q', message: message('a1', 'assistant', 'Hi') });
    await history.append({ parentId: 'q', message: message('a2', 'assistant', 'Hey') });
    const loaded = await history.load();
    expect(loaded.headId).toBe('a2');
    expect(loaded.messages.map((m) => [m.parentId, m.message.id, m.message.role, m.message.content])).toEqual([
      [null, 'q', 'user', [{ type: 'text', text: 'Hello' }]],
      ['q', 'a1', 'assistant', [{ type: 'text', text: 'Hi' }]],
      ['q', 'a2', 'assistant', [{ type: 'text', text: 'Hey' }]],
    ]);
  });

  it('withFormat update rewrites a stored message in place, and adds one whose first write was lost', async () => {
    const sessionId = uniqueId('aui');
    const history = mnemoHistoryAdapter(client(), sessionId).withFormat!(aiSdkFormat);
    await history.append({ parentId: null, message: ui('q', 'user', 'Weather?') });
    await history.append({ parentId: 'q', message: ui('a', 'assistant', 'Checking…') });
    await history.update!({ parentId: 'q', message: ui('a', 'assistant', 'Sunny') }, 'a');
    await history.update!({ parentId: 'a', message: ui('b', 'assistant', 'Anything else?') }, 'b');
    expect((await history.load()).messages.map((m) => [m.parentId, m.message])).toEqual([
      [null, ui('q', 'user', 'Weather?')],
      ['q', ui('a', 'assistant', 'Sunny')],
      ['a', ui('b', 'assistant', 'Anything else?')],
    ]);
  });

  it('a session that resolves to undefined (no thread yet) loads empty and refuses appends', async () => {
    const history = mnemoHistoryAdapter(client(), () => undefined);
    expect((await history.load()).messages).toEqual([]);
    await expect(history.withFormat!(aiSdkFormat).append({ parentId: null, message: ui('x', 'user', 'Hi') })).rejects.toThrow(/no session/);
  });

  it('withFormat refuses a format that does not encode { role, parts }, and writes nothing', async () => {
    const sessionId = uniqueId('aui');
    const opaque: MessageFormatAdapter<UIMessage, Record<string, unknown>> = { ...aiSdkFormat, encode: () => ({ blob: 'x' }) };
    const history = mnemoHistoryAdapter(client(), sessionId).withFormat!(opaque);
    await expect(history.append({ parentId: null, message: ui('x', 'user', 'Hi') })).rejects.toThrow(TypeError);
    expect((await client().message.tree.query({ sessionId })).items).toEqual([]);
  });
});

describe('mnemoThreadListAdapter', () => {
  it('initialize, list by activity, rename, archive, unarchive, fetch, title and delete on sessions', async () => {
    const userId = uniqueId('aui-user');
    await client().user.add.mutate({ userId });
    const threads = mnemoThreadListAdapter(client(), { userId });
    expect(await threads.initialize('t-old', { custom: { topic: 'tea' } })).toEqual({ remoteId: 't-old' });
    await threads.initialize('t-new');
    // Initialize again (a retry): the thread exists, nothing changes.
    expect(await threads.initialize('t-old')).toEqual({ remoteId: 't-old' });
    await client().memory.add.mutate({ sessionId: 't-old', messages: [{ role: 'user', content: 'Hello' }] });
    expect((await client().session.get.query({ sessionId: 't-old' })).metadata).toEqual({ topic: 'tea' });

    // Most recent activity first: the thread with a message just now.
    let list = await threads.list();
    expect(list.threads.map((t) => [t.remoteId, t.status])).toEqual([
      ['t-old', 'regular'],
      ['t-new', 'regular'],
    ]);
    expect(list.threads[0]!.lastMessageAt).toBeInstanceOf(Date);

    await threads.rename('t-new', 'Green teas');
    await threads.archive('t-old');
    expect(await threads.fetch('t-new')).toMatchObject({ remoteId: 't-new', status: 'regular', title: 'Green teas' });
    expect(await threads.fetch('t-old')).toMatchObject({ status: 'archived' });
    await threads.unarchive!('t-old');
    expect((await client().session.get.query({ sessionId: 't-old' })).metadata).toEqual({ topic: 'tea' });

    // A title from the first question, stored before the stream ends, streamed as one text part.
    const question = {
      id: 'q',
      role: 'user',
      content: [{ type: 'text', text: 'Which   tea is best\nin winter?' }],
    } as unknown as ThreadMessage;
    const chunks: unknown[] = [];
    const reader = (await threads.generateTitle('t-old', [question])).getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) chunks.push(read.value);
    expect(chunks).toContainEqual({ type: 'text-delta', path: [0], textDelta: 'Which tea is best in winter?' });
    expect((await threads.fetch('t-old')).title).toBe('Which tea is best in winter?');

    await threads.delete('t-new');
    list = await threads.list();
    expect(list.threads.map((t) => t.remoteId)).toEqual(['t-old']);
  });
});
