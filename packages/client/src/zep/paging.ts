/**
 * Zep's list calls over Mnemo's keyset pages.
 *
 * Mnemo lists are keyset pages (`{limit ≤ 100, cursor}` → `{items, nextCursor}`), stable under
 * concurrent writes and cheap at any depth. zep-js instead speaks offsets (sessions, users) and
 * 1-based page numbers (messages). A keyset API cannot jump to an offset, so `slice` walks the
 * pages from the start: reading items [offset, offset + limit) costs ⌈(offset + limit) / 100⌉
 * requests. `chunks` — what the `*Chunked` iterators use — follows `nextCursor` directly, so it
 * reads every item exactly once in ⌈n / 100⌉ requests (plus one per chunk boundary at most).
 */
import { APIError } from './errors';

export const MAX_PAGE = 100;

export interface KeysetPage<T> {
  items: T[];
  nextCursor: string | null;
}
export type FetchPage<T> = (page: { limit: number; cursor: string | null }) => Promise<KeysetPage<T>>;

/** Consecutive chunks of `size` items (the last one may be shorter); never yields an empty chunk. */
export async function* chunks<T>(fetchPage: FetchPage<T>, size: number): AsyncGenerator<T[], void, unknown> {
  if (!Number.isInteger(size) || size < 1) throw new APIError(`chunk size must be a positive integer, got ${size}`, 400);
  let cursor: string | null = null;
  let done = false;
  while (!done) {
    const chunk: T[] = [];
    while (chunk.length < size && !done) {
      const page: KeysetPage<T> = await fetchPage({ limit: Math.min(MAX_PAGE, size - chunk.length), cursor });
      chunk.push(...page.items);
      cursor = page.nextCursor;
      done = cursor === null;
    }
    if (chunk.length > 0) yield chunk;
  }
}

/**
 * Items [offset, offset + limit) of the whole list; every item from `offset` on when `limit` is
 * absent or 0 (Zep: "no limit"). Walks the keyset pages from the start (see above).
 */
export async function slice<T>(fetchPage: FetchPage<T>, offset = 0, limit?: number): Promise<T[]> {
  for (const [name, value] of [['offset', offset], ['limit', limit ?? 0]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new APIError(`${name} must be a non-negative integer, got ${value}`, 400);
  }
  const end = limit ? offset + limit : Number.POSITIVE_INFINITY;
  const out: T[] = [];
  let seen = 0;
  let cursor: string | null = null;
  while (seen < end) {
    const page: KeysetPage<T> = await fetchPage({ limit: Math.min(MAX_PAGE, end - seen), cursor });
    for (const item of page.items) if (seen++ >= offset) out.push(item);
    cursor = page.nextCursor;
    if (cursor === null) break;
  }
  return out;
}
