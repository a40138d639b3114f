/**
 * Isomorphic zod schemas and their inferred types: the inputs of every core operation and the
 * shapes it returns. The tRPC router uses these as procedure inputs; core parses them again so
 * that other workspace packages calling core directly get the same validation.
 */
import { z } from 'zod';
import { ID_MAX_LENGTH, MESSAGE_ID_PATTERN } from './ids';
import {
  type Metadata as MetadataType,
  metadataProblem,
  partsProblem,
  TEXT_PATTERN,
  TRIM_WHITESPACE,
  textPattern,
  textProblem,
} from './metadata';
import { isEmptyFilter, metadataFilterProblem, type MetadataFilter as MetadataFilterType } from './search/filter';

export { ID_MAX_LENGTH, MESSAGE_ID_PATTERN } from './ids';
export { metadataFilterJsonSchemas } from './search/filter';

/**
 * Any stored string: no NUL, no lone surrogate (metadata.ts, textProblem). `meta` gives the JSON
 * Schema (z.toJSONSchema) the same rule as a pattern, as for Id below.
 */
export const Text = z
  .string()
  .superRefine((s, ctx) => {
    const problem = textProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ pattern: TEXT_PATTERN });

const CONTROL_CHARACTERS = '\\u0000-\\u001f\\u007f-\\u009f';
const HAS_CONTROL_CHARACTER = new RegExp(`[${CONTROL_CHARACTERS}]`);
/** Session and user ids: 1–256 characters (code points), no control characters. */
export const Id = Text.min(1, 'must not be empty')
  .max(ID_MAX_LENGTH, `must be at most ${ID_MAX_LENGTH} characters`)
  .refine((s) => !HAS_CONTROL_CHARACTER.test(s), 'must not contain control characters')
  .meta({ pattern: textPattern(CONTROL_CHARACTERS), description: 'Any text without control characters or lone surrogates' });

const metadataOf = (kind: 'stored' | 'patch') =>
  z.custom<MetadataType>().superRefine((value, ctx) => {
    const problem = metadataProblem(value, kind);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
/** Metadata being stored (creation, import). */
export const Metadata = metadataOf('stored');
export type Metadata = MetadataType;
/** Metadata merged into what is stored (updates): `{ "$delete": true }` as a value removes its key. */
export const MetadataPatch = metadataOf('patch');

/** A message's id: MESSAGE_ID_PATTERN (ids.ts). */
export const MessageId = z.string().regex(MESSAGE_ID_PATTERN, 'must be 1–128 letters, digits, "-", "_", "." or ":"');

/** Keyset page request: `cursor` is the opaque `nextCursor` of the previous page. */
export const PageInput = z.object({
  limit: z.number().int().min(1).max(100).default(50),
  cursor: z.string().nullish(),
});
export type PageInput = z.input<typeof PageInput>;
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

// Users
export const AddUserInput = z.object({
  userId: Id,
  email: Text.max(320).optional(),
  firstName: Text.max(256).optional(),
  lastName: Text.max(256).optional(),
  metadata: Metadata.optional(),
});
export type AddUserInput = z.input<typeof AddUserInput>;
/** Profile fields replace when given; metadata merges (MetadataPatch). */
export const UpdateUserInput = AddUserInput.extend({ metadata: MetadataPatch.optional() });
export type UpdateUserInput = z.input<typeof UpdateUserInput>;
export const UserIdInput = z.object({ userId: Id });

export interface User {
  uuid: string;
  userId: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  metadata: Metadata;
  createdAt: Date;
  updatedAt: Date;
}

// Sessions
/**
 * How long a session's messages are kept, in days: older messages, and the whole session once it has
 * been inactive that long, are deleted by the purge schedule. Null: the server's MNEMO_RETENTION_DAYS.
 */
const RetentionDays = z.number().int().min(1).max(365_000);
export const AddSessionInput = z.object({
  sessionId: Id,
  userId: Id.nullish(),
  metadata: Metadata.optional(),
  retentionDays: RetentionDays.nullish(),
});
export type AddSessionInput = z.input<typeof AddSessionInput>;
/** Metadata merges (MetadataPatch); `retentionDays` replaces when given (null: back to the server's default). */
export const UpdateSessionInput = z.object({ sessionId: Id, metadata: MetadataPatch.default({}), retentionDays: RetentionDays.nullish() });
export type UpdateSessionInput = z.input<typeof UpdateSessionInput>;
export const SessionIdInput = z.object({ sessionId: Id });

export interface Session {
  uuid: string;
  sessionId: string;
  userId: string | null;
  metadata: Metadata;
  createdAt: Date;
  updatedAt: Date;
  /** When its last message was added; null while it has none. */
  lastMessageAt: Date | null;
  /** When it was created or last got a message: what `sort: 'activity'` orders by. */
  lastActiveAt: Date;
  /** Its live messages. */
  messageCount: number;
  /** Its own retention, when it has one (see RetentionDays). */
  retentionDays: number | null;
}

// Memory and messages
/**
 * Structured content, e.g. the AI SDK's `UIMessage.parts` (text, reasoning, tool calls and results,
 * files, sources): objects with a `type`, kept verbatim as JSON (none of metadata's limits apply).
 */
export type MessagePart = { type: string } & Record<string, unknown>;
export const Parts = z
  .array(z.looseObject({ type: Text.min(1).max(256) }))
  .max(10_000)
  .superRefine((parts, ctx) => {
    const problem = partsProblem(parts);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }) as unknown as z.ZodType<MessagePart[], MessagePart[]>;
/**
 * A message being written while a model streams it is `streaming` until it is marked `complete`, or
 * `stopped` by `message.stop` (from any client; the writer's later stream writes are then ignored);
 * one left streaming for STREAM_IDLE_MS without an update reads as `interrupted`, never as complete.
 */
export const MESSAGE_STATUSES = ['complete', 'streaming', 'stopped'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number] | 'interrupted';
export const STREAM_IDLE_MS = 120_000;

const Role = Text.min(1).max(256);
const TokenCount = z.number().int().min(0);
export const NewMessage = z
  .object({
    role: Role,
    /** May be left out when `parts` is given: it is then the text of the parts (search and token counts use it). */
    content: Text.optional(),
    parts: Parts.optional(),
    status: z.enum(MESSAGE_STATUSES).optional(),
    metadata: Metadata.optional(),
    tokenCount: TokenCount.optional(),
    uuid: MessageId.optional(),
    /** Kept as given (imports); years 1–9999, what an ISO 8601 date-time can say. */
    createdAt: z.coerce
      .date()
      .refine((d) => d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999, 'must be a date between the years 1 and 9999')
      .optional(),
  })
  .refine((m) => m.content !== undefined || m.parts !== undefined, { message: 'give content or parts', path: ['content'] });
export type NewMessage = z.input<typeof NewMessage>;
export const AddMemoryInput = z.object({
  sessionId: Id,
  messages: z.array(NewMessage).max(1000),
  /**
   * The message the first one follows (the rest follow each other); absent: the head (the active path
   * goes on). Under a message other than the head, or `null` (a new root), the batch starts a branch
   * and becomes the active path: an edited question goes under the old one's parent, a regenerated
   * answer under its question. Messages already stored are skipped as always; with a parent named,
   * the first new one goes under the stored message just before it in the batch (a resent history
   * ending in a regenerated reply branches at the right place).
   */
  parentId: MessageId.nullable().optional(),
});
export type AddMemoryInput = z.input<typeof AddMemoryInput>;
/** A session that does not exist (yet) has an empty history: a new chat reads as one. */
export const GetMemoryInput = z.object({ sessionId: Id, lastn: z.number().int().min(1).optional() });
export type GetMemoryInput = z.input<typeof GetMemoryInput>;
export const ListMessagesInput = PageInput.extend({
  sessionId: Id,
  /**
   * By `seq`: 'asc' (default), oldest first, each page after the last; 'desc', newest first, each
   * page before the last, for a chat that opens at the end and loads older messages as it scrolls
   * up. (Not `direction`: tRPC's infinite queries reserve that name for their own paging.)
   */
  order: z.enum(['asc', 'desc']).default('asc'),
});
export type ListMessagesInput = z.input<typeof ListMessagesInput>;
export const MessageIdInput = z.object({ sessionId: Id, uuid: MessageId });
/**
 * Changes a message: metadata merges (MetadataPatch); `content` replaces the text, `append` adds to it (a streamed
 * reply as it grows); `parts` replace the parts (and, without `content`, give the text); a changed
 * text or role re-counts tokens unless `tokenCount` is given, and re-indexes search.
 */
export const UpdateMessageInput = MessageIdInput.extend({
  metadata: MetadataPatch.optional(),
  tokenCount: TokenCount.optional(),
  role: Role.optional(),
  content: Text.optional(),
  append: Text.optional(),
  parts: Parts.optional(),
  status: z.enum(MESSAGE_STATUSES).optional(),
}).refine((m) => m.content === undefined || m.append === undefined, { message: 'give content or append, not both', path: ['append'] });
export type UpdateMessageInput = z.input<typeof UpdateMessageInput>;
/**
 * Reads a message as a stream (streams/message-stream.ts). `lastEventId` is the id of the last
 * event the reader had (`<rev>.<length>`, what the server stored: valid across restarts); `from`
 * says the reader has the first `from` characters of the text (honoured while the message has only
 * grown by appends since it was added, else it gets the whole message).
 */
export const MessageStreamInput = MessageIdInput.extend({
  lastEventId: z
    .string()
    .regex(/^\d{1,15}\.\d{1,15}$/, 'must be the id of a stream event: <rev>.<length>')
    .nullish(),
  from: z.number().int().min(0).optional(),
});
export type MessageStreamInput = z.input<typeof MessageStreamInput>;
/** How a streamed message ended. */
export type StreamEndStatus = 'complete' | 'stopped' | 'interrupted';
/**
 * What `message.stream` sends: the whole message (first, and after any change that is not an
 * append), the text appended to `content` since the last event, and its end.
 */
export type MessageStreamEvent =
  | { type: 'message'; message: Message }
  | { type: 'append'; text: string }
  | { type: 'end'; status: StreamEndStatus };

/** Soft-deletes the messages after `uuid` (and `uuid` itself when `inclusive`): regenerate, edit and resend. */
export const TruncateInput = MessageIdInput.extend({ inclusive: z.boolean().default(false) });
/** Undeletes a message; `deletedWith`: and the messages deleted in the same operation (a truncation). */
export const RestoreMessageInput = MessageIdInput.extend({
  deletedWith: z.boolean().default(false),
  /**
   * The number the message had (the caller's copy of it): with it, a message that took the id after
   * the delete (another number) is not the one to restore (NOT_FOUND). Without it, the id decides.
   */
  seq: z.number().int().min(1).optional(),
});
export type RestoreMessageInput = z.input<typeof RestoreMessageInput>;
export type TruncateInput = z.input<typeof TruncateInput>;
/**
 * Switches branch: the head becomes the newest message under `uuid` (following the most recently active branch
 * at each fork); with `exact`, `uuid` itself, even when messages follow it: they are set aside (off the path,
 * not deleted), and the next add goes under it as a new branch (a regenerate that keeps the old answer).
 */
export const SetHeadInput = MessageIdInput.extend({ exact: z.boolean().default(false) });
export type SetHeadInput = z.input<typeof SetHeadInput>;
/** Every live message of a session with its parent, by `seq` (a tree view, assistant-ui's history). */
export const MessageTreeInput = PageInput.extend({ sessionId: Id });
export type MessageTreeInput = z.input<typeof MessageTreeInput>;

export interface Message {
  /** The message id (see MessageId). */
  uuid: string;
  sessionId: string;
  seq: number;
  role: string;
  content: string;
  /** Only when it was stored with parts. */
  parts?: MessagePart[];
  status: MessageStatus;
  metadata: Metadata;
  tokenCount: number;
  createdAt: Date;
  updatedAt: Date;
  /**
   * Its place in the conversation tree, given in sessions that have branches (a session without any is
   * one line: each message follows the one before it and has no siblings) and by `message.tree`:
   * the message it follows (null: a root), and its place among the live messages that share that
   * parent (0-based, by `seq`) and how many they are, for a "‹ 2 / 3 ›" picker.
   */
  parentId?: string | null;
  siblingIndex?: number;
  siblingCount?: number;
}

/** Where the active path ends (null: the session has no live message). */
export interface Head {
  headId: string | null;
}
export interface Siblings {
  /** Their parent: the nearest live message the message follows (null: it is a root). */
  parentId: string | null;
  /** The live messages sharing the message's parent, by `seq`, itself among them. */
  items: Message[];
  /** Its place among them. */
  index: number;
}
export interface MessageTreePage extends Page<Message>, Head {}

export interface Memory {
  messages: Message[];
  /**
   * The session's latest summary, when summaries are configured and one has been made (get-memory
   * without `lastn` then returns only the messages after it).
   */
  summary?: Summary;
}

// Summaries (summaries/)
/** A progressive summary of a session: it covers every message up to `recentMessageUuid` (number `recentSeq`). */
export interface Summary {
  uuid: string;
  sessionId: string;
  content: string;
  recentMessageUuid: string;
  recentSeq: number;
  tokenCount: number;
  metadata: Metadata;
  createdAt: Date;
}
/** A session's live summaries, newest first. */
export const ListSummariesInput = PageInput.extend({ sessionId: Id });
export type ListSummariesInput = z.input<typeof ListSummariesInput>;
/** Text search over a live session's live summaries (Zep's `search_scope: "summary"`): best first by BM25. */
export const SearchSummariesInput = z.object({
  sessionId: Id,
  text: z
    .string()
    .max(16_384)
    .refine((t) => t.trim() !== '', 'empty query: give text'),
  limit: z.number().int().min(1).max(100).default(10),
});
export type SearchSummariesInput = z.input<typeof SearchSummariesInput>;
export interface SummarySearchResult {
  summary: Summary;
  /** BM25 relevance, higher is better. */
  dist: number;
}

// Memory search (issue 5; implemented in ./search)
/** A MongoDB-style filter on message metadata: `metadata.*` paths and whitelisted operators only (see search/filter.ts). */
// Spelled out rather than `MetadataFilterType`: declaration emit (the published client's bundled AppRouter type)
// cannot name a type of ./search/filter, which no package subpath exports.
export const MetadataFilter = z.custom<Record<string, unknown>>().superRefine((value, ctx) => {
  const problem = metadataFilterProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
export type MetadataFilter = MetadataFilterType;
export const SEARCH_TYPES = ['similarity', 'mmr'] as const;
export type SearchType = (typeof SEARCH_TYPES)[number];
/** What a search asks, whatever it searches: one session (SearchMemoryInput) or all of a user's (SearchUserInput). */
export const SEARCH_TEXT_MAX_LENGTH = 16_384;
/** A JSON Schema pattern for text that is not blank (has a character `trim` keeps). */
export const NOT_BLANK_PATTERN = `[^${TRIM_WHITESPACE}]`;
const SearchQuery = z.object({
  /** Free text; blank means "no text" (results newest first). */
  text: z.string().max(SEARCH_TEXT_MAX_LENGTH).nullish(),
  metadata: MetadataFilter.nullish(),
  /** Inclusive bounds on the message's `createdAt`. */
  startDate: z.coerce.date().nullish(),
  endDate: z.coerce.date().nullish(),
  limit: z.number().int().min(1).max(100).default(10),
  searchType: z.enum(SEARCH_TYPES).default('similarity'),
  /** MMR trade-off: 1 = relevance only, 0 = diversity only. */
  mmrLambda: z.number().min(0).max(1).default(0.5),
  /** In a session with branches, search every branch, not only the active path (the default). */
  allBranches: z.boolean().default(false),
});
/** The check every search applies: it asks for something. */
function asksSomething(input: z.output<typeof SearchQuery>, ctx: z.RefinementCtx): void {
  if (!input.text?.trim() && isEmptyFilter(input.metadata) && !input.startDate && !input.endDate) {
    ctx.addIssue({ code: 'custom', message: 'empty query: give text, a metadata filter or a date range' });
  }
}
export const SearchMemoryInput = SearchQuery.extend({ sessionId: Id }).superRefine(asksSomething);
export type SearchMemoryInput = z.input<typeof SearchMemoryInput>;
/** A search across the user's live sessions (issue 12): the same fields, ranking and filters; results name their session. */
export const SearchUserInput = SearchQuery.extend({ userId: Id }).superRefine(asksSomething);
export type SearchUserInput = z.input<typeof SearchUserInput>;

export interface MemorySearchResult {
  message: Message;
  /** Relevance, higher is better: BM25 for text alone, in [0, 1] when blended with embeddings; 0 without text. */
  dist: number;
  /** The message's embedding, for `searchType: 'mmr'` when one is stored. */
  embedding?: number[];
}

// Session queries (issue 12)
const DateBound = z.coerce.date().nullish();
/**
 * A page of sessions: all of them, or one user's; filtered by metadata (the filter language of search,
 * on the session's metadata), by creation and update time (inclusive bounds); sorted by creation
 * ('created', the default) or by last activity ('activity': creation or last message), in `order`
 * (default: oldest first by creation, most recent first by activity). Cursors are keyset: a page
 * never repeats or skips a session whose sort key did not change meanwhile.
 */
export const ListSessionsInput = PageInput.extend({
  userId: Id.optional(),
  metadata: MetadataFilter.nullish(),
  createdAfter: DateBound,
  createdBefore: DateBound,
  updatedAfter: DateBound,
  updatedBefore: DateBound,
  sort: z.enum(['created', 'activity']).default('created'),
  order: z.enum(['asc', 'desc']).optional(),
  /** Count every matching session (costs a count of them on each page). */
  withTotal: z.boolean().default(false),
  /** Give each session its last live message (a preview). */
  withLastMessage: z.boolean().default(false),
});
export type ListSessionsInput = z.input<typeof ListSessionsInput>;
export const UserSessionsInput = ListSessionsInput.extend({ userId: Id });
export type UserSessionsInput = z.input<typeof UserSessionsInput>;
export type SessionListItem = Session & { lastMessage?: Message | null };
export interface SessionPage extends Page<SessionListItem> {
  total?: number;
}

/** What forgetting a user hard-deleted, per collection. */
export interface ForgetResult {
  users: number;
  sessions: number;
  messages: number;
  /** Search terms and embeddings (collection message_search). */
  searchDocuments: number;
  /** Session summaries (collection summaries). */
  summaries: number;
}

export const PurgeInput = z.object({ graceMs: z.number().int().min(0).default(0) });
export type PurgeInput = z.input<typeof PurgeInput>;
export interface PurgeResult {
  /** Hard-deleted. */
  users: number;
  sessions: number;
  messages: number;
  /** Soft-deleted by retention in the same run (hard-deleted by a later purge after the grace period). */
  expired: { sessions: number; messages: number };
}
