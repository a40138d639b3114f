/**
 * Zep compatibility rules shared by the two Zep-speaking adapters: the REST API (apps/server/src/rest)
 * and the zep-js style facade (packages/client/src/zep). Isomorphic: no database or Node imports.
 *
 * Paging: Mnemo lists are keyset pages (`{limit ≤ 100, cursor}` → `{items, nextCursor}`), stable
 * under concurrent writes and cheap at any depth. Zep speaks offsets (sessions, users) and 1-based
 * page numbers (messages), with "no limit" meaning everything. A keyset API cannot jump to an
 * offset, so these helpers walk the pages from the start: reading items [offset, offset + limit)
 * costs ⌈(offset + limit) / 100⌉ calls. `chunks` follows the cursor and reads each item once.
 */
import { ValidationError } from './errors';
import type { Page, SearchMemoryInput, SearchSummariesInput } from './schemas';

export const WALK_PAGE_SIZE = 100;

export type FetchPage<T> = (page: { limit: number; cursor: string | null }) => Promise<Page<T>>;

/** Every item of a keyset-paged list, in order, fetched `pageSize` at a time. */
export async function* walk<T>(fetchPage: FetchPage<T>, pageSize = WALK_PAGE_SIZE): AsyncGenerator<T> {
  let cursor: string | null = null;
  do {
    const page: Page<T> = await fetchPage({ limit: pageSize, cursor });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor !== null);
}

/** Items [offset, offset + limit); no limit (or 0) means all the rest. Stops walking once full. */
export async function slice<T>(items: AsyncIterable<T>, offset = 0, limit?: number): Promise<T[]> {
  for (const [name, value] of [
    ['offset', offset],
    ['limit', limit ?? 0],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) throw new ValidationError(`${name} must be a non-negative integer, got ${value}`);
  }
  const out: T[] = [];
  let index = 0;
  if (limit === 0) limit = undefined;
  for await (const item of items) {
    if (index++ < offset) continue;
    out.push(item);
    if (out.length === limit) break;
  }
  return out;
}

/** The offset of Zep's 1-based message page `page` of `limit` messages (page < 1 reads as 1). */
export function pageOffset(page: number | undefined, limit: number | undefined): number {
  return limit ? (Math.max(page ?? 1, 1) - 1) * limit : 0;
}

/** Consecutive chunks of `size` items (the last one may be shorter); never an empty chunk. */
export async function* chunks<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  if (!Number.isInteger(size) || size < 1) throw new ValidationError(`chunk size must be a positive integer, got ${size}`);
  let chunk: T[] = [];
  for await (const item of items) {
    chunk.push(item);
    if (chunk.length === size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * Zep answers the memory of a session that does not exist with NOT_FOUND, where Mnemo's history of
 * it is empty (a new chat). So an empty memory is checked against the session (`getSession` throws
 * NOT_FOUND for an unknown one); a memory with messages costs nothing more.
 */
export async function zepMemory<M extends { messages: unknown[] }>(memory: M, getSession: () => Promise<unknown>): Promise<M> {
  if (memory.messages.length === 0) await getSession();
  return memory;
}

/** Zep's memory search payload (`MemorySearchPayload`, snake_case). */
export interface ZepSearchPayload {
  text?: string | null;
  metadata?: Record<string, unknown> | null;
  search_scope?: 'messages' | 'summary' | null;
  search_type?: 'similarity' | 'mmr' | null;
  mmr_lambda?: number | null;
}

/**
 * Zep's search payload → Mnemo's search input. Zep puts `start_date`/`end_date` inside `metadata`;
 * the rest of `metadata` is the filter (MongoDB-style, on message metadata). Zep's JSONPath `where`
 * has no Mnemo equivalent and is refused with a VALIDATION error saying so; `search_scope: "summary"`
 * is `fromZepSummarySearch`'s (a session's summaries).
 */
export function fromZepSearch(sessionId: string, payload: ZepSearchPayload, limit?: number): SearchMemoryInput {
  return { sessionId, ...fromZepSearchQuery(payload, limit) };
}

/** The same, without the scope: the query of a session search, or of a user search (`{ userId, ...query }`). */
export function fromZepSearchQuery(payload: ZepSearchPayload, limit?: number): Omit<SearchMemoryInput, 'sessionId'> {
  const { start_date, end_date, where, ...filter } = payload.metadata ?? {};
  if (where !== undefined) {
    throw new ValidationError('metadata.where (JSONPath) is not supported: pass a MongoDB-style filter such as {"metadata.tag": "x"}');
  }
  if (payload.search_scope === 'summary')
    throw new ValidationError('search_scope "summary" searches one session’s summaries, not a user’s');
  return {
    text: payload.text,
    metadata: filter,
    startDate: start_date,
    endDate: end_date,
    limit: limit || undefined,
    searchType: payload.search_type ?? undefined,
    mmrLambda: payload.mmr_lambda ?? undefined,
  };
}

/**
 * Zep's search payload with `search_scope: "summary"` → a search of the session's summaries: by text
 * alone (summaries carry no metadata to filter on, so a filter or dates are refused; `search_type` is
 * ignored: summaries rank by relevance).
 */
export function fromZepSummarySearch(sessionId: string, payload: ZepSearchPayload, limit?: number): SearchSummariesInput {
  if (payload.metadata && Object.keys(payload.metadata).length > 0) {
    throw new ValidationError('search_scope "summary" searches by text alone: leave metadata out');
  }
  return { sessionId, text: payload.text ?? '', limit: limit || undefined };
}
