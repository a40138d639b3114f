/**
 * assistant-ui on Mnemo (`@mnemo/react/assistant-ui`): a thread history adapter whose tree is the session's
 * conversation tree, and a thread list adapter whose threads are Mnemo sessions, so assistant-ui's thread list
 * and branch picker need no other backend. Both take a vanilla client (`createMnemoClient` from @mnemo/client);
 * see docs/assistant-ui.md for how they plug into `useRemoteThreadListRuntime` and the AI SDK runtime.
 */
import type {
  ExportedMessageRepository as ExportedRepository,
  ExportedMessageRepositoryItem,
  GenericThreadHistoryAdapter,
  MessageFormatAdapter,
  MessageFormatItem,
  RemoteThreadListAdapter,
  ThreadHistoryAdapter,
  ThreadMessage,
} from '@assistant-ui/react';
import { ExportedMessageRepository, useAui } from '@assistant-ui/react';
import { isTRPCClientError, type MnemoClient, type RouterOutputs } from '@mnemo/client';
import { useMemo } from 'react';

type MnemoMessage = RouterOutputs['message']['tree']['items'][number];
type MnemoNewMessage = Parameters<MnemoClient['memory']['add']['mutate']>[0]['messages'][number];
type MnemoSession = RouterOutputs['session']['get'];
type RemoteThreadMetadata = Awaited<ReturnType<RemoteThreadListAdapter['fetch']>>;

/** message.tree's largest page. */
const PAGE = 100;
/** Zep-style roles read as assistant-ui's; any other role reads as 'assistant'. */
const ROLES: Record<string, 'user' | 'assistant' | 'system'> = {
  user: 'user',
  human: 'user',
  assistant: 'assistant',
  ai: 'assistant',
  system: 'system',
};

/** Where a history adapter stores: a session id, or a function giving the current one (undefined: no thread yet). */
export type SessionRef = string | (() => string | undefined | Promise<string | undefined>);

/** Every live message of the session with its parent, oldest first, and the head (message.tree's pages). */
async function loadTree(client: MnemoClient, sessionId: string): Promise<{ headId: string | null; items: MnemoMessage[] }> {
  const items: MnemoMessage[] = [];
  let cursor: string | null = null;
  let headId: string | null = null;
  do {
    const page: RouterOutputs['message']['tree'] = await client.message.tree.query({ sessionId, limit: PAGE, cursor });
    items.push(...page.items);
    headId = page.headId;
    cursor = page.nextCursor;
  } while (cursor);
  return { headId, items };
}

/** The tRPC error code of a failed call (NOT_FOUND, CONFLICT, …), if it is one. */
const codeOf = (error: unknown): string | undefined => (isTRPCClientError(error) ? error.data?.code : undefined);

const resolveSession = async (session: SessionRef): Promise<string | undefined> =>
  typeof session === 'string' ? session : await session();

/** The parts a stored message reads as: its own, or (stored as plain text, e.g. through Zep's API) one text part. */
const partsOf = (m: MnemoMessage): unknown[] => (m.parts as unknown[] | undefined) ?? [{ type: 'text', text: m.content }];

/** The text of assistant-ui message content (what Mnemo searches and counts); other parts are not stored by the base format. */
const textOf = (message: ThreadMessage): string =>
  message.content.map((part) => (part.type === 'text' || part.type === 'reasoning' ? part.text : '')).join('');

/**
 * Adds `messages` under `parentId` (null: a new root). Mnemo starts a branch when the parent already has children
 * and moves the head to the last one added, which is what assistant-ui's append means. A message already stored
 * (same id) is skipped, so an append the runtime repeats writes nothing.
 */
async function addUnder(client: MnemoClient, sessionId: string, parentId: string | null, message: MnemoNewMessage): Promise<void> {
  await client.memory.add.mutate({ sessionId, parentId, messages: [message] });
}

export interface MnemoHistoryAdapter extends ThreadHistoryAdapter {
  /**
   * Persists the branch the user chose: the session's head becomes `headId` (assistant-ui's canonical head after a
   * branch switch). Pass it to the AI SDK runtime's `unstable_onBranchChange` (see `mnemoBranchChange`), or call it
   * from your own branch-change handler.
   */
  setHead(headId: string | null): Promise<void>;
}

/**
 * A `ThreadHistoryAdapter` on a Mnemo session: `load` gives the whole conversation tree and its head (the branch
 * chosen last), `append` adds a message under its parent (a branch when the parent has children already), and
 * `withFormat` does the same for another message format (the AI SDK's `UIMessage`s for `useAISDKRuntime` /
 * `useChatRuntime`). Messages keep their ids, so Mnemo's other readers (loadChat, the web UI, Zep's API) see the same
 * conversation. A session id that resolves to undefined (a thread not created yet) loads as empty.
 */
export function mnemoHistoryAdapter(client: MnemoClient, session: SessionRef): MnemoHistoryAdapter {
  const setHead = async (headId: string | null): Promise<void> => {
    const sessionId = await resolveSession(session);
    // A head of null means no message is shown (every branch set aside): nothing to persist on Mnemo's side.
    if (!sessionId || !headId) return;
    await client.session.setHead.mutate({ sessionId, uuid: headId, exact: true });
  };
  return {
    setHead,
    async load(): Promise<ExportedRepository> {
      const sessionId = await resolveSession(session);
      if (!sessionId) return { messages: [] };
      const { headId, items } = await loadTree(client, sessionId);
      return ExportedMessageRepository.fromBranchableArray(
        items.map((m) => ({
          parentId: m.parentId ?? null,
          message: {
            id: m.uuid,
            role: ROLES[m.role] ?? 'assistant',
            content: m.content,
            createdAt: new Date(m.createdAt),
            ...(Object.keys(m.metadata).length > 0 ? { metadata: { custom: m.metadata } } : {}),
          },
        })),
        { headId },
      );
    },
    async append({ message, parentId }: ExportedMessageRepositoryItem): Promise<void> {
      const sessionId = await resolveSession(session);
      if (!sessionId) throw new Error('mnemoHistoryAdapter: no session to append to (the thread has not been created)');
      await addUnder(client, sessionId, parentId, { uuid: message.id, role: message.role, content: textOf(message) });
    },
    withFormat<TMessage, TStorage extends Record<string, unknown>>(
      format: MessageFormatAdapter<TMessage, TStorage>,
    ): GenericThreadHistoryAdapter<TMessage> {
      return {
        async load() {
          const sessionId = await resolveSession(session);
          if (!sessionId) return { headId: null, messages: [] };
          const { headId, items } = await loadTree(client, sessionId);
          return {
            headId,
            messages: items.map((m) => {
              const content: Record<string, unknown> = { role: ROLES[m.role] ?? 'assistant', parts: partsOf(m) };
              if (Object.keys(m.metadata).length > 0) content.metadata = m.metadata;
              return format.decode({ id: m.uuid, parent_id: m.parentId ?? null, format: format.format, content: content as TStorage });
            }),
          };
        },
        async append(item: MessageFormatItem<TMessage>) {
          const sessionId = await resolveSession(session);
          if (!sessionId) throw new Error('mnemoHistoryAdapter: no session to append to (the thread has not been created)');
          await addUnder(client, sessionId, item.parentId, storedOf(format.getId(item.message), format.encode(item)));
        },
        async update(item: MessageFormatItem<TMessage>) {
          // The runtime rewrites a message it appended (a run paused for a tool and resumed): an upsert by id.
          const sessionId = await resolveSession(session);
          if (!sessionId) return;
          const stored = storedOf(format.getId(item.message), format.encode(item));
          try {
            await client.message.update.mutate({ sessionId, uuid: stored.uuid, parts: stored.parts, role: stored.role });
          } catch (error) {
            if (codeOf(error) !== 'NOT_FOUND') throw error;
            await addUnder(client, sessionId, item.parentId, stored);
          }
        },
      };
    },
  };
}

/**
 * A stored format (the AI SDK's: `{ role, parts, metadata? }`) → a Mnemo message. Formats without `role` and
 * `parts` are refused: Mnemo stores messages, not opaque blobs, so every reader can show them.
 */
function storedOf(id: string, encoded: Record<string, unknown>): MnemoNewMessage & { uuid: string; parts: unknown[]; role: string } {
  const { role, parts, metadata } = encoded;
  if (typeof role !== 'string' || !Array.isArray(parts)) {
    throw new TypeError('mnemoHistoryAdapter.withFormat: the format must encode messages as { role, parts } (the AI SDK UIMessage shape)');
  }
  const stored: MnemoNewMessage & { uuid: string; parts: unknown[]; role: string } = {
    uuid: id,
    role,
    parts: parts as NonNullable<MnemoNewMessage['parts']>,
  };
  if (metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata))
    stored.metadata = metadata as MnemoNewMessage['metadata'];
  return stored;
}

/**
 * For `useAISDKRuntime(chat, { adapters: { history }, unstable_onBranchChange: mnemoBranchChange(history) })`: the
 * history adapter has no branch-switch callback, but the runtime reports an explicit switch (a branch picker
 * click) with the canonical head; this persists it with `session.setHead`, so a reload opens the same branch.
 */
export function mnemoBranchChange(history: Pick<MnemoHistoryAdapter, 'setHead'>): (event: { headId: string | null }) => void {
  return ({ headId }) => {
    history.setHead(headId).catch((error: unknown) => console.error('Mnemo: could not persist the chosen branch', error));
  };
}

export interface MnemoThreadListOptions {
  /** The user whose sessions are the threads (new threads are created for them); all sessions when left out. */
  userId?: string;
  /** Threads per page of the list (1–100, default 50). */
  pageSize?: number;
}

/** A session as an assistant-ui thread: archived is `metadata.archived === true`, the title `metadata.title`. */
function threadOf(
  session: MnemoSession & { updatedAt?: Date | string; lastMessage?: { createdAt: Date | string } | null },
): RemoteThreadMetadata {
  const { metadata } = session;
  const title = typeof metadata.title === 'string' ? metadata.title : undefined;
  const last = session.lastMessage?.createdAt;
  return {
    remoteId: session.sessionId,
    status: metadata.archived === true ? 'archived' : 'regular',
    ...(title === undefined ? {} : { title }),
    ...(last ? { lastMessageAt: new Date(last) } : {}),
  };
}

/** The first words of the first user message: a title that needs no model. */
function titleFrom(messages: readonly ThreadMessage[]): string {
  const first = messages.find((m) => m.role === 'user');
  const text = (first ? textOf(first) : '').replace(/\s+/g, ' ').trim();
  return text.length > 60 ? `${text.slice(0, 59)}…` : text || 'New chat';
}

/**
 * A `RemoteThreadListAdapter` on Mnemo sessions: threads are sessions (the thread id is the session id), listed
 * by last activity, most recent first; rename sets `metadata.title`, archive and unarchive set and clear
 * `metadata.archived`, delete soft-deletes the session (restorable with `session.restore`), initialize creates it
 * for `userId` with the draft's custom metadata. `generateTitle` titles a thread with the start of its first question
 * (no model call) and stores it before its stream ends.
 */
export function mnemoThreadListAdapter(client: MnemoClient, options: MnemoThreadListOptions = {}): RemoteThreadListAdapter {
  const { userId, pageSize = 50 } = options;
  const rename = async (remoteId: string, title: string): Promise<void> => {
    await client.session.update.mutate({ sessionId: remoteId, metadata: { title } });
  };
  return {
    async list(params) {
      const page = await client.session.list.query({
        ...(userId === undefined ? {} : { userId }),
        sort: 'activity',
        limit: pageSize,
        cursor: params?.after ?? null,
        withLastMessage: true,
      });
      return { threads: page.items.map(threadOf), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    },
    rename,
    async archive(remoteId) {
      await client.session.update.mutate({ sessionId: remoteId, metadata: { archived: true } });
    },
    async unarchive(remoteId) {
      // `{ $delete: true }` in a metadata patch removes the key.
      await client.session.update.mutate({ sessionId: remoteId, metadata: { archived: { $delete: true } } });
    },
    async delete(remoteId) {
      await client.session.delete.mutate({ sessionId: remoteId });
    },
    async initialize(threadId, init) {
      try {
        await client.session.add.mutate({
          sessionId: threadId,
          ...(userId === undefined ? {} : { userId }),
          ...(init?.custom ? { metadata: init.custom as NonNullable<MnemoNewMessage['metadata']> } : {}),
        });
      } catch (error) {
        // A retried initialize (the first answer was lost) finds its session: the thread exists, as asked.
        if (codeOf(error) !== 'CONFLICT') throw error;
      }
      return { remoteId: threadId };
    },
    async fetch(threadId) {
      return threadOf(await client.session.get.query({ sessionId: threadId }));
    },
    async generateTitle(remoteId, messages) {
      const title = titleFrom(messages);
      await rename(remoteId, title);
      return new ReadableStream({
        start(controller) {
          controller.enqueue({ type: 'part-start', path: [], part: { type: 'text' } });
          controller.enqueue({ type: 'text-delta', path: [0], textDelta: title });
          controller.enqueue({ type: 'part-finish', path: [0] });
          controller.close();
        },
      });
    },
  };
}

/**
 * In a `useRemoteThreadListRuntime` runtime hook (with `mnemoThreadListAdapter`): the history adapter of the thread
 * being rendered. Its session is the thread's remote id, read at each call (a thread switch needs no new adapter);
 * a new thread is created in Mnemo (the list adapter's `initialize`) before its first message is stored.
 */
export function useMnemoThreadHistory(client: MnemoClient): MnemoHistoryAdapter {
  const aui = useAui();
  return useMemo(() => {
    const item = () => (aui.threadListItem.source ? aui.threadListItem : undefined);
    const current = () => item()?.getState().remoteId;
    const forWrite = async () => current() ?? (await item()?.initialize())?.remoteId;
    const reading = mnemoHistoryAdapter(client, current);
    const writing = mnemoHistoryAdapter(client, forWrite);
    return {
      setHead: reading.setHead,
      load: reading.load,
      append: writing.append,
      withFormat: (format) => {
        const read = reading.withFormat!(format);
        const write = writing.withFormat!(format);
        return { load: read.load, append: write.append, update: write.update! };
      },
    } satisfies MnemoHistoryAdapter;
  }, [aui, client]);
}
