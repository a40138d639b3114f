/**
 * Zep's paging conventions on top of the native keyset pages `{items, nextCursor}`.
 *
 * The native lists are keyset-paged (≤ 100 per call, stable under concurrent writes). Zep's REST
 * lists use an offset (sessions, users) or a 1-based page number (messages), and an absent limit
 * means "everything". The adapter therefore walks the keyset pages, 100 at a time, from the start:
 * an offset costs O(offset) here, which is what offset paging costs anyway. Clients that page deep
 * should use the tRPC API, whose cursors are cheap at any depth.
 */
import type { Page } from '@mnemo/core/schemas';

export const WALK_PAGE_SIZE = 100;

export type FetchPage<T> = (page: { limit: number; cursor: string | null }) => Promise<Page<T>>;

/** Every item of a keyset-paged list, in order. */
export async function* walk<T>(fetchPage: FetchPage<T>): AsyncGenerator<T> {
  let cursor: string | null = null;
  do {
    const page: Page<T> = await fetchPage({ limit: WALK_PAGE_SIZE, cursor });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor !== null);
}

/** Items `offset … offset+limit-1`; no limit (or 0) means all the rest. Stops walking once full. */
export async function slice<T>(items: AsyncIterable<T>, offset = 0, limit?: number): Promise<T[]> {
  const out: T[] = [];
  if (limit === 0) limit = undefined;
  let index = 0;
  for await (const item of items) {
    if (index++ < offset) continue;
    out.push(item);
    if (out.length === limit) break;
  }
  return out;
}

/** A 1-based page of `limit` items plus the total, as Zep's message list returns it. */
export async function pageOf<T>(items: AsyncIterable<T>, page = 1, limit?: number): Promise<{ rows: T[]; total: number }> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  if (!limit) return { rows: all, total: all.length };
  const start = (Math.max(page, 1) - 1) * limit;
  return { rows: all.slice(start, start + limit), total: all.length };
}
