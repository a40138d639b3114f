/** Conversation trees: branches by adding under a parent, the active path in every linear read, switching branch. */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from './errors';
import type { Core } from './index';
import { useTestCore } from './test/core';
import { childrenOf, parentOf, pathTo, subtreeOf, treeOf } from './tree';

const core = useTestCore();
const target = useTestCore();

async function exportText(from: Core): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  await from.transfer.export(out);
  out.end();
  return Buffer.concat(chunks).toString('utf8');
}
const msg = (uuid: string, role = 'user') => ({ role, content: `text of ${uuid}`, uuid });
const path = async (sessionId: string) => (await core().memory.get({ sessionId, lastn: 1000 })).messages.map((m) => m.uuid);
const listed = async (sessionId: string, order: 'asc' | 'desc', limit: number) => {
  const uuids: string[] = [];
  let cursor: string | null = null;
  let total = -1;
  do {
    const page: Awaited<ReturnType<ReturnType<typeof core>['memory']['list']>> = await core().memory.list({
      sessionId,
      order,
      limit,
      cursor,
    });
    uuids.push(...page.items.map((m) => m.uuid));
    total = page.total;
    cursor = page.nextCursor;
  } while (cursor);
  return { uuids, total };
};

describe('the arithmetic of lines (tree.ts)', () => {
  // 1-2-3-4 (line 1), 5-6 under 2 (line 2), 7 under 5 (line 3), 8 a new root (line 4).
  const t = treeOf({
    lastSeq: 8,
    lines: [
      { start: 5, parent: 2 },
      { start: 7, parent: 5 },
      { start: 8, parent: 0 },
    ],
  });

  it('gives each message its parent and children', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((s) => parentOf(t, s))).toEqual([0, 1, 2, 3, 2, 5, 5, 0]);
    expect(childrenOf(t, 0)).toEqual([1, 8]);
    expect(childrenOf(t, 2)).toEqual([3, 5]);
    expect(childrenOf(t, 5)).toEqual([6, 7]);
    expect(childrenOf(t, 4)).toEqual([]);
  });

  it('gives a path as ranges and a subtree as the lines below', () => {
    expect(pathTo(t, 7)).toEqual([
      [1, 2],
      [5, 5],
      [7, 7],
    ]);
    expect(pathTo(t, 4)).toEqual([[1, 4]]);
    expect(subtreeOf(t, 2)).toEqual([
      [2, 4],
      [5, 6],
      [7, 7],
    ]);
    expect(subtreeOf(t, 8)).toEqual([[8, 8]]);
  });
});

describe('a session without branches', () => {
  it('reads as before: no tree fields, one sibling, setHead changes nothing', async () => {
    await core().memory.add({ sessionId: 'line', messages: [msg('a'), msg('b'), msg('c')] });
    // Naming the head as parent goes on with the line.
    await core().memory.add({ sessionId: 'line', messages: [msg('d')], parentId: 'c' });
    const { messages } = await core().memory.get({ sessionId: 'line' });
    expect(messages.map((m) => m.uuid)).toEqual(['a', 'b', 'c', 'd']);
    for (const m of messages) expect(Object.keys(m)).not.toContain('parentId');
    expect(await core().store.sessions.get('line')).not.toHaveProperty('lines');
    expect(await core().memory.siblings({ sessionId: 'line', uuid: 'b' })).toMatchObject({ index: 0, items: [{ uuid: 'b' }] });
    expect(await core().memory.setHead({ sessionId: 'line', uuid: 'b' })).toEqual({ headId: 'd' });
    const tree = await core().memory.tree({ sessionId: 'line' });
    expect(tree.headId).toBe('d');
    expect(tree.items.map((m) => [m.uuid, m.parentId, m.siblingIndex, m.siblingCount])).toEqual([
      ['a', null, 0, 1],
      ['b', 'a', 0, 1],
      ['c', 'b', 0, 1],
      ['d', 'c', 0, 1],
    ]);
  });
});

describe('branches', () => {
  it('an edit (a message under the old one’s parent) starts a branch the reads follow; setHead switches back', async () => {
    const s = 'edit';
    await core().memory.add({ sessionId: s, messages: [msg('q1'), msg('a1', 'assistant'), msg('q2'), msg('a2', 'assistant')] });
    // Edit q2: the new question goes under a1, and its answer follows it.
    await core().memory.add({ sessionId: s, messages: [msg('q2b')], parentId: 'a1' });
    await core().memory.add({ sessionId: s, messages: [msg('a2b', 'assistant')] });
    expect(await path(s)).toEqual(['q1', 'a1', 'q2b', 'a2b']);
    const { messages } = await core().memory.get({ sessionId: s, lastn: 2 });
    expect(messages.map((m) => [m.uuid, m.parentId, m.siblingIndex, m.siblingCount])).toEqual([
      ['q2b', 'a1', 1, 2],
      ['a2b', 'q2b', 0, 1],
    ]);
    expect((await core().memory.siblings({ sessionId: s, uuid: 'q2b' })).items.map((m) => m.uuid)).toEqual(['q2', 'q2b']);
    expect(await listed(s, 'asc', 1)).toEqual({ uuids: ['q1', 'a1', 'q2b', 'a2b'], total: 4 });
    expect(await listed(s, 'desc', 3)).toEqual({ uuids: ['a2b', 'q2b', 'a1', 'q1'], total: 4 });
    // Back to the first version: the head is the newest message under q2.
    expect(await core().memory.setHead({ sessionId: s, uuid: 'q2' })).toEqual({ headId: 'a2' });
    expect(await path(s)).toEqual(['q1', 'a1', 'q2', 'a2']);
    expect(await listed(s, 'desc', 2)).toEqual({ uuids: ['a2', 'q2', 'a1', 'q1'], total: 4 });
    expect((await core().memory.message({ sessionId: s, uuid: 'q2' })).siblingIndex).toBe(0);
    // An append without a parent follows the head, a new branch under a2.
    await core().memory.add({ sessionId: s, messages: [msg('q3')] });
    expect(await path(s)).toEqual(['q1', 'a1', 'q2', 'a2', 'q3']);
    expect((await core().memory.list({ sessionId: s })).total).toBe(5);
    // Everything is in the tree, by number, with the head.
    const tree = await core().memory.tree({ sessionId: s, limit: 100 });
    expect(tree.headId).toBe('q3');
    expect(tree.items.map((m) => [m.uuid, m.parentId])).toEqual([
      ['q1', null],
      ['a1', 'q1'],
      ['q2', 'a1'],
      ['a2', 'q2'],
      ['q2b', 'a1'],
      ['a2b', 'q2b'],
      ['q3', 'a2'],
    ]);
  });

  it('a regenerate (an answer under its question) keeps both answers; the newest wins at setHead on the question', async () => {
    const s = 'regen';
    await core().memory.add({ sessionId: s, messages: [msg('q'), msg('r1', 'assistant')] });
    await core().memory.add({ sessionId: s, messages: [msg('r2', 'assistant')], parentId: 'q' });
    await core().memory.add({ sessionId: s, messages: [msg('r3', 'assistant')], parentId: 'q' });
    expect(await path(s)).toEqual(['q', 'r3']);
    expect((await core().memory.siblings({ sessionId: s, uuid: 'r3' })).index).toBe(2);
    await core().memory.setHead({ sessionId: s, uuid: 'r1' });
    expect(await path(s)).toEqual(['q', 'r1']);
    expect(await core().memory.setHead({ sessionId: s, uuid: 'q' })).toEqual({ headId: 'r3' });
    // A new root (an edited first message) is a sibling of the first root.
    await core().memory.add({ sessionId: s, messages: [msg('q-edited')], parentId: null });
    expect(await path(s)).toEqual(['q-edited']);
    expect((await core().memory.siblings({ sessionId: s, uuid: 'q-edited' })).items.map((m) => m.uuid)).toEqual(['q', 'q-edited']);
  });

  it('an exact head sets the answer aside without deleting it; the next answer goes beside it', async () => {
    const s = 'exact';
    await core().memory.add({ sessionId: s, messages: [msg('q'), msg('a1', 'assistant'), msg('q2')] });
    expect(await core().memory.setHead({ sessionId: s, uuid: 'q', exact: true })).toEqual({ headId: 'q' });
    expect(await path(s)).toEqual(['q']);
    expect((await core().memory.list({ sessionId: s })).total).toBe(1);
    expect(await core().memory.siblings({ sessionId: s, uuid: 'a1' })).toMatchObject({ parentId: 'q', index: 0 });
    await core().memory.add({ sessionId: s, messages: [msg('a2', 'assistant')] });
    expect(await path(s)).toEqual(['q', 'a2']);
    expect((await core().memory.siblings({ sessionId: s, uuid: 'a2' })).items.map((m) => m.uuid)).toEqual(['a1', 'a2']);
    // Undo before an answer came: back exactly where it was.
    await core().memory.setHead({ sessionId: s, uuid: 'q2', exact: true });
    expect(await path(s)).toEqual(['q', 'a1', 'q2']);
    expect((await core().memory.list({ sessionId: s })).total).toBe(3);
  });

  it('resending stored messages (same ids) under a parent starts no branch', async () => {
    const s = 'resend';
    await core().memory.add({ sessionId: s, messages: [msg('x'), msg('y')] });
    await core().memory.add({ sessionId: s, messages: [msg('x'), msg('y')], parentId: null });
    expect(await path(s)).toEqual(['x', 'y']);
    expect(await core().store.sessions.get(s)).not.toHaveProperty('lines');
  });

  it('a resent history with a parent named branches after the last stored message in it (a regenerate saved whole)', async () => {
    const s = 'history';
    await core().memory.add({ sessionId: s, messages: [msg('q1'), msg('a1', 'assistant'), msg('q2'), msg('a2', 'assistant')] });
    // The chat as the client has it after a regenerate: a2 dropped, a new answer in its place.
    await core().memory.add({
      sessionId: s,
      messages: [msg('q1'), msg('a1', 'assistant'), msg('q2'), msg('a2b', 'assistant')],
      parentId: null,
    });
    expect(await path(s)).toEqual(['q1', 'a1', 'q2', 'a2b']);
    expect((await core().memory.siblings({ sessionId: s, uuid: 'a2b' })).items.map((m) => m.uuid)).toEqual(['a2', 'a2b']);
    // Without a parent named, new messages follow the head whatever the batch holds (as before trees).
    await core().memory.add({ sessionId: s, messages: [msg('q1'), msg('q3')] });
    expect(await path(s)).toEqual(['q1', 'a1', 'q2', 'a2b', 'q3']);
  });

  it('a parent that does not exist is NOT_FOUND, and nothing is written', async () => {
    await core().memory.add({ sessionId: 'np', messages: [msg('m')] });
    await expect(core().memory.add({ sessionId: 'np', messages: [msg('n')], parentId: 'nope' })).rejects.toThrow(NotFoundError);
    await expect(core().memory.add({ sessionId: 'np-new', messages: [msg('n')], parentId: 'nope' })).rejects.toThrow(NotFoundError);
    expect(await path('np')).toEqual(['m']);
    expect(await core().store.sessions.get('np-new')).toBeNull();
    await expect(core().memory.setHead({ sessionId: 'np', uuid: 'nope' })).rejects.toThrow(NotFoundError);
  });

  it('truncating deletes the subtree (every branch below), moves the head up, and restores with it', async () => {
    const s = 'trunc';
    await core().memory.add({ sessionId: s, messages: [msg('q'), msg('r1', 'assistant'), msg('f1')] });
    await core().memory.add({ sessionId: s, messages: [msg('r2', 'assistant'), msg('f2')], parentId: 'q' });
    // Regenerate as before trees, destructively: every answer to q goes; the next answer follows q.
    expect(await core().memory.truncate({ sessionId: s, uuid: 'q' })).toEqual({ deleted: 4 });
    expect(await path(s)).toEqual(['q']);
    expect((await core().memory.list({ sessionId: s })).total).toBe(1);
    await core().memory.add({ sessionId: s, messages: [msg('r3', 'assistant')] });
    expect(await path(s)).toEqual(['q', 'r3']);
    // Undo brings the branches back; the head stays on r3 (not under the head).
    await core().memory.restoreMessage({ sessionId: s, uuid: 'r2', deletedWith: true });
    expect(await path(s)).toEqual(['q', 'r3']);
    expect((await core().memory.siblings({ sessionId: s, uuid: 'r3' })).items.map((m) => m.uuid)).toEqual(['r1', 'r2', 'r3']);
    expect((await core().memory.list({ sessionId: s })).total).toBe(2);
    // Deleting the active branch (inclusive) moves the head to its parent; undo brings the head back down.
    await core().memory.truncate({ sessionId: s, uuid: 'r2', inclusive: true });
    await core().memory.setHead({ sessionId: s, uuid: 'r1' });
    await core().memory.truncate({ sessionId: s, uuid: 'r1', inclusive: true });
    expect(await path(s)).toEqual(['q']);
    await core().memory.restoreMessage({ sessionId: s, uuid: 'r1', deletedWith: true });
    expect(await path(s)).toEqual(['q', 'r1', 'f1']);
    expect((await core().memory.list({ sessionId: s })).total).toBe(3);
  });

  it('deleting one message keeps its replies under its parent; counts follow off-path deletes', async () => {
    const s = 'del';
    await core().memory.add({ sessionId: s, messages: [msg('a'), msg('b'), msg('c')] });
    await core().memory.add({ sessionId: s, messages: [msg('b2')], parentId: 'a' });
    await core().memory.deleteMessage({ sessionId: s, uuid: 'c' }); // off the path
    expect((await core().memory.list({ sessionId: s })).total).toBe(2);
    await core().memory.setHead({ sessionId: s, uuid: 'b' });
    expect(await path(s)).toEqual(['a', 'b']);
    await core().memory.add({ sessionId: s, messages: [msg('c2')] });
    await core().memory.deleteMessage({ sessionId: s, uuid: 'b' }); // on the path: c2 follows a
    const { messages } = await core().memory.get({ sessionId: s });
    expect(messages.map((m) => [m.uuid, m.parentId])).toEqual([
      ['a', null],
      ['c2', 'a'],
    ]);
    expect((await core().memory.list({ sessionId: s })).total).toBe(2);
  });

  it('places read once are not reused after a delete or restore changes which messages are live', async () => {
    const s = 'places';
    const placesOf = async () =>
      (await core().memory.get({ sessionId: s })).messages.map((m) => [m.uuid, m.parentId, m.siblingIndex, m.siblingCount]);
    await core().memory.add({ sessionId: s, messages: [msg('q'), msg('a1', 'assistant')] });
    await core().memory.add({ sessionId: s, messages: [msg('a2', 'assistant')], parentId: 'q' });
    const both = [
      ['q', null, 0, 1],
      ['a2', 'q', 1, 2],
    ];
    expect(await placesOf()).toEqual(both);
    expect(await placesOf()).toEqual(both); // read again: the same places
    await core().memory.deleteMessage({ sessionId: s, uuid: 'a1' }); // off the path: a2 is the only answer now
    expect(await placesOf()).toEqual([
      ['q', null, 0, 1],
      ['a2', 'q', 0, 1],
    ]);
    await core().memory.restoreMessage({ sessionId: s, uuid: 'a1' });
    expect(await placesOf()).toEqual(both);
    await core().memory.deleteMessage({ sessionId: s, uuid: 'q' }); // on the path: a2 follows no live message
    expect(await placesOf()).toEqual([['a2', null, 1, 2]]);
    await core().memory.restoreMessage({ sessionId: s, uuid: 'q' });
    expect(await placesOf()).toEqual(both);
    // A branch switch reads the other path's places.
    await core().memory.setHead({ sessionId: s, uuid: 'a1' });
    expect(await placesOf()).toEqual([
      ['q', null, 0, 1],
      ['a1', 'q', 0, 2],
    ]);
  });

  it('reads the active path of a long session a range at a time, with cursors in both orders', async () => {
    const s = 'long';
    // 10 turns; each answer regenerated once (two answers to every question), the second continued.
    for (let i = 0; i < 10; i++) {
      await core().memory.add({ sessionId: s, messages: [msg(`q${i}`), msg(`a${i}`, 'assistant')] });
      await core().memory.add({ sessionId: s, messages: [msg(`b${i}`, 'assistant')], parentId: `q${i}` });
    }
    const expected = Array.from({ length: 10 }, (_, i) => [`q${i}`, `b${i}`]).flat();
    expect(await path(s)).toEqual(expected);
    expect(await listed(s, 'asc', 3)).toEqual({ uuids: expected, total: 20 });
    expect(await listed(s, 'desc', 7)).toEqual({ uuids: [...expected].reverse(), total: 20 });
    expect((await core().memory.get({ sessionId: s, lastn: 3 })).messages.map((m) => m.uuid)).toEqual(['b8', 'q9', 'b9']);
    // Switch at the fourth fork: the path follows a3, then nothing more (a3 has no reply).
    await core().memory.setHead({ sessionId: s, uuid: 'a3' });
    expect(await path(s)).toEqual([...expected.slice(0, 7), 'a3']);
    expect((await core().memory.list({ sessionId: s, limit: 100 })).total).toBe(8);
  });
});

describe('search', () => {
  it('searches the active path by default, every branch when asked', async () => {
    const s = 'search';
    await core().memory.add({ sessionId: s, messages: [{ role: 'user', content: 'tell me about walruses', uuid: 'q' }] });
    await core().memory.add({
      sessionId: s,
      messages: [{ role: 'assistant', content: 'walruses are large', uuid: 'w1', metadata: { kind: 'answer' } }],
    });
    await core().memory.add({
      sessionId: s,
      messages: [{ role: 'assistant', content: 'walruses have tusks', uuid: 'w2', metadata: { kind: 'answer' } }],
      parentId: 'q',
    });
    const found = async (query: { text?: string; metadata?: Record<string, unknown>; allBranches?: boolean }) =>
      (await core().memory.search({ sessionId: s, ...query })).map((r) => r.message.uuid).sort();
    expect(await found({ text: 'walruses', allBranches: true })).toEqual(['q', 'w1', 'w2']);
    expect(await found({ text: 'walruses' })).toEqual(['q', 'w2']);
    expect(await found({ text: 'walruses', allBranches: true })).toEqual(['q', 'w1', 'w2']);
    expect(await found({ metadata: { 'metadata.kind': 'answer' } })).toEqual(['w2']);
    expect(await found({ metadata: { 'metadata.kind': 'answer' }, allBranches: true })).toEqual(['w1', 'w2']);
    await core().memory.setHead({ sessionId: s, uuid: 'w1' });
    expect(await found({ text: 'tusks' })).toEqual([]);
  });
});

describe('export and import', () => {
  it('round-trip a tree byte for byte: lines, head, the active path and its total', async () => {
    const s = 'exported';
    await core().memory.add({ sessionId: s, messages: [msg('q'), msg('r1', 'assistant'), msg('q2'), msg('r2', 'assistant')] });
    await core().memory.add({ sessionId: s, messages: [msg('q2b'), msg('r2b', 'assistant')], parentId: 'r1' });
    await core().memory.add({ sessionId: s, messages: [msg('r1b', 'assistant')], parentId: 'q' });
    await core().memory.setHead({ sessionId: s, uuid: 'q2' }); // the head is not the newest message
    await core().memory.add({ sessionId: 'plain', messages: [msg('p1'), msg('p2')] });
    const text = await exportText(core());
    const records = text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    expect(records.find((r) => r.sessionId === s && r.type === 'session').tree).toEqual({
      lines: [
        [5, 2],
        [7, 1],
      ],
      headSeq: 4,
    });
    // A session without branches exports as before trees.
    expect(records.find((r) => r.sessionId === 'plain' && r.type === 'session')).not.toHaveProperty('tree');
    await target().transfer.import(Readable.from([text]));
    expect(await exportText(target())).toBe(text);
    for (const sessionId of [s, 'plain']) {
      expect(await target().memory.get({ sessionId })).toEqual(await core().memory.get({ sessionId }));
      expect(await target().memory.list({ sessionId, order: 'desc' })).toEqual(await core().memory.list({ sessionId, order: 'desc' }));
      expect(await target().memory.tree({ sessionId })).toEqual(await core().memory.tree({ sessionId }));
    }
    expect((await target().memory.list({ sessionId: s })).total).toBe(4);
    // Re-importing changes nothing.
    await target().transfer.import(Readable.from([text]));
    expect(await exportText(target())).toBe(text);
    expect((await target().memory.list({ sessionId: s })).total).toBe(4);
  });
});
