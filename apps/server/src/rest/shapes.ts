/**
 * The Zep v0.27 wire shapes (snake_case JSON) as zod schemas, and the mappers between them and the
 * domain shapes (camelCase) the tRPC procedures take and return. The schemas are registered in
 * `zepSchemas`, from which the OpenAPI document takes its components.
 *
 * Request schemas apply every rule the server enforces on a request (core's Id, Text, Metadata, …;
 * errors name the snake_case field), so the OpenAPI document generated from them states those
 * rules; the procedures check them again. Unknown fields are ignored and `null` counts as absent, as
 * Zep's decoder does. Metadata and the search filter are checked by core's functions, which have no
 * zod form: their JSON Schemas (RULE_SCHEMAS) come from core too, beside the rules they describe.
 */
import { METADATA_PATCH_RULES, METADATA_RULES, metadataJsonSchemas } from '@mnemo/core/metadata';
import {
  AddUserInput,
  Id,
  type Memory,
  type MemorySearchResult,
  type Message,
  Metadata as MetadataRule,
  MessageId,
  MetadataPatch as MetadataPatchRule,
  metadataFilterJsonSchemas,
  NewMessage as DomainNewMessage,
  SEARCH_TEXT_MAX_LENGTH,
  NOT_BLANK_PATTERN,
  type Session,
  type Summary,
  type SummarySearchResult,
  Text,
  type User,
} from '@mnemo/core/schemas';
import { z } from 'zod';

export const zepSchemas = z.registry<{ id: string; description?: string }>();

/** Where the OpenAPI document keeps a component schema. */
export const component = (name: string) => `#/components/schemas/${name}`;
/** JSON Schemas of rules zod cannot express, by component name (core's metadata and filter rules). */
export const RULE_SCHEMAS: Record<string, object> = { ...metadataJsonSchemas(component), ...metadataFilterJsonSchemas(component) };

/** Metadata in responses (as stored). */
const Metadata = z.record(z.string(), z.unknown()).describe(METADATA_RULES);
/** Metadata in requests: core's rule, described by its JSON Schema. */
const NewMetadata = MetadataRule.meta({ $ref: component('Metadata') });
/** In updates: merged, and `{"$delete": true}` removes a key. */
const MetadataPatch = MetadataPatchRule.meta({ $ref: component('MetadataPatch'), description: METADATA_PATCH_RULES });
const Timestamp = z.iso.datetime({ offset: true });
/** Optional in Zep's sense: absent or null. */
const opt = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined);

/**
 * Any JSON without a `__proto__` key: what an unknown field may hold. Unknown fields are ignored,
 * but a `__proto__` key anywhere in a body is refused (app.ts and Fastify's JSON parser).
 */
RULE_SCHEMAS.AnyJson = {
  anyOf: [
    { type: ['null', 'boolean', 'number', 'string'] },
    { type: 'array', items: { $ref: component('AnyJson') } },
    { type: 'object', propertyNames: { not: { const: '__proto__' } }, additionalProperties: { $ref: component('AnyJson') } },
  ],
};
/** A request object: its fields, and unknown fields (ignored) as AnyJson. */
const request = <S extends z.core.$ZodLooseShape>(shape: S) =>
  z.object(shape).meta({ propertyNames: { not: { const: '__proto__' } }, additionalProperties: { $ref: component('AnyJson') } });

// ── Responses ────────────────────────────────────────────────────────────────────────────────

export const ZepSession = z
  .object({
    uuid: z.uuid(),
    created_at: Timestamp,
    updated_at: Timestamp,
    deleted_at: z.null(),
    session_id: z.string(),
    user_id: z.string().nullable(),
    metadata: Metadata,
  })
  .register(zepSchemas, { id: 'Session' });
export type ZepSession = z.infer<typeof ZepSession>;

export const ZepUser = z
  .object({
    uuid: z.uuid(),
    created_at: Timestamp,
    updated_at: Timestamp,
    deleted_at: z.null(),
    user_id: z.string(),
    email: z.string().optional(),
    first_name: z.string().optional(),
    last_name: z.string().optional(),
    metadata: Metadata.optional().describe('omitted when empty'),
  })
  .register(zepSchemas, { id: 'User' });
export type ZepUser = z.infer<typeof ZepUser>;

export const ZepMessage = z
  .object({
    uuid: z.string().describe('a UUID, or the id the client gave the message (1–128 of A-Z a-z 0-9 - _ . :)'),
    created_at: Timestamp,
    updated_at: Timestamp,
    role: z.string(),
    content: z.string(),
    metadata: Metadata.optional().describe('omitted when empty'),
    token_count: z.number().int(),
  })
  .register(zepSchemas, { id: 'Message' });
export type ZepMessage = z.infer<typeof ZepMessage>;

export const ZepSummary = z
  .object({
    uuid: z.uuid(),
    created_at: Timestamp,
    content: z.string(),
    recent_message_uuid: z.string().describe('the newest message the summary covers'),
    token_count: z.number().int(),
    metadata: Metadata.optional().describe('omitted when empty'),
  })
  .register(zepSchemas, { id: 'Summary', description: 'A progressive summary of a session, up to and including `recent_message_uuid`.' });
export type ZepSummary = z.infer<typeof ZepSummary>;

export const ZepMemory = z
  .object({ messages: z.array(ZepMessage), summary: ZepSummary.optional().describe('the latest summary; omitted while there is none') })
  .register(zepSchemas, {
    id: 'Memory',
    description:
      'Oldest first: the last `lastn` messages; without `lastn`, the messages after the summary (at most the message window). With summaries on (MNEMO_LLM_URL), the latest summary.',
  });

export const ZepMessageList = z
  .object({ messages: z.array(ZepMessage), total_count: z.number().int(), row_count: z.number().int() })
  .register(zepSchemas, { id: 'MessageListResponse' });

export const ZepSearchResult = z
  .object({
    message: ZepMessage.nullable().describe('the message found; null in a summary search'),
    summary: ZepSummary.optional().describe('the summary found, in a summary search (search_scope "summary")'),
    metadata: Metadata.optional().describe("the message's metadata; omitted when empty"),
    dist: z.number().describe('relevance, higher is better (BM25, blended with cosine similarity when embeddings are on)'),
    embedding: z.array(z.number()).nullable().describe('the message embedding, for mmr searches'),
  })
  .register(zepSchemas, { id: 'MemorySearchResult' });

/** A result of the user search (a Mnemo route; Zep has none): Zep's search result, naming the message's session. */
export const ZepUserSearchResult = ZepSearchResult.omit({ summary: true })
  .extend({
    message: ZepMessage,
    session_id: z.string().describe('the session the message belongs to'),
  })
  .register(zepSchemas, {
    id: 'UserSearchResult',
    description: 'A MemorySearchResult of a search across a user’s sessions, with the session of its message.',
  });

export const ApiError = z.object({ message: z.string() }).register(zepSchemas, { id: 'APIError' });

// ── Requests ─────────────────────────────────────────────────────────────────────────────────

/** Path parameters, by name: session and user ids, message ids. */
export const PATH_PARAMETERS: Record<string, z.ZodType<string>> = {
  sessionId: Id,
  userId: Id,
  uuid: MessageId.describe('The message id: a UUID, or the id its client gave it'),
};

export const CreateSessionRequest = request({ session_id: Id, user_id: opt(Id), metadata: opt(NewMetadata) }).register(zepSchemas, {
  id: 'CreateSessionRequest',
});

export const UpdateSessionRequest = request({ metadata: opt(MetadataPatch) }).register(zepSchemas, {
  id: 'UpdateSessionRequest',
  description: 'Metadata is merged; `session_id`/`user_id` are ignored.',
});

const { role: Role, tokenCount: TokenCount } = DomainNewMessage.shape;
/** Years 1–9999 once in UTC (what core stores and an ISO 8601 date-time can say). */
const CreatedAt = Timestamp.refine((t) => {
  const year = new Date(t).getUTCFullYear();
  return year >= 1 && year <= 9999;
}, 'must be a date between the years 1 and 9999 (in UTC)').meta({ not: { pattern: '^0000' } });
const NewMessage = request({
  role: Role,
  content: Text,
  uuid: opt(MessageId),
  created_at: opt(CreatedAt),
  token_count: opt(TokenCount.unwrap()),
  metadata: opt(NewMetadata),
});

export const AddMemoryRequest = request({ messages: opt(z.array(NewMessage).max(1000)) }).register(zepSchemas, {
  id: 'AddMemoryRequest',
  description: '`summary` and `metadata` are ignored, as in Zep.',
});

export const UpdateMessageRequest = request({ metadata: opt(MetadataPatch), token_count: opt(TokenCount.unwrap()) }).register(zepSchemas, {
  id: 'UpdateMessageRequest',
});

const { email, firstName, lastName } = AddUserInput.shape;
const UserProfile = {
  email: opt(email.unwrap()),
  first_name: opt(firstName.unwrap()),
  last_name: opt(lastName.unwrap()),
  metadata: opt(NewMetadata),
};
export const CreateUserRequest = request({ user_id: Id, ...UserProfile }).register(zepSchemas, { id: 'CreateUserRequest' });
export const UpdateUserRequest = request({ ...UserProfile, metadata: opt(MetadataPatch) }).register(zepSchemas, {
  id: 'UpdateUserRequest',
  description: 'Metadata is merged; the path names the user.',
});

/** Zep's search `metadata`: the filter, plus the date bounds (core's filter rule checks the rest). */
const SearchDates = { start_date: opt(Timestamp), end_date: opt(Timestamp) };
const SearchMetadata = z.looseObject(SearchDates).meta({
  $ref: component('SearchMetadata'),
  description: 'a MongoDB-style filter on message metadata, e.g. {"metadata.tag": "x"}, plus optional start_date/end_date (RFC 3339)',
});
RULE_SCHEMAS.SearchMetadata = {
  ...RULE_SCHEMAS.MetadataFilter,
  properties: z.toJSONSchema(z.object(SearchDates), { io: 'input' }).properties,
};

/** Zep's search payload; `scopes`: what `search_scope` may be (a user search has no summaries to search). */
const searchRequest = (scopes: ['messages'] | ['messages', 'summary']) =>
  request({
    text: opt(z.string().max(SEARCH_TEXT_MAX_LENGTH)),
    metadata: opt(SearchMetadata),
    search_scope: opt(
      z.enum(scopes, {
        error: (issue) => (issue.input === 'summary' ? 'search_scope "summary" searches one session’s summaries, not a user’s' : undefined),
      }),
    ),
    search_type: opt(z.enum(['similarity', 'mmr'])),
    mmr_lambda: opt(z.number().min(0).max(1)),
  })
    // Core refuses a search that asks nothing ("empty query"); in JSON Schema: text that is not blank,
    // a filter with a condition, or a date bound.
    .meta({
      anyOf: [
        { required: ['text'], properties: { text: { type: 'string', pattern: NOT_BLANK_PATTERN } } },
        {
          required: ['metadata'],
          properties: {
            metadata: {
              type: 'object',
              anyOf: [
                { not: { propertyNames: { enum: Object.keys(SearchDates) } } },
                ...Object.keys(SearchDates).map((name) => ({ required: [name], properties: { [name]: { type: 'string' } } })),
              ],
            },
          },
        },
      ],
    });
export const SearchRequest = searchRequest(['messages', 'summary']).register(zepSchemas, {
  id: 'MemorySearchPayload',
  description:
    'Asks for something: text, a filter condition or a date bound. `search_scope: "summary"` searches the session’s summaries by text (a filter is then refused; ranking is by relevance).',
});
export const UserSearchRequest = searchRequest(['messages']).register(zepSchemas, {
  id: 'UserSearchPayload',
  description: 'Asks for something: text, a filter condition or a date bound (messages only).',
});

// ── Query strings (empty values were dropped before parsing) ──────────────────────────────────

const count = z.coerce.number().int().min(0).optional();
export const ListQuery = z.object({
  limit: count.describe('page size; absent or 0 = everything'),
  cursor: count.describe('offset: how many items to skip'),
});
export const MemoryQuery = z.object({ lastn: count.describe('how many recent messages; absent or 0 = the message window') });
export const SearchQuery = z.object({
  limit: z.coerce.number().int().min(0).max(100).optional().describe('how many results (at most 100); absent or 0 = 10'),
});
export const MessageListQuery = z.object({
  limit: count.describe('page size; absent or 0 = everything'),
  cursor: count.describe('1-based page number'),
});

// ── Domain → Zep ─────────────────────────────────────────────────────────────────────────────

const nonEmpty = (metadata: Record<string, unknown>) => (Object.keys(metadata).length > 0 ? { metadata } : {});
const nonBlank = <K extends string>(key: K, value: string | undefined) => (value ? { [key]: value } : {}) as { [k in K]?: string };

export function toZepSession(s: Session): ZepSession {
  return {
    uuid: s.uuid,
    created_at: s.createdAt.toISOString(),
    updated_at: s.updatedAt.toISOString(),
    deleted_at: null,
    session_id: s.sessionId,
    user_id: s.userId,
    metadata: s.metadata,
  };
}

export function toZepUser(u: User): ZepUser {
  return {
    uuid: u.uuid,
    created_at: u.createdAt.toISOString(),
    updated_at: u.updatedAt.toISOString(),
    deleted_at: null,
    user_id: u.userId,
    ...nonBlank('email', u.email),
    ...nonBlank('first_name', u.firstName),
    ...nonBlank('last_name', u.lastName),
    ...nonEmpty(u.metadata),
  };
}

export function toZepMessage(m: Message): ZepMessage {
  return {
    uuid: m.uuid,
    created_at: m.createdAt.toISOString(),
    updated_at: m.updatedAt.toISOString(),
    role: m.role,
    content: m.content,
    ...nonEmpty(m.metadata),
    token_count: m.tokenCount,
  };
}

// ── Zep → domain (the procedures' inputs) ────────────────────────────────────────────────────

export function fromZepNewMessage(m: z.output<typeof NewMessage>) {
  return {
    role: m.role,
    content: m.content,
    uuid: m.uuid,
    createdAt: m.created_at,
    tokenCount: m.token_count,
    metadata: m.metadata,
  };
}

export function fromZepUser(u: z.output<typeof UpdateUserRequest>) {
  return { email: u.email, firstName: u.first_name, lastName: u.last_name, metadata: u.metadata };
}

export function toZepSummary(s: Summary): ZepSummary {
  return {
    uuid: s.uuid,
    created_at: s.createdAt.toISOString(),
    content: s.content,
    recent_message_uuid: s.recentMessageUuid,
    token_count: s.tokenCount,
    ...nonEmpty(s.metadata),
  };
}

export function toZepMemory(m: Memory) {
  return { messages: m.messages.map(toZepMessage), ...(m.summary && { summary: toZepSummary(m.summary) }) };
}

export function toZepSummarySearchResult(r: SummarySearchResult) {
  return { message: null, summary: toZepSummary(r.summary), dist: r.dist, embedding: null };
}

export function toZepSearchResult(r: MemorySearchResult) {
  const message = toZepMessage(r.message);
  return { message, ...(message.metadata && { metadata: message.metadata }), dist: r.dist, embedding: r.embedding ?? null };
}

export function toZepUserSearchResult(r: MemorySearchResult) {
  return { ...toZepSearchResult(r), session_id: r.message.sessionId };
}
