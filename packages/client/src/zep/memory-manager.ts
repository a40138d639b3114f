import { chunks, fromZepSearch, fromZepSummarySearch, slice, walk, zepMemory } from '@mnemo/core/zep';
import type { MnemoClient } from '../client';
import { requireId, zepCall } from './errors';
import { fromMessage, fromSession, toMessage, toSession, toSummary } from './mappers';
import { type IMemory, type IMemorySearchPayload, type ISession, Memory, MemorySearchResult, type Session } from './models';

/** zep-js's `client.memory`: sessions and their messages. */
export class MemoryManager {
  constructor(private readonly trpc: MnemoClient) {}

  /** @throws NotFoundError when the session does not exist or was deleted. */
  async getSession(sessionId: string): Promise<Session> {
    requireId(sessionId, 'sessionId');
    return toSession(await zepCall(() => this.trpc.session.get.query({ sessionId })));
  }

  /** Creates a session; an existing id (even a deleted one) is an APIError (409). */
  async addSession(session: ISession): Promise<Session> {
    requireId(session?.session_id, 'session.session_id');
    return toSession(await zepCall(() => this.trpc.session.add.mutate(fromSession(session))));
  }

  /** Merges `session.metadata` into the stored metadata (`{ $delete: true }` removes a key; other fields are ignored). */
  async updateSession(session: ISession): Promise<Session> {
    const sessionId = requireId(session?.session_id, 'session.session_id');
    const metadata = session.metadata ?? {};
    return toSession(await zepCall(() => this.trpc.session.update.mutate({ sessionId, metadata })));
  }

  /**
   * Sessions [cursor, cursor + limit) in creation order; all of them from `cursor` on when `limit`
   * is absent. `cursor` is an offset, as zep-js assumes; it is served by walking Mnemo's keyset
   * pages from the start, so it costs ⌈(cursor + limit) / 100⌉ requests. Prefer
   * `listSessionsChunked` to read everything.
   */
  async listSessions(limit?: number, cursor?: number): Promise<Session[]> {
    const items = await zepCall(() =>
      slice(
        walk((page) => this.trpc.session.list.query(page)),
        cursor,
        limit,
      ),
    );
    return items.map(toSession);
  }

  /** Every live session exactly once, in chunks of `chunkSize`, following Mnemo's keyset cursor. */
  async *listSessionsChunked(chunkSize = 100): AsyncGenerator<Session[], void, unknown> {
    const pages = chunks(
      walk((page) => this.trpc.session.list.query(page)),
      chunkSize,
    );
    while (true) {
      const next = await zepCall(() => pages.next());
      if (next.done) return;
      yield next.value.map(toSession);
    }
  }

  /** The last `lastn` messages (default: the server's window), oldest first. */
  async getMemory(sessionID: string, lastn?: number): Promise<Memory> {
    requireId(sessionID, 'sessionID');
    const memory = await zepCall(async () =>
      zepMemory(await this.trpc.memory.get.query({ sessionId: sessionID, lastn }), () =>
        this.trpc.session.get.query({ sessionId: sessionID }),
      ),
    );
    return new Memory({ messages: memory.messages.map(toMessage), summary: memory.summary && toSummary(memory.summary) });
  }

  /** Appends the messages (creating or undeleting the session); resolves to `"OK"` like Zep. */
  async addMemory(sessionID: string, memory: IMemory): Promise<string> {
    requireId(sessionID, 'sessionID');
    const messages = (memory.messages ?? []).map(fromMessage);
    await zepCall(() => this.trpc.memory.add.mutate({ sessionId: sessionID, messages }));
    return 'OK';
  }

  /** Soft-deletes the session and its messages (Zep semantics); resolves to `"OK"`. */
  async deleteMemory(sessionID: string): Promise<string> {
    requireId(sessionID, 'sessionID');
    await zepCall(() => this.trpc.memory.delete.mutate({ sessionId: sessionID }));
    return 'OK';
  }

  /**
   * Searches the session's messages: `text` ranks by relevance (`dist`, higher is better);
   * `metadata` holds a MongoDB-style filter on message metadata plus optional `start_date`/`end_date`.
   */
  async searchMemory(sessionID: string, searchPayload: IMemorySearchPayload, limit?: number): Promise<MemorySearchResult[]> {
    requireId(sessionID, 'sessionID');
    if (searchPayload.search_scope === 'summary') {
      const input = fromZepSummarySearch(sessionID, searchPayload, limit);
      const results = await zepCall(() => this.trpc.memory.searchSummaries.query(input));
      return results.map((r) => new MemorySearchResult({ summary: toSummary(r.summary), dist: r.dist }));
    }
    const input = fromZepSearch(sessionID, searchPayload, limit);
    const results = await zepCall(() => this.trpc.memory.search.query(input));
    return results.map(
      (r) => new MemorySearchResult({ message: toMessage(r.message), metadata: r.message.metadata, dist: r.dist, embedding: r.embedding }),
    );
  }
}
