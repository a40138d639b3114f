/**
 * Import of ChatGPT's data export (`conversations.json`: an array of conversations, each a tree of nodes in
 * `mapping`, every node naming its `parent` and `children`, and `current_node` the branch last shown) into
 * sessions with their branches and head (docs/cli.md, `mnemo import-chatgpt`).
 *
 * One session per conversation: its id is the conversation's (`conversation_id`, else `id`), its owner the
 * given user, its metadata `{ title, chatgpt: { createTime, updateTime } }`. Each node with a message and
 * some text becomes a message with the message's id, its author's role, its text and its `create_time`;
 * nodes without (the hidden root, empty system messages, image-only parts) are left out and their children
 * go under the nearest message kept. Chains of nodes are added a chain at a time under their parent
 * (tree.ts: a branch where a node has several children), then the head is set to `current_node`.
 *
 * A conversation that is not of that shape (or whose ids Mnemo cannot take) is reported by its index and
 * skipped before anything of it is written; the others are imported. Running it again changes nothing: a
 * session that exists is kept as it is, messages already stored are skipped, and so is a head already set.
 */
import { z } from 'zod';
import { ConflictError, NotFoundError } from './errors';
import type { Core } from './index';
import { Id, MessageId } from './schemas';

const Content = z.looseObject({
  content_type: z.string().optional(),
  parts: z.array(z.unknown()).optional(),
  text: z.unknown().optional(),
});
const Node = z.looseObject({
  message: z
    .looseObject({
      id: z.string(),
      author: z.looseObject({ role: z.string().min(1).max(256) }),
      create_time: z.number().nullish(),
      content: Content,
    })
    .nullish(),
  parent: z.string().nullish(),
  children: z.array(z.string()).optional(),
});
const Conversation = z.looseObject({
  id: z.string().optional(),
  conversation_id: z.string().optional(),
  title: z.string().nullish(),
  create_time: z.number().nullish(),
  update_time: z.number().nullish(),
  mapping: z.record(z.string(), Node),
  current_node: z.string().nullish(),
});
type Conversation = z.output<typeof Conversation>;

export interface ChatGptImportResult {
  imported: { sessions: number; messages: number };
  skipped: { sessions: number; messages: number };
  /** Conversations not imported, by their index in the file (0-based), and why. */
  problems: { index: number; message: string }[];
}

/** A message to add: the message's id, its parent among those kept (null: a root). */
interface Planned {
  uuid: string;
  parent: string | null;
  role: string;
  content: string;
  createdAt: Date;
}

const dateOf = (seconds: number | null | undefined): Date | undefined =>
  typeof seconds === 'number' && Number.isFinite(seconds) ? new Date(Math.round(seconds * 1000)) : undefined;

/** A message's text: `content.text`, or its string parts (and the `text` of object parts) joined by newlines. */
function textOf(content: z.output<typeof Content>): string {
  if (typeof content.text === 'string') return content.text;
  return (content.parts ?? [])
    .map((p) =>
      typeof p === 'string'
        ? p
        : p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string'
          ? (p as { text: string }).text
          : '',
    )
    .filter((t) => t.length > 0)
    .join('\n');
}

/** The conversation's messages, parents before children (a depth-first walk), and its head; or a problem. */
function plan(c: Conversation): { sessionId: string; messages: Planned[]; head: string | null } | string {
  const sessionId = c.conversation_id ?? c.id;
  if (sessionId === undefined) return 'no conversation_id or id';
  if (!Id.safeParse(sessionId).success) return `its id ${JSON.stringify(sessionId)} is not a session id Mnemo takes`;
  const nodes = new Map(Object.entries(c.mapping));
  const children = new Map<string | null, string[]>();
  for (const [id, node] of nodes) {
    const parent = node.parent ?? null;
    if (parent !== null && !nodes.has(parent)) return `node ${JSON.stringify(id)} names a parent that is not in mapping`;
    children.set(parent, [...(children.get(parent) ?? []), id]);
  }
  if (c.current_node != null && !nodes.has(c.current_node)) return 'current_node is not in mapping';
  const kept = new Map<string, string | null>(); // node id → the id of the message it reads as (itself or its nearest kept ancestor)
  const messages: Planned[] = [];
  const seen = new Set<string>();
  const fallback = dateOf(c.create_time) ?? new Date(0);
  const stack: { id: string; under: string | null }[] = (children.get(null) ?? []).reverse().map((id) => ({ id, under: null }));
  while (stack.length > 0) {
    const { id, under } = stack.pop()!;
    const message = nodes.get(id)!.message;
    const content = message ? textOf(message.content) : '';
    let here = under;
    if (message && content.length > 0) {
      if (!MessageId.safeParse(message.id).success) return `message ${JSON.stringify(message.id)}: not a message id Mnemo takes`;
      if (seen.has(message.id)) return `message ${JSON.stringify(message.id)} appears twice`;
      seen.add(message.id);
      messages.push({
        uuid: message.id,
        parent: under,
        role: message.author.role,
        content,
        createdAt: dateOf(message.create_time) ?? fallback,
      });
      here = message.id;
    }
    kept.set(id, here);
    for (const child of [...(children.get(id) ?? [])].reverse()) stack.push({ id: child, under: here });
  }
  if (kept.size !== nodes.size) return 'its nodes do not form a tree (a cycle)';
  return { sessionId, messages, head: c.current_node != null ? (kept.get(c.current_node) ?? null) : null };
}

/** Imports ChatGPT's `conversations.json` (parsed) for `userId` (created if it does not exist). */
export async function importChatGpt(
  core: Pick<Core, 'users' | 'sessions' | 'memory'>,
  conversations: unknown,
  { userId, onProgress }: { userId: string; onProgress?: (result: ChatGptImportResult, done: number, total: number) => void },
): Promise<ChatGptImportResult> {
  if (!Array.isArray(conversations)) throw new TypeError('not a ChatGPT export: conversations.json holds an array of conversations');
  const result: ChatGptImportResult = { imported: { sessions: 0, messages: 0 }, skipped: { sessions: 0, messages: 0 }, problems: [] };
  try {
    await core.users.add({ userId });
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
  }
  for (const [index, raw] of conversations.entries()) {
    const parsed = Conversation.safeParse(raw);
    const planned = parsed.success ? plan(parsed.data) : z.prettifyError(parsed.error).replaceAll('\n', ' ');
    if (typeof planned === 'string') {
      result.problems.push({ index, message: planned });
      continue;
    }
    const c = parsed.data!;
    const { sessionId, messages, head } = planned;
    try {
      const createTime = dateOf(c.create_time);
      const updateTime = dateOf(c.update_time);
      await core.sessions.add({
        sessionId,
        userId,
        metadata: {
          title: c.title ?? null,
          chatgpt: { createTime: createTime?.toISOString() ?? null, updateTime: updateTime?.toISOString() ?? null },
        },
      });
      result.imported.sessions++;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      result.skipped.sessions++;
    }
    // Chains: each message that follows the one before it joins its chain; a chain goes under its first one's parent.
    const chains: Planned[][] = [];
    for (const m of messages) {
      const chain = chains.at(-1);
      if (chain && chain.at(-1)!.uuid === m.parent) chain.push(m);
      else chains.push([m]);
    }
    for (const chain of chains) {
      // A chain stored whole (a run again) is not sent: an add, even of stored messages only, touches the session.
      if (await stored(core, sessionId, chain.at(-1)!.uuid)) {
        result.skipped.messages += chain.length;
        continue;
      }
      const before = await Promise.all(chain.map((m) => stored(core, sessionId, m.uuid)));
      await core.memory.add({
        sessionId,
        parentId: chain[0]!.parent,
        messages: chain.map(({ uuid, role, content, createdAt }) => ({ uuid, role, content, createdAt })),
      });
      const already = before.filter(Boolean).length;
      result.skipped.messages += already;
      result.imported.messages += chain.length - already;
    }
    if (head !== null) await core.memory.setHead({ sessionId, uuid: head });
    onProgress?.(result, index + 1, conversations.length);
  }
  return result;
}

async function stored(core: Pick<Core, 'memory'>, sessionId: string, uuid: string): Promise<boolean> {
  try {
    await core.memory.message({ sessionId, uuid });
    return true;
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}
