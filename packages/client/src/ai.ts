/**
 * `@mnemo/client/ai`: Mnemo as the message store of a Vercel AI SDK chat (`ai` ≥ 6, `UIMessage`).
 *
 * Only *types* come from `ai` (erased at build time), so this module costs nothing at run time and
 * `ai` is an optional peer dependency. A UIMessage is stored as one Mnemo message: `id` → `uuid`
 * (ids are unique per session, so the AI SDK's own ids are kept), `role`, `parts` verbatim (Mnemo
 * derives `content` from the text parts, for search and token counts), `metadata` → `metadata`.
 * See docs/ai-sdk.md for the recipe.
 */
import { isPlainObject, mergeMetadata } from '@mnemo/core/metadata';
import type { UIMessage } from 'ai';
import type { MnemoClient, RouterInputs, RouterOutputs } from './client';

/** A stored message, as memory.get / message.list / message.get return it. */
export type MnemoMessage = RouterOutputs['message']['get'];
/** A message to store, as memory.add takes it. */
export type MnemoNewMessage = RouterInputs['memory']['add']['messages'][number];

type Role = UIMessage['role'];
/** Zep-style roles read as the AI SDK's; any role it does not know reads as 'assistant'. */
const ROLES: Record<string, Role> = { user: 'user', human: 'user', assistant: 'assistant', ai: 'assistant', system: 'system' };

/** memory.add takes at most 1,000 messages; smaller requests stay well under the body limit. */
const ADD_BATCH = 100;
/** message.list's largest page. */
const PAGE = 100;

/**
 * Mnemo messages → AI SDK UIMessages. A message stored without parts (plain `content`, e.g. written
 * through the Zep API) becomes one text part. Empty metadata is left out. The parts are not
 * validated: pass the result to the AI SDK's `validateUIMessages` when your messages carry tools,
 * data parts or metadata whose schemas may have changed.
 */
export function toUIMessages<UI_MESSAGE extends UIMessage = UIMessage>(messages: readonly MnemoMessage[]): UI_MESSAGE[] {
  return messages.map((m) => {
    const message: UIMessage = {
      id: m.uuid,
      role: ROLES[m.role] ?? 'assistant',
      parts: (m.parts as UIMessage['parts'] | undefined) ?? [{ type: 'text', text: m.content }],
    };
    if (Object.keys(m.metadata).length > 0) message.metadata = m.metadata;
    return message as UI_MESSAGE;
  });
}

/**
 * An AI SDK UIMessage → a Mnemo message to add (`uuid` = `id`, parts verbatim, content left for
 * Mnemo to derive). Its metadata, if any, must be a JSON object that Mnemo's metadata rules accept.
 * Throws on an empty id: the AI SDK leaves a streamed reply's id empty unless `toUIMessageStream`
 * gets `generateMessageId` (e.g. `generateId`), and an empty id could not be saved idempotently.
 */
export function fromUIMessage(message: UIMessage): MnemoNewMessage & { uuid: string } {
  if (!message.id) {
    throw new TypeError('fromUIMessage: the UIMessage has no id (give toUIMessageStream a generateMessageId, e.g. generateId from "ai")');
  }
  const stored: MnemoNewMessage & { uuid: string } = {
    uuid: message.id,
    role: message.role,
    parts: message.parts as MnemoNewMessage['parts'],
  };
  if (message.metadata !== undefined) stored.metadata = metadataOf(message);
  return stored;
}

type MnemoMetadata = NonNullable<MnemoNewMessage['metadata']>;

function metadataOf(message: UIMessage): MnemoMetadata {
  const { metadata } = message;
  if (!isPlainObject(metadata)) {
    throw new TypeError(`fromUIMessage: the metadata of message ${message.id} is not a JSON object, which Mnemo's metadata must be`);
  }
  return metadata;
}

/** The stored active path, oldest first (message.list pages; memory.get would stop at the server's message window). */
async function activePath(client: MnemoClient, sessionId: string): Promise<MnemoMessage[]> {
  const stored: MnemoMessage[] = [];
  let cursor: string | null = null;
  do {
    const page: RouterOutputs['message']['list'] = await client.message.list.query({ sessionId, limit: PAGE, cursor });
    stored.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return stored;
}

/**
 * The chat, oldest first, as UIMessages ([] for a chat never saved): its active path, the branch
 * last chosen, when edits and regenerations made branches.
 */
export async function loadChat<UI_MESSAGE extends UIMessage = UIMessage>(client: MnemoClient, sessionId: string): Promise<UI_MESSAGE[]> {
  return toUIMessages<UI_MESSAGE>(await activePath(client, sessionId));
}

/**
 * The id an edited user message is stored under: its own, plus a digest of its parts (FNV-1a), so the
 * same edit saved again finds itself stored and a different edit gets a branch of its own.
 */
function editedId(message: UIMessage): string {
  let hash = 0x811c9dc5;
  for (const char of JSON.stringify(message.parts)) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${message.id.slice(0, 110)}.e${hash.toString(36)}`;
}

/**
 * Saves the chat's messages as they are now: appends those not stored yet (by id, in order; the
 * session is created if new), and brings any stored assistant or system message whose parts, role or
 * metadata differ (a tool result added to the last assistant message, a reply saved while streaming)
 * up to date and marks it complete. Saving the same messages again writes nothing, so pass the whole
 * chat (`onEnd`'s `messages`) or only the new messages, whichever you have.
 *
 * Conversations are trees (docs/ai-sdk.md): given the whole chat, a regenerated reply (the AI SDK's
 * `regenerate()`, a new reply where another was) is stored as a branch beside the old one, and a user
 * message edited in place (`sendMessage({ text, messageId })`: same id, new parts) as a branch beside
 * the original, under a new id (its own plus a digest of its parts); what follows goes under them.
 * Nothing is overwritten; `loadChat` then gives the new branch.
 */
export async function saveChat(client: MnemoClient, chat: { sessionId: string; messages: readonly UIMessage[] }): Promise<void> {
  await saveRequest(client, chat);
}

/**
 * saveChat for a request whose reply is then saved while it streams: resolves to `{ parentId }`, the
 * id the request's last message is stored under (an edited one has a new id), for saveStreamingReply,
 * so that a regenerated reply goes beside the old one rather than after it.
 */
export async function saveRequest(
  client: MnemoClient,
  { sessionId, messages }: { sessionId: string; messages: readonly UIMessage[] },
): Promise<{ parentId: string | undefined }> {
  return { parentId: await save(client, sessionId, messages) };
}

async function save(client: MnemoClient, sessionId: string, messages: readonly UIMessage[]): Promise<string | undefined> {
  if (messages.length === 0) return undefined;
  const path = new Map((await activePath(client, sessionId)).map((m) => [m.uuid, m]));
  // A user message whose stored copy on the path says something else was edited in place.
  const mapped = messages.map((message) => {
    const current = path.get(message.id);
    return current && message.role === 'user' && !matches(current, fromUIMessage(message))
      ? { ...message, id: editedId(message) }
      : message;
  });
  // Anchored at a stored message (the whole chat), each new message goes under the one before it in the list;
  // otherwise (only the new messages) they follow the head.
  const anchored = path.size === 0 || path.has(messages[0]!.id);
  for (let i = 0; i < mapped.length; i += ADD_BATCH) {
    const batch = mapped.slice(i, i + ADD_BATCH);
    const parentId = i > 0 ? mapped[i - 1]!.id : anchored ? null : undefined;
    const { messages: stored } = await client.memory.add.mutate({
      sessionId,
      messages: batch.map(fromUIMessage),
      ...(parentId !== undefined && { parentId }),
    });
    const byId = new Map(stored.map((m) => [m.uuid, m]));
    for (const message of batch) {
      const current = byId.get(message.id);
      const wanted = fromUIMessage(message);
      // A user message is never rewritten: a different text is an edit, a branch of its own (above).
      if (current && message.role !== 'user' && (current.status !== 'complete' || !matches(current, wanted))) {
        await client.message.update.mutate({ sessionId, ...wanted, status: 'complete' });
      }
    }
  }
  return mapped.at(-1)!.id;
}

/** Options of saveStreamingReply. */
export interface SaveStreamingReplyOptions {
  sessionId: string;
  /**
   * The reply as it grows: the AI SDK's `readUIMessageStream({ stream })` (each item is the whole
   * message so far). For a reply that continues the last assistant message (tool approvals, outputs
   * added on the client), pass that message as `readUIMessageStream`'s `message`.
   */
  reply: AsyncIterable<UIMessage>;
  /** At least this long between two writes while streaming, in ms (default 250); the last state is always written. */
  throttleMs?: number;
  /**
   * Aborted when the reply is stopped (`message.stop`, e.g. `stopReply` from another tab or device):
   * give the model call its signal (`streamText({ abortSignal: abortController.signal })`).
   */
  abortController?: AbortController;
  /**
   * The message the reply answers (what saveRequest resolved to for the request's messages): a new reply
   * goes under it, so a regenerated reply becomes a branch beside the old one. Absent: after the head.
   */
  parentId?: string;
}

/**
 * Saves an assistant reply while it streams: stored with status 'streaming' at its first state,
 * then its parts replaced (at most one write in flight, at most one per `throttleMs`, always the
 * latest state), and marked 'complete' with its final parts when `reply` ends. Readers meanwhile
 * see the partial reply; one whose writer died reads as 'interrupted' after two minutes. If `reply`
 * fails, the last state is still written (left 'streaming') and the error is thrown. Resolves to
 * the stored message, or undefined when the reply had no state at all.
 *
 * Stopped meanwhile (`message.stop`): a write is answered `stopped` (and changes nothing), so it
 * writes no more, aborts `abortController` and resolves to the message as stopped, with the text it
 * had when it was stopped. It learns of the stop at its next write, i.e. with the model's next chunk.
 */
export async function saveStreamingReply(
  client: MnemoClient,
  { sessionId, reply, throttleMs = 250, abortController, parentId }: SaveStreamingReplyOptions,
): Promise<MnemoMessage | undefined> {
  let stopped = false;
  let latest: UIMessage | undefined;
  let written: UIMessage | undefined;
  let stored: MnemoMessage | undefined;
  let lastWriteAt = 0;
  let inFlight: Promise<void> | undefined;
  let failure: unknown;
  let ended = false;

  const write = async (message: UIMessage, status: 'streaming' | 'complete') => {
    if (stopped) return;
    const wanted = fromUIMessage(message);
    if (stored && stored.uuid !== wanted.uuid)
      throw new Error(`saveStreamingReply: the reply changed its id from ${stored.uuid} to ${wanted.uuid}`);
    if (!stored) {
      // Idempotent: a reply that continues a stored message (or a retried save) finds it stored.
      [stored] = (
        await client.memory.add.mutate({ sessionId, messages: [{ ...wanted, status }], ...(parentId !== undefined && { parentId }) })
      ).messages;
    }
    if (stored && stored.status !== 'stopped' && (stored.status !== status || !matches(stored, wanted))) {
      stored = await client.message.update.mutate({ sessionId, ...wanted, status });
    }
    if (stored?.status === 'stopped') {
      stopped = true;
      abortController?.abort(new Error('the reply was stopped'));
    }
    written = message;
    lastWriteAt = Date.now();
  };
  /** Writes the latest state unless a write is in flight or one was made less than throttleMs ago. */
  const pump = () => {
    if (ended || stopped || inFlight || failure || !latest || latest === written) return;
    const wait = lastWriteAt + throttleMs - Date.now();
    const message = latest;
    inFlight = (async () => {
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (!ended) await write(latest ?? message, 'streaming'); // else the caller writes the last state
    })()
      .catch((err: unknown) => {
        failure = err;
      })
      .finally(() => {
        inFlight = undefined;
        pump();
      });
  };
  /** Waits for the write in flight; the last state is then written by the caller. */
  const settle = async () => {
    ended = true;
    while (inFlight) await inFlight;
    if (failure) throw failure;
  };

  try {
    for await (const message of reply) {
      latest = message;
      pump();
      if (failure || stopped) break;
    }
  } catch (err) {
    await settle();
    if (stopped) return stored; // the model's stream ended with the abort
    if (latest && latest !== written) await write(latest, 'streaming');
    throw err;
  }
  await settle();
  if (latest) await write(latest, 'complete');
  return stored;
}

/** Whether the stored message already says what `wanted` says (stored metadata may hold more keys). */
function matches(stored: MnemoMessage, wanted: MnemoNewMessage): boolean {
  return (
    stored.role === wanted.role &&
    sameJson(stored.parts, wanted.parts) &&
    (wanted.metadata === undefined || containsMetadata(stored.metadata, wanted.metadata))
  );
}

/** Equal as JSON (key order aside; undefined members are absent, as in the stored JSON). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keysOf = (o: Record<string, unknown>) => Object.keys(o).filter((k) => o[k] !== undefined);
  const keys = keysOf(a);
  return keys.length === keysOf(b).length && keys.every((k) => sameJson(a[k], b[k]));
}

/** Whether merging `patch` into `stored` (Mnemo's metadata merge) would change nothing. */
function containsMetadata(stored: Record<string, unknown>, patch: Record<string, unknown>): boolean {
  return sameJson(mergeMetadata(stored, patch), stored);
}

export { createChunker, findStreamingReply, type MessageStreamEvent, replyStream, resumeReply, stopReply } from './ai-stream';
