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

/**
 * Replaces the cached copies of `messages` (by uuid) and adds the others where they belong: after
 * the newest cached message of a memory, at the end of a forward list whose end is loaded, at the
 * top of a backward list. Older messages than those cached are left for a fetch to bring.
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

  queryClient.setQueriesData<Memory>({ queryKey: keys.memory(sessionId) }, (memory) => {
    if (!memory) return memory;
    const added = newer(memory.messages);
    return { ...memory, messages: [...replace(memory.messages), ...added] };
  });
  for (const [queryKey, data] of queryClient.getQueriesData<Pages>({ queryKey: keys.messages(sessionId) })) {
    if (!data?.pages.length) continue;
    const added = newer(data.pages.flatMap((p) => p.items));
    const backward = newestFirst(queryKey);
    const last = data.pages.length - 1;
    const pages = data.pages.map((page, i) => {
      const items = replace(page.items);
      if (backward && i === 0) return { ...page, items: [...[...added].reverse(), ...items], total: page.total + added.length };
      if (!backward && i === last && page.nextCursor === null) return { ...page, items: [...items, ...added], total: page.total + added.length };
      return { ...page, items, total: page.total + added.length };
    });
    queryClient.setQueryData<Pages>(queryKey, { ...data, pages });
  }
  for (const message of messages) {
    queryClient.setQueriesData<Message>({ queryKey: keys.message(sessionId, message.uuid) }, (m) => m && message);
  }
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
