/**
 * Mnemo's memory as an MCP server (Model Context Protocol): the tools and resources an agent sees,
 * whatever the transport (Streamable HTTP at /mcp, http.ts; stdio, `mnemo mcp`, stdio.ts).
 *
 * Every tool validates its arguments with the API's own zod schemas, then calls the tRPC procedures
 * (MemoryApi), so scope, validation and domain errors are the router's: this file only describes the
 * tools for a model, maps results to compact text (plus the same data as structured content) and
 * failures to tool errors that carry the domain's code and message (never a stack).
 *
 * Built on the SDK's low-level `Server` rather than `McpServer`: McpServer turns zod schemas into JSON
 * Schema with no way to describe a rule zod cannot express (metadata, the search filter), so it fails
 * on them; here the JSON Schema comes from zod with those rules described (jsonSchemaOf).
 */
import { describeZodError } from '@mnemo/core';
import { METADATA_PATCH_RULES, METADATA_RULES } from '@mnemo/core/metadata';
import {
  AddMemoryInput,
  GetMemoryInput,
  Id,
  ListSessionsInput,
  type Message,
  Metadata,
  MetadataFilter,
  MetadataPatch,
  SearchMemoryInput,
  type Session,
  type SessionListItem,
  UpdateSessionInput,
} from '@mnemo/core/schemas';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  type CallToolResult,
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { TRPCError } from '@trpc/server';
import { TRPCClientError } from '@trpc/client';
import { z } from 'zod';
import { DATABASE_UNAVAILABLE, internalErrorMessage, TRPC_CODE } from '../trpc';
import { MNEMO_VERSION } from '../version';
import { type McpPrincipal, type MemoryApi, type SessionChange, trpcCodeOf, type WatchSessions } from './api';

export const MCP_SERVER_NAME = 'mnemo';

/** tRPC code → the domain's code (trpc.ts maps the other way): what a tool error names. */
const DOMAIN_CODE: Record<string, string> = Object.fromEntries(Object.entries(TRPC_CODE).map(([domain, trpc]) => [trpc, domain]));

/** A failure a model can act on: `NOT_FOUND: session "x" not found`. Internal errors say nothing of their cause. */
export class ToolFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The domain code and a readable message of a failed call; anything unexpected is an internal error (logged by `onInternal`). */
export function failureOf(error: unknown, onInternal: (error: unknown) => string): ToolFailure {
  if (error instanceof ToolFailure) return error;
  const code = trpcCodeOf(error);
  const domain = code && DOMAIN_CODE[code];
  // The database is down: the API's own message (retry shortly), not an internal error.
  if (code === 'SERVICE_UNAVAILABLE') return new ToolFailure('UNAVAILABLE', DATABASE_UNAVAILABLE);
  if (!domain) return new ToolFailure('INTERNAL', onInternal(error));
  // Input the procedure refused: zod's issues, one line (not tRPC's JSON of them).
  if (error instanceof TRPCError && error.cause instanceof z.ZodError) return new ToolFailure(domain, describeZodError(error.cause));
  const zodError = error instanceof TRPCClientError ? (error.data as { zodError?: z.core.$ZodFlattenedError<unknown> })?.zodError : null;
  if (zodError) {
    const fields = Object.entries(zodError.fieldErrors as Record<string, string[]>).map(
      ([field, messages]) => `${field}: ${messages.join(', ')}`,
    );
    return new ToolFailure(domain, [...zodError.formErrors, ...fields].join('; '));
  }
  return new ToolFailure(domain, (error as Error).message);
}

/** Rules zod cannot express, described in the tools' JSON Schemas (the server enforces them). */
const FILTER_HELP =
  'A MongoDB-style filter on message metadata: paths start with "metadata.", operators $eq $ne $gt $gte $lt $lte $in $nin ' +
  '$exists $and $or $not. Example: {"metadata.topic": "billing", "metadata.priority": {"$gte": 2}}';
const RULE_SCHEMAS = new Map<unknown, object>([
  [Metadata, { type: 'object', description: METADATA_RULES }],
  [MetadataPatch, { type: 'object', description: METADATA_PATCH_RULES }],
  [MetadataFilter, { type: 'object', description: FILTER_HELP }],
]);

/** A tool's input schema as JSON Schema: zod's, with the rules above described and dates as ISO 8601 strings. */
function jsonSchemaOf(schema: z.ZodObject) {
  const { $schema: _s, ...json } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const rule = RULE_SCHEMAS.get(zodSchema);
      if (rule) Object.assign(jsonSchema, rule);
      if (zodSchema._zod.def.type === 'date') Object.assign(jsonSchema, { type: 'string', format: 'date-time' });
    },
  });
  return json as { type: 'object'; [key: string]: unknown };
}

const SessionId = Id.describe('The session (conversation) id, e.g. "support-42"');
const UserIdOfCall = Id.optional().describe(
  'The user whose sessions to use: required with an admin token; a user token is always its own user',
);
const query = SearchMemoryInput.shape;

/** What a tool gets: its parsed arguments, the procedures, and who is calling. */
interface ToolContext<A> {
  args: A;
  api: MemoryApi;
  principal: McpPrincipal;
}
interface ToolResult {
  text: string;
  data: Record<string, unknown>;
}
interface Tool<S extends z.ZodObject = z.ZodObject> {
  title: string;
  description: string;
  input: S;
  readOnly: boolean;
  run(context: ToolContext<z.output<S>>): Promise<ToolResult>;
}
const tool = <S extends z.ZodObject>(t: Tool<S>): Tool => t as unknown as Tool;

/** The user a user-level call is about: a user token's own; an admin token must name one. */
function userOf(principal: McpPrincipal, userId: string | undefined): string {
  if (principal.role === 'user') return userId ?? principal.userId;
  if (userId === undefined) throw new ToolFailure('VALIDATION', 'userId: an admin token must name the user');
  return userId;
}

const iso = (date: Date | string) => new Date(date).toISOString();
const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};
const messageLine = (m: Message, withSession = false) =>
  `[${withSession ? `${m.sessionId} ` : ''}#${m.seq} ${m.role} ${iso(m.createdAt)}] ${m.content}`;
const sessionLine = (s: SessionListItem | Session) =>
  `${s.sessionId}${s.userId ? ` (user ${s.userId})` : ''}: ${s.messageCount} messages, last active ${iso(s.lastActiveAt)}` +
  ('lastMessage' in s && s.lastMessage ? `; last: ${s.lastMessage.role}: ${oneLine(s.lastMessage.content, 120)}` : '');
/** Plain JSON (dates as ISO strings), as structured content must be. */
const json = <T>(value: T) => JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

export const TOOLS: Record<string, Tool> = {
  search_memory: tool({
    title: 'Search memory',
    description:
      'Search stored chat messages by text (ranked by relevance), by a metadata filter, or by date. Give sessionId to search ' +
      'one conversation; leave it out to search all of the user’s conversations (each result names its session). ' +
      'Examples: {"text": "favourite programming language"}; {"sessionId": "support-42", "text": "refund"}; ' +
      '{"metadata": {"metadata.topic": "billing"}, "limit": 5}.',
    input: z
      .object({
        text: query.text.describe('What to look for, in words; blank or absent: no text (newest first)'),
        metadata: query.metadata,
        sessionId: Id.optional().describe('Search only this session; absent: all of the user’s sessions'),
        userId: UserIdOfCall,
        startDate: query.startDate.describe('Only messages created at or after this time (ISO 8601)'),
        endDate: query.endDate.describe('Only messages created at or before this time (ISO 8601)'),
        limit: query.limit.describe('How many results, 1–100 (default 10)'),
      })
      .refine((a) => a.sessionId === undefined || a.userId === undefined, {
        message: 'give sessionId (one session) or userId (all of their sessions), not both',
        path: ['userId'],
      }),
    readOnly: true,
    async run({ args: { sessionId, userId, ...search }, api, principal }) {
      const results = sessionId
        ? await api.memory.search({ ...search, sessionId })
        : await api.user.search({ ...search, userId: userOf(principal, userId) });
      const lines = results.map((r) => `${messageLine(r.message, !sessionId)} (score ${r.dist.toFixed(3)})`);
      return {
        text: lines.length ? lines.join('\n') : 'No messages found.',
        data: json({ results: results.map(({ message, dist }) => ({ message, score: dist })) }),
      };
    },
  }),
  get_recent_messages: tool({
    title: 'Recent messages',
    description:
      'The last messages of a conversation, oldest first: what was said most recently. A session that does not exist yet ' +
      'has no messages. Example: {"sessionId": "support-42", "lastn": 20}.',
    input: z.object({
      sessionId: SessionId,
      lastn: GetMemoryInput.shape.lastn.describe('How many of the last messages (default: the server’s window, 12)'),
    }),
    readOnly: true,
    async run({ args, api }) {
      const { messages } = await api.memory.get(args);
      return { text: messages.length ? messages.map((m) => messageLine(m)).join('\n') : 'No messages.', data: json({ messages }) };
    },
  }),
  add_messages: tool({
    title: 'Add messages',
    description:
      'Store messages in a conversation, in order (the session is created if it is new). Use it to remember what was said ' +
      'or learned. Give each message a `uuid` to make retries safe (a message whose uuid is stored is not stored twice). ' +
      'Example: {"sessionId": "support-42", "messages": [{"role": "user", "content": "I moved to Lisbon"}, ' +
      '{"role": "assistant", "content": "Noted: you live in Lisbon."}]}.',
    input: z.object({
      sessionId: SessionId,
      messages: AddMemoryInput.shape.messages
        .min(1)
        .describe('The messages: role ("user", "assistant", "system", "tool", …), content, optional metadata'),
      userId: Id.optional().describe('With an admin token: the user a new session belongs to (a user token’s sessions are its own)'),
    }),
    readOnly: false,
    async run({ args: { sessionId, messages, userId }, api, principal }) {
      if (userId !== undefined && principal.role === 'admin') await ensureSessionOf(api, sessionId, userId);
      const { messages: added } = await api.memory.add({ sessionId, messages });
      const stored = added.map((m) => `#${m.seq} ${m.role} (${m.uuid})`).join(', ');
      return { text: `Stored ${added.length} messages in ${sessionId}: ${stored}.`, data: json({ messages: added }) };
    },
  }),
  list_sessions: tool({
    title: 'List sessions',
    description:
      'The user’s conversations, most recently active first, each with its message count and last message. Pass the ' +
      'returned `nextCursor` as `cursor` for the next page. Example: {"limit": 10}.',
    input: z.object({
      userId: UserIdOfCall,
      metadata: ListSessionsInput.shape.metadata.describe('Only sessions whose metadata matches this filter (the search filter language)'),
      limit: ListSessionsInput.shape.limit.describe('Sessions per page, 1–100 (default 50)'),
      cursor: ListSessionsInput.shape.cursor.describe('The nextCursor of the previous page'),
    }),
    readOnly: true,
    async run({ args: { userId, ...page }, api, principal }) {
      const { items, nextCursor } = await api.session.list({
        ...page,
        userId: userOf(principal, userId),
        sort: 'activity',
        withLastMessage: true,
      });
      const text = [
        ...(items.length ? items.map(sessionLine) : ['No sessions.']),
        ...(nextCursor ? [`More: call again with cursor "${nextCursor}".`] : []),
      ].join('\n');
      return { text, data: json({ sessions: items, nextCursor }) };
    },
  }),
  get_session: tool({
    title: 'Get a session',
    description: 'One conversation: its user, metadata, message count and activity. Example: {"sessionId": "support-42"}.',
    input: z.object({ sessionId: SessionId }),
    readOnly: true,
    async run({ args, api }) {
      const session = await api.session.get(args);
      return { text: `${sessionLine(session)}\nmetadata: ${JSON.stringify(session.metadata)}`, data: json({ session }) };
    },
  }),
  update_session_metadata: tool({
    title: 'Merge session metadata',
    description:
      'Merge keys into a conversation’s metadata: nested objects merge, other values replace, {"$delete": true} removes a ' +
      'key. Example: {"sessionId": "support-42", "metadata": {"topic": "billing", "customer": {"tier": "gold"}}}.',
    input: z.object({ sessionId: SessionId, metadata: UpdateSessionInput.shape.metadata.describe('The keys to merge') }),
    readOnly: false,
    async run({ args, api }) {
      const session = await api.session.update(args);
      return { text: `Metadata of ${session.sessionId}: ${JSON.stringify(session.metadata)}`, data: json({ session }) };
    },
  }),
};

/** An admin's new session belongs to the user it names; an existing one must already be theirs. */
async function ensureSessionOf(api: MemoryApi, sessionId: string, userId: string): Promise<void> {
  const existing = await api.session.get({ sessionId }).catch((error: unknown) => {
    if (trpcCodeOf(error) === 'NOT_FOUND') return null;
    throw error;
  });
  if (!existing) {
    await api.session.add({ sessionId, userId }).catch((error: unknown) => {
      if (trpcCodeOf(error) !== 'CONFLICT') throw error; // created meanwhile (or deleted): memory.add decides
    });
  } else if (existing.userId !== userId) {
    throw new ToolFailure('VALIDATION', `session "${sessionId}" belongs to another user`);
  }
}

export const SESSION_URI_PREFIX = 'mnemo://sessions/';
/** A session's resource URI: `mnemo://sessions/{sessionId}`, the id percent-encoded. */
export const sessionUri = (sessionId: string) => `${SESSION_URI_PREFIX}${encodeURIComponent(sessionId)}`;
/** Messages a session's resource shows: its last ones. */
export const RESOURCE_MESSAGES = 100;

/** A session's messages as Markdown. */
function sessionMarkdown(session: Session, messages: Message[]): string {
  const older = session.messageCount - messages.length;
  return [
    `# Session ${session.sessionId}`,
    '',
    `${session.userId ? `User: ${session.userId}. ` : ''}${session.messageCount} messages; last active ${iso(session.lastActiveAt)}.`,
    ...(Object.keys(session.metadata).length ? ['', `Metadata: \`${JSON.stringify(session.metadata)}\``] : []),
    ...(older > 0 ? ['', `(${older} older messages not shown)`] : []),
    ...messages.flatMap((m) => ['', `## ${m.role} · #${m.seq} · ${iso(m.createdAt)}`, '', m.content]),
  ].join('\n');
}

export interface McpServerOptions {
  api: MemoryApi;
  principal: McpPrincipal;
  /** Logs an unexpected error; returns what the client is told (never its cause). */
  onInternal?: (error: unknown) => string;
  /**
   * The live session events, where the transport can carry notifications (stdio): the server then tells
   * its client when the list of sessions changes and when a session it subscribed to does.
   */
  watchSessions?: WatchSessions;
}

/** Notifications of list changes are sent at most this often (every new message reorders the list by activity). */
export const LIST_CHANGED_EVERY_MS = 1000;

/** An MCP server over `api`: the tools above, and each session as a resource. Connect it to a transport. */
export function createMcpServer({ api, principal, onInternal = () => internalErrorMessage(), watchSessions }: McpServerOptions): Server {
  const server = new Server(
    { name: MCP_SERVER_NAME, title: 'Mnemo chat memory', version: MNEMO_VERSION },
    {
      capabilities: { tools: {}, resources: watchSessions ? { subscribe: true, listChanged: true } : {} },
      instructions:
        'Mnemo stores chat conversations (sessions of messages) for a user. Search memory before answering questions about ' +
        'the past; add messages to remember what matters.',
    },
  );
  const fail = (error: unknown) => failureOf(error, onInternal);

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: Object.entries(TOOLS).map(([name, t]) => ({
      name,
      title: t.title,
      description: t.description,
      inputSchema: jsonSchemaOf(t.input),
      annotations: { title: t.title, readOnlyHint: t.readOnly, destructiveHint: false, idempotentHint: t.readOnly, openWorldHint: false },
    })),
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const t = TOOLS[request.params.name];
    if (!t)
      throw new McpError(
        ErrorCode.InvalidParams,
        `no tool named ${JSON.stringify(request.params.name)} (tools: ${Object.keys(TOOLS).join(', ')})`,
      );
    try {
      const parsed = t.input.safeParse(request.params.arguments ?? {});
      if (!parsed.success) throw new ToolFailure('VALIDATION', describeZodError(parsed.error));
      const { text, data } = await t.run({ args: parsed.data, api, principal });
      return { content: [{ type: 'text', text }], structuredContent: data };
    } catch (error) {
      const { code, message } = fail(error);
      return { isError: true, content: [{ type: 'text', text: `${code}: ${message}` }], structuredContent: { error: { code, message } } };
    }
  });

  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [
      {
        uriTemplate: `${SESSION_URI_PREFIX}{sessionId}`,
        name: 'session',
        title: 'A conversation',
        description: `A session's last ${RESOURCE_MESSAGES} messages as Markdown (the id percent-encoded)`,
        mimeType: 'text/markdown',
      },
    ],
  }));

  server.setRequestHandler(ListResourcesRequestSchema, async (request) => {
    try {
      const { items, nextCursor } = await api.session.list({
        ...(principal.role === 'user' && { userId: principal.userId }),
        sort: 'activity',
        limit: 100,
        cursor: request.params?.cursor,
      });
      return {
        resources: items.map((s) => ({
          uri: sessionUri(s.sessionId),
          name: s.sessionId,
          title: `Session ${s.sessionId}`,
          description: sessionLine(s),
          mimeType: 'text/markdown',
        })),
        ...(nextCursor && { nextCursor }),
      };
    } catch (error) {
      throw resourceError(fail(error));
    }
  });

  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    const { uri } = request.params;
    try {
      if (!uri.startsWith(SESSION_URI_PREFIX))
        throw new ToolFailure('NOT_FOUND', `no resource ${uri} (sessions are ${SESSION_URI_PREFIX}{sessionId})`);
      let sessionId: string;
      try {
        sessionId = decodeURIComponent(uri.slice(SESSION_URI_PREFIX.length));
      } catch {
        throw new ToolFailure('VALIDATION', `${uri}: the session id is not percent-encoded correctly`);
      }
      // The session first: another user's reads as not found (memory.get alone would answer an empty history).
      const session = await api.session.get({ sessionId });
      const { messages } = await api.memory.get({ sessionId, lastn: RESOURCE_MESSAGES });
      return { contents: [{ uri, mimeType: 'text/markdown', text: sessionMarkdown(session, messages) }] };
    } catch (error) {
      throw resourceError(fail(error));
    }
  });

  if (watchSessions) notifyChanges(server, principal, watchSessions);
  return server;
}

/**
 * Once the client is initialised, follows the token's sessions (the server's scope: a user token's own
 * only) and notifies: the resource list changed (at most every LIST_CHANGED_EVERY_MS), and a resource the
 * client subscribed to changed. A reset (the event stream reconnected and may have missed events) counts
 * as a change of everything.
 */
function notifyChanges(server: Server, principal: McpPrincipal, watchSessions: WatchSessions): void {
  const subscribed = new Set<string>();
  server.setRequestHandler(SubscribeRequestSchema, async ({ params }) => (subscribed.add(params.uri), {}));
  server.setRequestHandler(UnsubscribeRequestSchema, async ({ params }) => (subscribed.delete(params.uri), {}));
  let listTimer: ReturnType<typeof setTimeout> | undefined;
  let listChangedAt = 0;
  const listChanged = () => {
    if (listTimer) return;
    listTimer = setTimeout(
      () => {
        listTimer = undefined;
        listChangedAt = Date.now();
        void server.sendResourceListChanged().catch(() => {});
      },
      Math.max(0, listChangedAt + LIST_CHANGED_EVERY_MS - Date.now()),
    );
  };
  const onChange = (change: SessionChange) => {
    listChanged();
    const uris = change === 'reset' ? [...subscribed] : [sessionUri(change.sessionId)].filter((uri) => subscribed.has(uri));
    for (const uri of uris) void server.sendResourceUpdated({ uri }).catch(() => {});
  };
  let stop: (() => void) | undefined;
  server.oninitialized = () => {
    stop = watchSessions(principal.role === 'user' ? principal.userId : undefined, onChange);
  };
  server.onclose = () => {
    stop?.();
    clearTimeout(listTimer);
  };
}

/** MCP's code for a resource that does not exist. */
export const RESOURCE_NOT_FOUND = -32002;

function resourceError({ code, message }: ToolFailure): McpError {
  const rpcCode = code === 'NOT_FOUND' ? RESOURCE_NOT_FOUND : code === 'VALIDATION' ? ErrorCode.InvalidParams : ErrorCode.InternalError;
  return new McpError(rpcCode, `${code}: ${message}`);
}
