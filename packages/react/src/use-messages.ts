import { mergeMetadata, withoutSystem } from '@mnemo/core/metadata';
import { skipToken, useQueryClient } from '@tanstack/react-query';
import { replaceBy, restore, snapshot, updateLists } from './cache';
import { keys } from './keys';
import { type Memory, type Message, trpc } from './trpc';
import type { PageOptions } from './use-sessions';

/** A session's messages in order (`seq` ascending), page by page; disabled while `sessionId` is undefined. */
export function useMessages(sessionId: string | undefined, { limit }: PageOptions = {}) {
  return trpc.message.list.useInfiniteQuery(sessionId === undefined ? skipToken : { sessionId, limit }, {
    getNextPageParam: (page) => page.nextCursor,
  });
}

const byUuid = (m: Message) => m.uuid;

/**
 * Merges metadata into one message. Optimistic in the session's cached memory, message list and the
 * cached message itself (server rules: `mergeMetadata`, `system` dropped); rolled back on error,
 * replaced by the server's message on success.
 */
export function useUpdateMessageMetadata() {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  return trpc.message.update.useMutation({
    onMutate: async ({ sessionId, uuid, metadata }) => {
      await Promise.all([
        utils.memory.get.cancel({ sessionId }),
        utils.message.list.cancel({ sessionId }),
        utils.message.get.cancel({ sessionId, uuid }),
      ]);
      const saved = snapshot(queryClient, [keys.memory(sessionId), keys.messages(sessionId), keys.message(sessionId, uuid)]);
      const patch = withoutSystem(metadata ?? {});
      const merge = (m: Message): Message => (m.uuid === uuid ? { ...m, metadata: mergeMetadata(m.metadata, patch) } : m);
      applyToSession(queryClient, sessionId, (items) => items.map(merge));
      utils.message.get.setData({ sessionId, uuid }, (m) => m && merge(m));
      return { saved };
    },
    onError: (_error, _input, context) => restore(queryClient, context?.saved),
    onSuccess: (message) => {
      const stored = new Map([[message.uuid, message]]);
      applyToSession(queryClient, message.sessionId, (items) => replaceBy(items, byUuid, stored));
      utils.message.get.setData({ sessionId: message.sessionId, uuid: message.uuid }, message);
      // Metadata filters may now match differently.
      void utils.memory.search.invalidate({ sessionId: message.sessionId });
    },
  });
}

/** Rewrites the session's messages wherever they are cached: its memory and its message lists. */
function applyToSession(
  queryClient: ReturnType<typeof useQueryClient>,
  sessionId: string,
  fn: (items: Message[]) => Message[],
): void {
  queryClient.setQueriesData<Memory>({ queryKey: keys.memory(sessionId) }, (memory) =>
    memory && { ...memory, messages: fn(memory.messages) },
  );
  updateLists<Message>(queryClient, [keys.messages(sessionId)], (items) => fn(items));
}
