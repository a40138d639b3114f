// Lets the published declarations name the hooks' result types (they live in @trpc/react-query/shared).
import type {} from '@trpc/react-query/shared';
import { mergeMetadata, textOfParts, withoutSystem } from '@mnemo/core/metadata';
import { type InfiniteData, skipToken, useQueryClient } from '@tanstack/react-query';
import { restore, snapshot } from './cache';
import { keys } from './keys';
import { isLive, useLiveMessages } from './live';
import { cachedMessages, removeMessages, upsertMessages } from './message-cache';
import type { CursorOf, InfiniteQueryHookOptions, InfiniteQueryHookResult } from './queries';
import { type Message, type MessagePage, type RouterInputs, trpc } from './trpc';
import type { PageOptions } from './use-sessions';

/** `useMessages`' own options, and any TanStack Query option (`select`, `enabled`, `staleTime`, …). */
type MessagePages = InfiniteData<MessagePage, CursorOf<RouterInputs['message']['list']>>;
export type MessagesOptions<TData = MessagePages> = InfiniteQueryHookOptions<
  typeof trpc.message.list,
  RouterInputs['message']['list'],
  MessagePage,
  TData
> &
  PageOptions & {
    /** 'asc' (default): oldest first, each page newer. 'desc': newest first, each page older (a chat's scroll-back). */
    order?: 'asc' | 'desc';
    /** Keep the loaded pages up to date with every client's writes (a `message.onChange` subscription). */
    live?: boolean;
  };

/**
 * A session's messages, page by page (`fetchNextPage`); none for a new chat; disabled while `sessionId` is
 * undefined. Its query is `mnemoQueries(client).messages(sessionId, { limit, order })`.
 */
export function useMessages<TData = MessagePages>(
  sessionId: string | undefined,
  options?: MessagesOptions<TData>,
): InfiniteQueryHookResult<typeof trpc.message.list, TData>;
// The last signature is the one `ReturnType<typeof hook>` sees: the result without `select`.
export function useMessages(
  sessionId: string | undefined,
  options?: MessagesOptions,
): InfiniteQueryHookResult<typeof trpc.message.list, MessagePages>;
export function useMessages<TData>(sessionId: string | undefined, { limit, order, live = false, ...options }: MessagesOptions<TData> = {}) {
  useLiveMessages(live ? sessionId : undefined);
  return trpc.message.list.useInfiniteQuery(sessionId === undefined ? skipToken : { sessionId, limit, order }, {
    ...options,
    getNextPageParam: (page) => page.nextCursor,
  });
}

/** Snapshots every cache of a session's messages (for a rollback) after cancelling their fetches. */
async function saveSession(utils: ReturnType<typeof trpc.useUtils>, queryClient: ReturnType<typeof useQueryClient>, sessionId: string) {
  await Promise.all([
    utils.memory.get.cancel({ sessionId }),
    utils.message.list.cancel({ sessionId }),
    queryClient.cancelQueries({ queryKey: keys.messagesOfSession(sessionId) }),
  ]);
  return snapshot(queryClient, [keys.memory(sessionId), keys.messages(sessionId), keys.messagesOfSession(sessionId)]);
}

type UpdateInput = RouterInputs['message']['update'];

/** What the server will make of `message` with this update (text, role, parts, status, metadata merge). */
function applyUpdate(message: Message, { metadata, role, content, append, parts, status }: UpdateInput): Message {
  const text = content ?? (append !== undefined ? message.content + append : parts && textOfParts(parts));
  return {
    ...message,
    ...(text !== undefined && { content: text }),
    ...(role !== undefined && { role }),
    ...(parts !== undefined && { parts }),
    ...(status !== undefined && { status }),
    metadata: metadata ? mergeMetadata(message.metadata, withoutSystem(metadata)) : message.metadata,
  };
}

/**
 * Changes a message: metadata merge, new text (`content`, or `append` for a streamed reply), role,
 * parts, status. Optimistic wherever the session's messages are cached, with the server's rules;
 * rolled back on error, replaced by the server's message on success.
 */
export function useUpdateMessage() {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  return trpc.message.update.useMutation({
    onMutate: async (input) => {
      const saved = await saveSession(utils, queryClient, input.sessionId);
      const current = cachedMessages(queryClient, input.sessionId).find((m) => m.uuid === input.uuid);
      if (current) upsertMessages(queryClient, input.sessionId, [applyUpdate(current, input)]);
      return { saved };
    },
    onError: (_error, _input, context) => restore(queryClient, context?.saved),
    onSuccess: (message) => {
      upsertMessages(queryClient, message.sessionId, [message]);
      // Text and metadata filters may now match differently.
      void Promise.all([utils.memory.search.invalidate({ sessionId: message.sessionId }), utils.user.search.invalidate()]);
    },
  });
}

/**
 * After a delete or a truncation: the memory window refills with older messages, counts change.
 * `pagesAreRight`: the cached pages already lost exactly what the server deleted and are kept live
 * (`isLive`), so they are only marked stale (a chat scrolled far back holds many pages, each one
 * request to re-read).
 */
function refetchSession(utils: ReturnType<typeof trpc.useUtils>, sessionId: string, pagesAreRight = false) {
  return Promise.all([
    utils.memory.get.invalidate({ sessionId }),
    utils.message.list.invalidate({ sessionId }, { refetchType: pagesAreRight ? 'none' : 'active' }),
    utils.memory.search.invalidate({ sessionId }),
    utils.user.search.invalidate(),
  ]);
}

/** Deletes one message (softly). Optimistic: it leaves every cache at once, back on error. */
export function useDeleteMessage() {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  return trpc.message.delete.useMutation({
    onMutate: async ({ sessionId, uuid }) => {
      const saved = await saveSession(utils, queryClient, sessionId);
      removeMessages(queryClient, sessionId, new Set([uuid]));
      return { saved };
    },
    onError: (_error, _input, context) => restore(queryClient, context?.saved),
    onSettled: (_result, error, { sessionId }) => refetchSession(utils, sessionId, error === null && isLive(queryClient, sessionId)),
  });
}

/**
 * Undoes `useDeleteMessage` (an "Undo"), or with `deletedWith: true` a `useTruncateMessages` (give
 * any message it removed): the messages are back in their places in every cache of their session.
 * Pass the message's `seq` too: a message that took its id since is then refused (NOT_FOUND).
 */
export function useRestoreMessage() {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  return trpc.message.restore.useMutation({
    onSuccess: ({ messages }, { sessionId }) => {
      upsertMessages(queryClient, sessionId, messages);
      void Promise.all([
        utils.session.get.invalidate({ sessionId }),
        utils.memory.search.invalidate({ sessionId }),
        utils.user.search.invalidate(),
      ]);
    },
  });
}

/**
 * Deletes every message after `uuid` (and it too with `inclusive`): regenerate an answer, or edit a
 * message and send it again. Optimistic when the message is cached; back on error.
 */
export function useTruncateMessages() {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  return trpc.message.truncate.useMutation({
    onMutate: async ({ sessionId, uuid, inclusive }) => {
      const saved = await saveSession(utils, queryClient, sessionId);
      const anchor = cachedMessages(queryClient, sessionId).find((m) => m.uuid === uuid);
      if (anchor) removeMessages(queryClient, sessionId, (m) => (inclusive ? m.seq >= anchor.seq : m.seq > anchor.seq));
      return { saved };
    },
    onError: (_error, _input, context) => restore(queryClient, context?.saved),
    onSettled: (_result, _error, { sessionId }) => refetchSession(utils, sessionId),
  });
}

/**
 * The versions of a message in a conversation tree (the live messages sharing its parent, itself among them) and
 * its index among them: what a "‹ 2 / 3 ›" picker needs to switch. Messages of sessions with branches also carry
 * `siblingIndex` and `siblingCount`, so a picker can be drawn without it. Disabled while either id is undefined.
 */
export function useSiblings(sessionId: string | undefined, uuid: string | undefined) {
  return trpc.message.siblings.useQuery(sessionId !== undefined && uuid !== undefined ? { sessionId, uuid } : skipToken);
}

/**
 * Switches branch (`session.setHead`): the conversation then follows the newest message under `uuid`, for every
 * reader and after a reload. The session's memory, pages and searches are read again (the path changed).
 */
export function useSetHead() {
  const utils = trpc.useUtils();
  return trpc.session.setHead.useMutation({
    onSettled: (_result, _error, { sessionId }) =>
      Promise.all([
        refetchSession(utils, sessionId),
        utils.message.siblings.invalidate({ sessionId }),
        utils.message.tree.invalidate({ sessionId }),
      ]),
  });
}
