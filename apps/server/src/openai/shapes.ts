/**
 * OpenAI's Conversations API wire shapes as zod schemas, and the mappers between them and Mnemo's
 * sessions and messages (the shapes the tRPC procedures take and return). The schemas are registered
 * in `openaiSchemas`, from which the OpenAPI document takes its components.
 *
 * A conversation is a session whose id is the conversation id (`conv_…` when this API made it); an
 * item is a message whose id is the item id (`msg_…`, `fc_…`, … when this API made it, or the id the
 * client gave it). How items are stored, so that every other API reads them too:
 * - a message item: its role, its content parts verbatim as the message's parts, and their text
 *   (input_text, output_text, text) as its content; a message given as a plain string keeps the
 *   string as content and has no parts (it reads back as one text part, as OpenAI's does);
 * - any other item (function calls and their outputs, reasoning, tool calls, …): its type as the
 *   role, and the item itself, without its id, as the message's single part. So a message with one
 *   part whose type is its role reads back as that item; every other message reads as a message item.
 * Request bodies are parsed into core's NewMessage (piped), so a bad item is refused before anything
 * is written, with core's own rules.
 */
import { randomBytes } from 'node:crypto';
import { Id, type Message, MessageId, type MessagePart, NewMessage, type Session, type SessionListItem } from '@mnemo/core/schemas';
import { metadataJsonSchemas, metadataProblem, TEXT_PATTERN } from '@mnemo/core/metadata';
import { z } from 'zod';

export const openaiSchemas = z.registry<{ id: string; description?: string }>();

/** OpenAI's metadata limits, enforced on this API only (the rest of Mnemo takes any JSON metadata). */
export const OPENAI_METADATA_LIMITS = { keys: 16, keyLength: 64, valueLength: 512 } as const;
const RequestMetadata = z
  .record(
    z.string().max(OPENAI_METADATA_LIMITS.keyLength, `keys must be at most ${OPENAI_METADATA_LIMITS.keyLength} characters`),
    z.string().max(OPENAI_METADATA_LIMITS.valueLength, `values must be at most ${OPENAI_METADATA_LIMITS.valueLength} characters`),
  )
  .refine((m) => Object.keys(m).length <= OPENAI_METADATA_LIMITS.keys, `at most ${OPENAI_METADATA_LIMITS.keys} keys`)
  .superRefine((m, ctx) => {
    const problem = metadataProblem(m); // and core's own rule, as everywhere
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({
    description: 'Up to 16 keys of at most 64 characters, string values of at most 512 characters',
    maxProperties: OPENAI_METADATA_LIMITS.keys,
    // Core's rule for keys (no ".", no leading "$", …), within OpenAI's length.
    propertyNames: { ...metadataJsonSchemas(String).Metadata.propertyNames, maxLength: OPENAI_METADATA_LIMITS.keyLength },
    additionalProperties: { type: 'string', pattern: TEXT_PATTERN, maxLength: OPENAI_METADATA_LIMITS.valueLength },
  });

/** Items per create call, as OpenAI allows. */
export const MAX_ITEMS_PER_CALL = 20;

// ── Ids ──────────────────────────────────────────────────────────────────────────────────────

/** OpenAI-style ids: a prefix, `_`, 48 hex digits. */
export const newId = (prefix: string) => `${prefix}_${randomBytes(24).toString('hex')}`;
const ITEM_ID_PREFIX: Record<string, string> = {
  message: 'msg',
  function_call: 'fc',
  function_call_output: 'fco',
  reasoning: 'rs',
  web_search_call: 'ws',
  file_search_call: 'fs',
  computer_call: 'cu',
  computer_call_output: 'cuo',
  custom_tool_call: 'ctc',
  custom_tool_call_output: 'ctco',
  mcp_call: 'mcp',
};
const newItemId = (type: string) => newId(ITEM_ID_PREFIX[type] ?? 'item');

// ── Items ────────────────────────────────────────────────────────────────────────────────────

const ROLES = ['user', 'assistant', 'system', 'developer', 'tool', 'critic', 'discriminator', 'unknown'] as const;
const ItemType = z.string().min(1).max(256);
const ContentPart = z.looseObject({ type: ItemType });
/** Content parts whose `text` is the message's text. */
const TEXT_PART_TYPES = new Set(['input_text', 'output_text', 'text']);
const textOf = (parts: { type: string; text?: unknown }[]) =>
  parts.flatMap((p) => (TEXT_PART_TYPES.has(p.type) && typeof p.text === 'string' ? [p.text] : [])).join('\n');

const MessageItem = z.looseObject({
  type: z.literal('message').optional(),
  id: MessageId.optional(),
  role: z.enum(ROLES),
  content: z.union([z.string(), z.array(ContentPart)]),
  status: z.enum(['in_progress', 'completed', 'incomplete']).nullish(),
});

/** An item as the client sends it: a message (with or without `type`) or any other item, verbatim. */
const NewItem = z
  .looseObject({ type: ItemType.optional(), id: MessageId.optional() })
  .meta({
    description: 'A message item (`role`, `content` as a string or parts) or any other item type, kept verbatim',
    anyOf: [
      (({ $schema: _, ...schema }) => schema)(z.toJSONSchema(MessageItem, { io: 'input', unrepresentable: 'any' })),
      { required: ['type'], properties: { type: { not: { enum: ['message', 'item_reference'] } } } },
    ],
  })
  .transform((item, ctx): z.input<typeof NewMessage> => {
    const type = item.type ?? 'message';
    if (type === 'item_reference') {
      ctx.issues.push({ code: 'custom', message: 'item_reference is not supported: send the item itself', input: item, path: ['type'] });
      return z.NEVER;
    }
    if (type !== 'message') {
      const { id, ...rest } = item;
      return { uuid: id ?? newItemId(type), role: type, content: '', parts: [rest as MessagePart] };
    }
    const parsed = MessageItem.safeParse(item);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.issues.push({ ...issue, input: item } as never);
      return z.NEVER;
    }
    const m = parsed.data;
    const uuid = m.id ?? newItemId('message');
    const status = m.status === 'in_progress' ? ('streaming' as const) : undefined;
    if (typeof m.content === 'string') return { uuid, role: m.role, content: m.content, status };
    return { uuid, role: m.role, content: textOf(m.content), parts: m.content, status };
  })
  .pipe(NewMessage);

export const Items = z.array(NewItem).max(MAX_ITEMS_PER_CALL, `at most ${MAX_ITEMS_PER_CALL} items per call`);

/** Mnemo's message status as OpenAI's item status: a reply cut off (interrupted) or stopped by a user is incomplete. */
const STATUS = { complete: 'completed', streaming: 'in_progress', interrupted: 'incomplete', stopped: 'incomplete' } as const;

/** A stored message as an OpenAI item (see the file comment). */
export function toItem(m: Message): { id: string; type: string } & Record<string, unknown> {
  const only = m.parts?.length === 1 ? m.parts[0] : undefined;
  if (only && only.type === m.role && m.role !== 'message') return { ...only, id: m.uuid };
  const text = {
    type: m.role === 'assistant' ? 'output_text' : 'input_text',
    text: m.content,
    ...(m.role === 'assistant' && { annotations: [] }),
  };
  return { type: 'message', id: m.uuid, status: STATUS[m.status], role: m.role, content: m.parts ?? [text] };
}

// ── Responses ────────────────────────────────────────────────────────────────────────────────

const UnixSeconds = z.number().int().describe('Unix time in seconds');
const Metadata = z.record(z.string(), z.unknown()).describe('As stored (sessions written through other APIs may hold any JSON)');

export const Conversation = z
  .object({ id: z.string(), object: z.literal('conversation'), created_at: UnixSeconds, metadata: Metadata })
  .register(openaiSchemas, { id: 'Conversation' });

/** A conversation in Mnemo's list of conversations (an extension), with its owner and activity. */
export const ConversationListItem = Conversation.extend({
  user_id: z.string().nullable(),
  last_active_at: UnixSeconds.describe('When it was created or last got an item'),
  item_count: z.number().int(),
}).register(openaiSchemas, { id: 'ConversationListItem' });

export const ConversationList = z
  .object({
    object: z.literal('list'),
    data: z.array(ConversationListItem),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page'),
  })
  .register(openaiSchemas, { id: 'ConversationList' });

export const ConversationDeleted = z
  .object({ id: z.string(), object: z.literal('conversation.deleted'), deleted: z.literal(true) })
  .register(openaiSchemas, { id: 'ConversationDeleted' });

export const ConversationItem = z
  .looseObject({ type: z.string(), id: z.string() })
  .describe('A message item (`role`, `status`, `content` parts) or any other item, as it was stored')
  .register(openaiSchemas, { id: 'ConversationItem' });

export const ConversationItemList = z
  .object({
    object: z.literal('list'),
    data: z.array(ConversationItem),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
  })
  .register(openaiSchemas, { id: 'ConversationItemList' });

export const OpenAIError = z
  .object({
    error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }),
  })
  .register(openaiSchemas, { id: 'Error' });

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);

export function toConversation(s: Session) {
  return { id: s.sessionId, object: 'conversation' as const, created_at: seconds(s.createdAt), metadata: s.metadata };
}

export function toConversationListItem(s: SessionListItem) {
  return { ...toConversation(s), user_id: s.userId, last_active_at: seconds(s.lastActiveAt), item_count: s.messageCount };
}

/** OpenAI's list envelope. */
export function toList<T extends { id: string }>(data: T[], hasMore: boolean) {
  return { object: 'list' as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore };
}

// ── Requests ─────────────────────────────────────────────────────────────────────────────────

export const PATH_PARAMETERS: Record<string, z.ZodType<string>> = {
  conversation_id: Id.describe('The conversation id (a Mnemo session id)'),
  item_id: MessageId.describe('The item id (a Mnemo message id)'),
};

export const CreateConversationRequest = z
  .object({
    items: Items.nullish(),
    metadata: RequestMetadata.nullish(),
    user_id: Id.nullish().describe('Mnemo: the user the conversation belongs to (a user token’s own user by default)'),
  })
  .register(openaiSchemas, { id: 'CreateConversationRequest', description: `Up to ${MAX_ITEMS_PER_CALL} initial items` });

export const UpdateConversationRequest = z
  .object({ metadata: RequestMetadata.nullable() })
  .register(openaiSchemas, { id: 'UpdateConversationRequest', description: 'The metadata replaces what is stored; null clears it' });

export const CreateItemsRequest = z
  .object({ items: Items.min(1, 'give at least one item') })
  .register(openaiSchemas, { id: 'CreateItemsRequest' });

/** Accepted and ignored: items are stored verbatim, so every field is always included. */
const Include = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .describe('accepted and ignored: items come back whole');
const Limit = z.coerce.number().int().min(1).max(100).default(20).describe('1–100, default 20');
const Order = z.enum(['asc', 'desc']).default('desc');

export const IncludeQuery = z.object({ include: Include });
export const ListItemsQuery = z.object({
  after: MessageId.optional().describe('an item id: the items after it in `order`'),
  before: MessageId.optional().describe('an item id: the items before it in `order`'),
  limit: Limit,
  order: Order.describe('by when they were added; default desc (newest first)'),
  include: Include,
});
export const ListConversationsQuery = z.object({
  user_id: Id.optional().describe('only this user’s conversations'),
  sort: z.enum(['activity', 'created']).default('activity').describe('by last activity (default) or by creation'),
  order: Order.describe('default desc (most recent first)'),
  limit: Limit,
  cursor: z.string().max(1024).optional().describe('the `next_cursor` of the previous page'),
});
