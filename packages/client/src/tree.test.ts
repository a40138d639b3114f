/**
 * Conversation trees through the typed client against the real server: branches by adding under a
 * parent, the branch picker's fields, switching branch, the whole tree, and Zep's REST routes on the
 * active path.
 */
import { randomUUID } from 'node:crypto';
import { startTestServer } from '@mnemo/server/testing';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createMnemoClient, type MnemoClient } from './index';
import { codeOf } from './test-token';

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
type ZepMemory = { messages: Record<string, unknown>[] };

describe('conversation trees through the typed client', () => {
  let server: TestServer;
  let trpc: MnemoClient;
  beforeAll(async () => {
    server = await startTestServer();
    trpc = createMnemoClient({ url: server.url });
  });
  afterAll(() => server?.close());

  const say = (uuid: string, role = 'user') => ({ uuid, role, content: `text of ${uuid}` });

  it('an edit and a regenerate become branches; the picker fields come with each message; setHead switches', async () => {
    const sessionId = `tree-${randomUUID()}`;
    await trpc.memory.add.mutate({ sessionId, messages: [say('q1'), say('a1', 'assistant')] });
    // Regenerate a1: a second answer under q1.
    await trpc.memory.add.mutate({ sessionId, messages: [say('a1b', 'assistant')], parentId: 'q1' });
    // Edit q1: a new root, answered.
    await trpc.memory.add.mutate({ sessionId, messages: [say('q1b'), say('a2', 'assistant')], parentId: null });
    const memory = await trpc.memory.get.query({ sessionId });
    expectTypeOf(memory.messages[0]!.siblingCount).toEqualTypeOf<number | undefined>();
    expect(memory.messages.map((m) => [m.uuid, m.parentId, m.siblingIndex, m.siblingCount])).toEqual([
      ['q1b', null, 1, 2],
      ['a2', 'q1b', 0, 1],
    ]);
    expect(await trpc.session.setHead.mutate({ sessionId, uuid: 'q1' })).toEqual({ headId: 'a1b' });
    const page = await trpc.message.list.query({ sessionId, order: 'desc', limit: 1 });
    expect(page.items.map((m) => [m.uuid, m.siblingIndex, m.siblingCount])).toEqual([['a1b', 1, 2]]);
    expect(page.total).toBe(2);
    const older = await trpc.message.list.query({ sessionId, order: 'desc', limit: 1, cursor: page.nextCursor });
    expect(older.items.map((m) => m.uuid)).toEqual(['q1']);
    expect((await trpc.message.siblings.query({ sessionId, uuid: 'a1' })).items.map((m) => m.uuid)).toEqual(['a1', 'a1b']);
    const tree = await trpc.message.tree.query({ sessionId, limit: 3 });
    expect(tree.headId).toBe('a1b');
    const rest = await trpc.message.tree.query({ sessionId, limit: 3, cursor: tree.nextCursor });
    expect([...tree.items, ...rest.items].map((m) => [m.uuid, m.parentId])).toEqual([
      ['q1', null],
      ['a1', 'q1'],
      ['a1b', 'q1'],
      ['q1b', null],
      ['a2', 'q1b'],
    ]);
    expect(rest.nextCursor).toBeNull();
  });

  it("Zep's REST memory reads the active path; a linear session reads exactly as before", async () => {
    const sessionId = `zep-${randomUUID()}`;
    await trpc.memory.add.mutate({ sessionId, messages: [say('q'), say('r1', 'assistant')] });
    const linear = (await (await fetch(`${server.url}/api/v1/sessions/${sessionId}/memory`)).json()) as ZepMemory;
    expect(linear.messages.map((m) => m.uuid)).toEqual(['q', 'r1']);
    for (const m of (await trpc.memory.get.query({ sessionId })).messages) expect(m).not.toHaveProperty('parentId');
    await trpc.memory.add.mutate({ sessionId, messages: [say('r2', 'assistant')], parentId: 'q' });
    const branched = (await (await fetch(`${server.url}/api/v1/sessions/${sessionId}/memory`)).json()) as ZepMemory;
    expect(branched.messages.map((m) => m.uuid)).toEqual(['q', 'r2']);
    // Zep's shape carries no tree fields.
    expect(Object.keys(branched.messages[1]!)).toEqual(Object.keys(linear.messages[1]!));
  });

  it('bad input is a 4xx and writes nothing', async () => {
    const sessionId = `bad-${randomUUID()}`;
    await trpc.memory.add.mutate({ sessionId, messages: [say('m')] });
    expect(await codeOf(trpc.memory.add.mutate({ sessionId, messages: [say('n')], parentId: 'missing' }))).toBe('NOT_FOUND');
    expect(await codeOf(trpc.memory.add.mutate({ sessionId, messages: [say('n')], parentId: 'has spaces' }))).toBe('BAD_REQUEST');
    expect(await codeOf(trpc.session.setHead.mutate({ sessionId, uuid: 'missing' }))).toBe('NOT_FOUND');
    expect(await codeOf(trpc.message.siblings.query({ sessionId: `other-${randomUUID()}`, uuid: 'm' }))).toBe('NOT_FOUND');
    expect(await codeOf(trpc.message.tree.query({ sessionId, limit: 1000 }))).toBe('BAD_REQUEST');
    expect((await trpc.memory.get.query({ sessionId })).messages.map((m) => m.uuid)).toEqual(['m']);
    expect((await trpc.session.get.query({ sessionId })).messageCount).toBe(1);
  });
});
