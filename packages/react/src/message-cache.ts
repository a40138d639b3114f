/**
 * The one place that knows where a session's messages are cached and how to put one in each:
 * its memory (`memory.get`: oldest first), its message lists (`message.list`, pages oldest first,
 * or newest first with `order: 'desc'`) and each message (`message.get`). Used by the
 * optimistic mutations and by live updates alike.
 */
import type { InfiniteData, QueryClient, QueryKey } from '@tanstack/react-query';
import { keys } from './keys';
import type { Memory, Message, MessagePage } from './trpc';

type Pages = InfiniteData<MessagePage, unknown>;

/** Whether a cached `message.list` query is newest first, read from its tRPC key (`[path, { input, type }]`). */
const newestFirst = (queryKey: QueryKey): boolean => (queryKey[1] as { input?: { order?: string } } | undefined)?.input?.order === 'desc';
const bySeq = (a: Message, b: Message) => a.seq - b.seq;
/** A cached `memory.get` query's `lastn` (undefined: the server's window), read from its tRPC key. */
const lastnOf = (queryKey: QueryKey): number | undefined => (queryKey[1] as { input?: { lastn?: number } } | undefined)?.input?.lastn;
const lastWindow = (queryKey: QueryKey, messages: Message[]): Message[] => {
  const lastn = lastnOf(queryKey);
  return lastn !== undefined && messages.length > lastn ? messages.slice(-lastn) : messages;
};
/** A cached `message.list` query's page size, read from its tRPC key. */
const limitOf = (queryKey: QueryKey): number | undefined => (queryKey[1] as { input?: { limit?: number } } | undefined)?.input?.limit;

/**
 * Replaces the cached copies of `messages` (by uuid) and adds the others where they belong: after
 * the newest cached message of a memory, at the end of a forward list whose end is loaded, at the
 * top of a backward list, and in their place among the cached ones (a restored message). Older
 * messages than those cached are left for a fetch to bring.
 */
export function upsertMessages(queryClient: QueryClient, sessionId: string, messages: Message[]): void {
  if (messages.length === 0) return;
  const given = new Map(messages.map((m) => [m.uuid, m]));
  const replace = (items: Message[]) => (items.some((m) => given.has(m.uuid)) ? items.map((m) => given.get(m.uuid) ?? m) : items);
  /** The messages not in `cached` that are newer than all of it, oldest first. */
  const newer = (cached: Message[]) => {
    const present = new Set(cached.map((m) => m.uuid));
    const newest = Math.max(0, ...cached.map((m) => m.seq));
    return messages.filter((m) => !present.has(m.uuid) && m.seq > newest).sort(bySeq);
  };
  /** The messages not in `cached` that fall between its oldest and newest. */
  const inside = (cached: Message[]) => {
    const present = new Set(cached.map((m) => m.uuid));
    const seqs = cached.map((m) => m.seq);
    const [oldest, newest] = [Math.min(...seqs), Math.max(...seqs)];
    return messages.filter((m) => !present.has(m.uuid) && m.seq > oldest && m.seq < newest);
  };

  for (const [queryKey, memory] of queryClient.getQueriesData<Memory>({ queryKey: keys.memory(sessionId) })) {
    if (!memory) continue;
    const added = [...inside(memory.messages), ...newer(memory.messages)];
    const all = [...replace(memory.messages), ...added].sort(bySeq);
    // A `lastn` window keeps its size, as the server would answer it.
    queryClient.setQueryData<Memory>(queryKey, { ...memory, messages: lastWindow(queryKey, all) });
  }
  for (const [queryKey, data] of queryClient.getQueriesData<Pages>({ queryKey: keys.messages(sessionId) })) {
    if (!data?.pages.length) continue;
    const cached = data.pages.flatMap((p) => p.items);
    const added = newer(cached);
    const placed = inside(cached);
    const backward = newestFirst(queryKey);
    const last = data.pages.length - 1;
    let pages = data.pages.map((page, i) => {
      const count = added.length + placed.length;
      const items = replace(page.items);
      if (backward && i === 0) return { ...page, items: [...[...added].reverse(), ...items], total: page.total + count };
      if (!backward && i === last && page.nextCursor === null) return { ...page, items: [...items, ...added], total: page.total + count };
      return { ...page, items, total: page.total + count };
    });
    for (const message of placed) pages = insertInPlace(pages, message, backward);
    queryClient.setQueryData<Pages>(queryKey, { ...data, pages });
  }
  for (const message of messages) {
    queryClient.setQueriesData<Message>({ queryKey: keys.message(sessionId, message.uuid) }, (m) => m && message);
  }
}

/** Puts `message` among loaded pages (`backward`: newest first) that hold messages on both sides of it. */
function insertInPlace(pages: MessagePage[], message: Message, backward: boolean): MessagePage[] {
  const after = (m: Message) => (backward ? m.seq < message.seq : m.seq > message.seq);
  const i = pages.findIndex((p) => p.items.some(after));
  return pages.map((page, j) => {
    if (j !== i) return page;
    const at = page.items.findIndex(after);
    return { ...page, items: [...page.items.slice(0, at), message, ...page.items.slice(at)] };
  });
}

/** The hashes of queries `seedMessages` gave data: they hold only those messages until re-fetched. */
const seededQueries = new Set<string>();

/**
 * Gives the session's memory and message-list queries that are in use but have no data yet (their
 * first fetch was cancelled, e.g. by an optimistic send during the first load) the given messages
 * as their data, so they show at once instead of staying pending. Queries with data are left to
 * `upsertMessages`. They hold only these messages until `refetchSeeded` re-reads them.
 */
export function seedMessages(queryClient: QueryClient, sessionId: string, messages: Message[]): void {
  if (messages.length === 0) return;
  const sorted = [...messages].sort(bySeq);
  const empty = (queryKey: QueryKey) =>
    queryClient.getQueryCache().findAll({ queryKey, predicate: (q) => q.state.data === undefined && q.getObserversCount() > 0 });
  for (const query of empty(keys.memory(sessionId))) {
    queryClient.setQueryData<Memory>(query.queryKey, { messages: lastWindow(query.queryKey, sorted) });
    seededQueries.add(query.queryHash);
  }
  for (const query of empty(keys.messages(sessionId))) {
    const ordered = newestFirst(query.queryKey) ? [...sorted].reverse() : sorted;
    const limit = limitOf(query.queryKey);
    const items = limit !== undefined && ordered.length > limit ? ordered.slice(0, limit) : ordered;
    // One page, with no cursor: the re-fetch after the write replaces it with the server's first page.
    const page: MessagePage = { items, nextCursor: null, total: items.length };
    queryClient.setQueryData<Pages>(query.queryKey, { pages: [page], pageParams: [null] });
    seededQueries.add(query.queryHash);
  }
}

/** Re-reads the session's queries `seedMessages` filled in (once the writes are done). */
export async function refetchSeeded(queryClient: QueryClient, sessionId: string): Promise<void> {
  const seeded = [keys.memory(sessionId), keys.messages(sessionId)].flatMap((queryKey) =>
    queryClient.getQueryCache().findAll({ queryKey, predicate: (q) => seededQueries.delete(q.queryHash) }),
  );
  await Promise.all(seeded.map((query) => queryClient.refetchQueries({ queryKey: query.queryKey, exact: true })));
}

/** Takes messages out of every cache of the session (`which`: by uuid, or a test on each message). */
export function removeMessages(queryClient: QueryClient, sessionId: string, which: ReadonlySet<string> | ((m: Message) => boolean)): void {
  const gone = typeof which === 'function' ? which : (m: Message) => which.has(m.uuid);
  queryClient.setQueriesData<Memory>({ queryKey: keys.memory(sessionId) }, (memory) =>
    memory?.messages.some(gone) ? { ...memory, messages: memory.messages.filter((m) => !gone(m)) } : memory,
  );
  for (const [queryKey, data] of queryClient.getQueriesData<Pages>({ queryKey: keys.messages(sessionId) })) {
    const removed = data?.pages.reduce((n, p) => n + p.items.filter(gone).length, 0);
    if (!data || !removed) continue;
    const pages = data.pages.map((page) => ({ ...page, items: page.items.filter((m) => !gone(m)), total: page.total - removed }));
    queryClient.setQueryData<Pages>(queryKey, { ...data, pages });
  }
  for (const [queryKey, message] of queryClient.getQueriesData<Message>({ queryKey: keys.messagesOfSession(sessionId) })) {
    if (message && gone(message)) queryClient.removeQueries({ queryKey, exact: true });
  }
}

/** Every cached message of the session (memory, lists, single messages), for finding one by uuid. */
export function cachedMessages(queryClient: QueryClient, sessionId: string): Message[] {
  return [
    ...queryClient.getQueriesData<Memory>({ queryKey: keys.memory(sessionId) }).flatMap(([, m]) => m?.messages ?? []),
    ...queryClient.getQueriesData<Pages>({ queryKey: keys.messages(sessionId) }).flatMap(([, d]) => d?.pages.flatMap((p) => p.items) ?? []),
    ...queryClient.getQueriesData<Message>({ queryKey: keys.messagesOfSession(sessionId) }).flatMap(([, m]) => (m ? [m] : [])),
  ];
}
