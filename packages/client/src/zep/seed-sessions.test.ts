/**
 * The TypeScript snippets of the seed documentation (spec/seed-sessions.md), each copied verbatim
 * between the `--- snippet` markers, plus the setup they assume: `client`, `sessionID`, `userID`.
 */
import { randomUUID } from 'node:crypto';
import { startTestServer } from '@mnemo/server/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ISession, NotFoundError, Session, ZepClient } from '../index';

describe('seed-sessions.md snippets through the Zep facade', () => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  let client: ZepClient;
  let sessionID: string;
  let userID: string;

  beforeAll(async () => {
    server = await startTestServer();
    client = await ZepClient.init(server.url);
    userID = `user-${randomUUID()}`;
    await client.user.add({ user_id: userID });
    sessionID = randomUUID().replaceAll('-', '');
  });
  afterAll(() => server?.close());

  it('Add a Session', async () => {
    // --- snippet "Add a Session"
    const sessionData: ISession = {
      session_id: sessionID,
      user_id: userID, // Optionally associate this session with a user
      metadata: { foo: 'bar' },
    };
    const session = new Session(sessionData);
    await client.memory.addSession(session);
    // --- end of snippet

    const stored = await client.memory.getSession(sessionID);
    expect(stored).toMatchObject({ session_id: sessionID, user_id: userID, metadata: { foo: 'bar' } });
    expect((await client.user.getSessions(userID)).map((s) => s.session_id)).toEqual([sessionID]);
  });

  it('Updating Session Metadata (merged, not replaced)', async () => {
    // --- snippet "Add a Session" (the update example)
    const sessionData: ISession = {
      session_id: sessionID,
      metadata: { qax: 'baz' },
    };
    const session = new Session(sessionData);
    await client.memory.updateSession(session);
    // --- end of snippet

    const stored = await client.memory.getSession(sessionID);
    expect(stored.metadata).toEqual({ foo: 'bar', qax: 'baz' });
    expect(stored.user_id).toBe(userID);
  });

  it('Getting a Session', async () => {
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});

    // --- snippet "Get a Session"
    const session = await client.memory.getSession(sessionID);
    console.debug('Retrieved session ', session.toDict());
    // --- end of snippet

    expect(debug).toHaveBeenCalledExactlyOnceWith('Retrieved session ', {
      uuid: expect.any(String),
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      deleted_at: undefined,
      session_id: sessionID,
      user_id: userID,
      metadata: { foo: 'bar', qax: 'baz' },
    });
  });

  it('Delete a Session and Memory', async () => {
    // --- snippet "Delete a Session and Memory"

    await client.memory.deleteMemory(sessionID);
    // --- end of snippet

    await expect(client.memory.getSession(sessionID)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.memory.getMemory(sessionID)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('Listing Sessions', async () => {
    const created: string[] = [];
    for (let i = 0; i < 23; i++) {
      const session = await client.memory.addSession(new Session({ session_id: `list-${i}`, metadata: { i } }));
      created.push(session.session_id);
    }
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});

    // --- snippet (Listing Sessions)
    // List the first 10 Sessions
    const sessions = await client.memory.listSessions(10, 0);

    // List All Sessions using a generator
    for await (const sessionChunk of client.memory.listSessionsChunked(100)) {
      for (const session of sessionChunk) {
        console.debug('Retrieved session ', session.toDict());
      }
    }
    // --- end of snippet

    expect(sessions.map((s) => s.session_id)).toEqual(created.slice(0, 10));
    // Every live session exactly once (the deleted one is gone), in creation order.
    expect(debug.mock.calls.map(([, dict]) => (dict as ISession).session_id)).toEqual(created);
  });

  it('listSessionsChunked returns every session exactly once, in chunks of the requested size', async () => {
    const chunks: string[][] = [];
    for await (const chunk of client.memory.listSessionsChunked(10)) chunks.push(chunk.map((s) => s.session_id));
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 3]);
    const ids = chunks.flat();
    expect(new Set(ids).size).toBe(23);
    expect(ids).toEqual(Array.from({ length: 23 }, (_, i) => `list-${i}`));

    // Offsets, as zep-js's listSessions(limit, cursor) means them.
    expect((await client.memory.listSessions(10, 20)).map((s) => s.session_id)).toEqual(['list-20', 'list-21', 'list-22']);
    expect((await client.memory.listSessions(5, 23)).map((s) => s.session_id)).toEqual([]);
    expect(await client.memory.listSessions()).toHaveLength(23);
    expect((await client.memory.listSessions(undefined, 21)).map((s) => s.session_id)).toEqual(['list-21', 'list-22']);
  });
});
