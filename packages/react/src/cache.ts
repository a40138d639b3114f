/**
 * Cache helpers shared by the hooks. Every key comes from tRPC (`getQueryKey` on the procedure, or
 * `utils.x.y.*`); these helpers only snapshot, restore and rewrite what those keys match.
 */
import type { InfiniteData, QueryClient, QueryKey } from '@tanstack/react-query';
import { keys } from './keys';
import type { Session } from './trpc';

export interface PageLike<T> {
  items: T[];
  nextCursor: string | null;
}

export type Snapshot = [QueryKey, unknown][];

/** Everything currently cached under the given tRPC keys (prefix match), for a later rollback. */
export function snapshot(queryClient: QueryClient, keys: QueryKey[]): Snapshot {
  return keys.flatMap((queryKey) => queryClient.getQueriesData({ queryKey }));
}

export function restore(queryClient: QueryClient, saved: Snapshot | undefined): void {
  for (const [queryKey, data] of saved ?? []) queryClient.setQueryData(queryKey, data);
}

function isInfinite<T>(data: unknown): data is InfiniteData<PageLike<T>, unknown> {
  return typeof data === 'object' && data !== null && Array.isArray((data as { pages?: unknown }).pages);
}
function isPage<T>(data: unknown): data is PageLike<T> {
  return typeof data === 'object' && data !== null && Array.isArray((data as { items?: unknown }).items);
}

/**
 * Rewrites the items of a cached list, paged (`useInfiniteQuery`) or single-page (`useQuery`).
 * `atEnd` is true for the last loaded page when the server said there is nothing after it: the
 * only place where an item that belongs at the end of the list may be appended.
 */
export function mapListItems<T>(data: unknown, fn: (items: T[], atEnd: boolean) => T[]): unknown {
  if (isInfinite<T>(data)) {
    const last = data.pages.length - 1;
    const items = data.pages.map((page, i) => fn(page.items, i === last && page.nextCursor === null));
    if (items.every((page, i) => page === data.pages[i]!.items)) return data; // nothing changed
    return { ...data, pages: data.pages.map((page, i) => ({ ...page, items: items[i]! })) };
  }
  if (isPage<T>(data)) {
    const items = fn(data.items, data.nextCursor === null);
    return items === data.items ? data : { ...data, items };
  }
  return data;
}

/** Every item of every cached list under the keys. */
export function cachedListItems<T>(queryClient: QueryClient, keys: QueryKey[]): T[] {
  return snapshot(queryClient, keys).flatMap(([, data]) => {
    if (isInfinite<T>(data)) return data.pages.flatMap((p) => p.items);
    if (isPage<T>(data)) return data.items;
    return [];
  });
}

/** Rewrites the items of every cached list under the keys; a list `fn` leaves as it is is not touched (nor re-dated). */
export function updateLists<T>(queryClient: QueryClient, keys: QueryKey[], fn: (items: T[], atEnd: boolean) => T[]): void {
  for (const queryKey of keys)
    queryClient.setQueriesData({ queryKey }, (data: unknown) => {
      const next = mapListItems(data, fn);
      return next === data ? undefined : next; // undefined: TanStack leaves the query alone
    });
}

/** Replaces items by `key` (no-op for items not present). */
export function replaceBy<T, K>(items: T[], key: (item: T) => K, replacements: Map<K, T>): T[] {
  return items.some((item) => replacements.has(key(item))) ? items.map((item) => replacements.get(key(item)) ?? item) : items;
}

/** Appends the items whose key is not there yet (adding is idempotent per key). */
export function appendNew<T, K>(items: T[], key: (item: T) => K, added: T[]): T[] {
  const present = new Set(items.map(key));
  const fresh = added.filter((item) => !present.has(key(item)));
  return fresh.length > 0 ? [...items, ...fresh] : items;
}

/** Flattens the pages of an infinite list (`useSessions().data` etc.) into one array. */
export function allItems<T>(data: InfiniteData<PageLike<T>, unknown> | undefined): T[] {
  return data?.pages.flatMap((page) => page.items) ?? [];
}

/**
 * A random (v4) UUID for a new message. `crypto.randomUUID` exists only in secure contexts (https,
 * localhost); `crypto.getRandomValues` exists everywhere.
 */
export function newUuid(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Whether a session appears in any cached session list (if not, a write may have created or revived it). */
export function isInCachedLists(queryClient: QueryClient, sessionId: string): boolean {
  return cachedListItems<Session>(queryClient, keys.sessionLists()).some((s) => s.sessionId === sessionId);
}
