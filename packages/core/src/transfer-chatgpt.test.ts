/** ChatGPT's data export (conversations.json) into sessions with their branches and head, from files of the documented shape. */
import { describe, expect, it } from 'vitest';
import { useTestCore } from './test/core';
import { importChatGpt } from './transfer-chatgpt';

const core = useTestCore();

/** A node of `mapping`: a message (or none: the hidden root) with its parent and children. */
const node = (id: string, parent: string | null, children: string[], message?: { role: string; text: string; at: number }) => ({
  id,
  parent,
  children,
  message: message
    ? {
        id: `m-${id}`,
        author: { role: message.role, name: null, metadata: {} },
        create_time: message.at,
        update_time: null,
        content: { content_type: 'text', parts: [message.text] },
        status: 'finished_successfully',
        metadata: {},
        recipient: 'all',
      }
    : null,
});

// "Name a tea" was edited into "Name a coffee"; the answer to the edit was regenerated; current_node is on the
// first answer to the edit. The root is hidden, and so is an empty system message.
const branched = {
  title: 'Drinks',
  create_time: 1_700_000_000.5,
  update_time: 1_700_000_900.25,
  conversation_id: 'c0ffee00-0000-4000-8000-000000000001',
  current_node: 'a2',
  mapping: {
    root: node('root', null, ['sys']),
    sys: { ...node('sys', 'root', ['q1', 'q2'], { role: 'system', text: '', at: 1_700_000_000 }) },
    q1: node('q1', 'sys', ['a1'], { role: 'user', text: 'Name a tea', at: 1_700_000_001 }),
    a1: node('a1', 'q1', [], { role: 'assistant', text: 'Sencha', at: 1_700_000_002 }),
    q2: node('q2', 'sys', ['a2', 'a3'], { role: 'user', text: 'Name a coffee', at: 1_700_000_100 }),
    a2: node('a2', 'q2', [], { role: 'assistant', text: 'Espresso', at: 1_700_000_101 }),
    a3: node('a3', 'q2', [], { role: 'assistant', text: 'Flat white', at: 1_700_000_200 }),
  },
};
const linear = {
  title: 'Hello',
  create_time: 1_700_001_000,
  update_time: 1_700_001_010,
  id: 'c0ffee00-0000-4000-8000-000000000002',
  current_node: 'b',
  mapping: {
    r: node('r', null, ['a']),
    a: node('a', 'r', ['b'], { role: 'user', text: 'Hi', at: 1_700_001_001 }),
    b: node('b', 'a', [], { role: 'assistant', text: 'Hello!', at: 1_700_001_002 }),
  },
};
const file = [
  branched,
  { title: 'no mapping', conversation_id: 'bad-1' },
  linear,
  { conversation_id: 'bad-3', mapping: { x: node('x', 'missing', [], { role: 'user', text: 'orphan', at: 1 }) } },
];

describe('import-chatgpt', () => {
  it('imports each conversation with its branches, head, ids, title and times; reports the malformed ones by index', async () => {
    const result = await importChatGpt(core(), file, { userId: 'ada' });
    expect(result.imported).toEqual({ sessions: 2, messages: 7 });
    expect(result.problems.map((p) => p.index)).toEqual([1, 3]);
    expect(result.problems[1]!.message).toMatch(/parent/);
    expect(await core().store.sessions.get('bad-1')).toBeNull();
    expect(await core().store.sessions.get('bad-3')).toBeNull();

    const sessionId = branched.conversation_id;
    const session = await core().sessions.get({ sessionId });
    expect(session).toMatchObject({
      userId: 'ada',
      metadata: { title: 'Drinks', chatgpt: { createTime: '2023-11-14T22:13:20.500Z', updateTime: '2023-11-14T22:28:20.250Z' } },
    });
    // The head is current_node: the first answer to the edited question.
    const { messages } = await core().memory.get({ sessionId });
    expect(messages.map((m) => [m.uuid, m.role, m.content, m.parentId, m.siblingIndex, m.siblingCount])).toEqual([
      ['m-q2', 'user', 'Name a coffee', null, 1, 2],
      ['m-a2', 'assistant', 'Espresso', 'm-q2', 0, 2],
    ]);
    expect(messages[0]!.createdAt).toEqual(new Date(1_700_000_100_000));
    const tree = await core().memory.tree({ sessionId });
    expect(tree.items.map((m) => [m.uuid, m.parentId])).toEqual([
      ['m-q1', null],
      ['m-a1', 'm-q1'],
      ['m-q2', null],
      ['m-a2', 'm-q2'],
      ['m-a3', 'm-q2'],
    ]);
    expect(tree.headId).toBe('m-a2');
    expect((await core().memory.get({ sessionId: linear.id })).messages.map((m) => m.content)).toEqual(['Hi', 'Hello!']);
  });

  it('running it again changes nothing', async () => {
    const snapshot = async () => {
      const c = core().collections;
      return JSON.stringify([
        await c.sessions.find({}).sort({ sessionId: 1 }).toArray(),
        await c.messages.find({}).sort({ uuid: 1 }).toArray(),
      ]);
    };
    await core().store.sessions.settleAll();
    const before = await snapshot();
    const result = await importChatGpt(core(), file, { userId: 'ada' });
    expect(result.imported).toEqual({ sessions: 0, messages: 0 });
    expect(result.skipped).toEqual({ sessions: 2, messages: 7 });
    await core().store.sessions.settleAll();
    expect(await snapshot()).toBe(before);
  });

  it('refuses a file that is not an array of conversations', async () => {
    await expect(importChatGpt(core(), { conversations: [] }, { userId: 'ada' })).rejects.toThrow(/array of conversations/);
  });
});
