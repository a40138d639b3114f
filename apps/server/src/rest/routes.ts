/**
 * The Zep v0.27 REST API (`/api/v1`), as a table of routes. Handlers hold no business logic: each
 * calls the tRPC procedure through `createCaller(ctx)` — so auth, validation and domain-error
 * mapping are the router's — and only maps shapes (shapes.ts) and Zep's paging conventions (`@mnemo/core/zep`, shared with the
 * client's Zep facade).
 * The OpenAPI document (openapi.ts) is generated from the same table.
 */
import { describeZodError } from '@mnemo/core';
import { TRPCError } from '@trpc/server';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { allowOnly, badRequest } from '../http-error';
import { createCaller } from '../router';
import { AUTH_MESSAGES, type Context } from '../trpc';
import {
  fromZepSearch,
  fromZepSearchQuery,
  fromZepSummarySearch,
  pageOffset,
  slice,
  WALK_PAGE_SIZE,
  walk,
  zepMemory,
} from '@mnemo/core/zep';
import {
  AddMemoryRequest,
  CreateSessionRequest,
  CreateUserRequest,
  fromZepNewMessage,
  fromZepUser,
  ListQuery,
  SearchQuery,
  SearchRequest,
  UserSearchRequest,
  MemoryQuery,
  MessageListQuery,
  PATH_PARAMETERS,
  UpdateMessageRequest,
  UpdateSessionRequest,
  UpdateUserRequest,
  toZepMemory,
  toZepMessage,
  toZepSearchResult,
  toZepSummary,
  toZepSummarySearchResult,
  toZepSession,
  toZepUserSearchResult,
  toZepUser,
  ZepMemory,
  ZepMessage,
  ZepMessageList,
  ZepSearchResult,
  ZepSession,
  ZepSummary,
  ZepUser,
  ZepUserSearchResult,
} from './shapes';

type Api = ReturnType<typeof createCaller>;
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
/** `/sessions/:sessionId/messages/:uuid` → `{ sessionId: string; uuid: string }` */
type PathParams<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? { [K in Name]: string } & PathParams<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? { [K in Name]: string }
    : unknown;

export interface RestRoute<P extends string = string, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  method: Method;
  /** Fastify syntax, relative to /api/v1. */
  path: P;
  summary: string;
  query?: Q;
  body?: B;
  /** Success status (200 unless given). */
  status?: 200 | 201;
  /** The JSON response schema (registered in its API's registry), or 'OK' for Zep's plain-text `OK`. */
  response: z.ZodType | 'OK';
  /** The response is an array of `response`. */
  list?: boolean;
  /** Error statuses this route answers with (documentation). */
  errors: number[];
  handler(input: { api: Api; params: PathParams<P>; query: z.output<Q>; body: z.output<B> }): Promise<unknown>;
}

/** Identity with inference: checks one route's handler against its own path, query and body. */
export function route<P extends string, Q extends z.ZodType = z.ZodUnknown, B extends z.ZodType = z.ZodUnknown>(
  r: RestRoute<P, Q, B>,
): RestRoute {
  return r as unknown as RestRoute;
}

/** Zep answers some lookups of unknown sessions/users with an empty result instead of 404. */
async function emptyIfNotFound<T>(read: () => Promise<T>, empty: T): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof TRPCError && error.code === 'NOT_FOUND') return empty;
    throw error;
  }
}

const OK = 'OK' as const;

export const REST_ROUTES: RestRoute[] = [
  // ── Sessions ───────────────────────────────────────────────────────────────────────────────
  route({
    method: 'POST',
    path: '/sessions',
    summary: 'Add a session',
    body: CreateSessionRequest,
    status: 201,
    response: ZepSession,
    errors: [400, 401, 404, 409],
    handler: async ({ api, body }) =>
      toZepSession(await api.session.add({ sessionId: body.session_id, userId: body.user_id, metadata: body.metadata })),
  }),
  route({
    method: 'GET',
    path: '/sessions',
    summary: 'List sessions (cursor = offset; no limit = all)',
    query: ListQuery,
    response: ZepSession,
    list: true,
    errors: [400, 401],
    handler: async ({ api, query }) => (await slice(walk(api.session.list), query.cursor, query.limit)).map(toZepSession),
  }),
  route({
    method: 'GET',
    path: '/sessions/:sessionId',
    summary: 'Get a session',
    response: ZepSession,
    errors: [400, 401, 404],
    handler: async ({ api, params }) => toZepSession(await api.session.get(params)),
  }),
  route({
    method: 'PATCH',
    path: '/sessions/:sessionId',
    summary: 'Merge into a session’s metadata (undeletes a deleted session)',
    body: UpdateSessionRequest,
    response: ZepSession,
    errors: [400, 401, 404],
    handler: async ({ api, params, body }) =>
      toZepSession(await api.session.update({ sessionId: params.sessionId, metadata: body.metadata ?? {} })),
  }),

  // ── Memory ─────────────────────────────────────────────────────────────────────────────────
  route({
    method: 'GET',
    path: '/sessions/:sessionId/memory',
    summary: 'Get the last `lastn` messages of a session (without `lastn`: those after its summary) and its latest summary',
    query: MemoryQuery,
    response: ZepMemory,
    errors: [400, 401, 404],
    handler: async ({ api, params, query }) =>
      toZepMemory(
        await zepMemory(await api.memory.get({ sessionId: params.sessionId, lastn: query.lastn || undefined }), () =>
          api.session.get(params),
        ),
      ),
  }),
  route({
    method: 'POST',
    path: '/sessions/:sessionId/memory',
    summary: 'Add messages (creates or undeletes the session)',
    body: AddMemoryRequest,
    response: OK,
    errors: [400, 401, 409, 413],
    handler: async ({ api, params, body }) => {
      await api.memory.add({ sessionId: params.sessionId, messages: (body.messages ?? []).map(fromZepNewMessage) });
    },
  }),
  route({
    method: 'DELETE',
    path: '/sessions/:sessionId/memory',
    summary: 'Delete a session and its messages',
    response: OK,
    errors: [400, 401, 404],
    handler: async ({ api, params }) => {
      await api.memory.delete(params);
    },
  }),

  route({
    method: 'POST',
    path: '/sessions/:sessionId/search',
    summary: 'Search a session’s messages by text, metadata filter and dates, or its summaries by text (search_scope "summary")',
    query: SearchQuery,
    body: SearchRequest,
    response: ZepSearchResult,
    list: true,
    errors: [400, 401, 404],
    handler: async ({ api, params, query, body }) =>
      body.search_scope === 'summary'
        ? (await api.memory.searchSummaries(fromZepSummarySearch(params.sessionId, body, query.limit))).map(toZepSummarySearchResult)
        : (await api.memory.search(fromZepSearch(params.sessionId, body, query.limit))).map(toZepSearchResult),
  }),
  route({
    method: 'GET',
    path: '/sessions/:sessionId/summaries',
    summary: 'List a session’s summaries, newest first (Mnemo; cursor = offset; no limit = all)',
    query: ListQuery,
    response: ZepSummary,
    list: true,
    errors: [400, 401, 404],
    handler: async ({ api, params, query }) =>
      (
        await slice(
          walk((page) => api.memory.summaries({ ...page, sessionId: params.sessionId })),
          query.cursor,
          query.limit,
        )
      ).map(toZepSummary),
  }),

  // ── Messages ───────────────────────────────────────────────────────────────────────────────
  route({
    method: 'GET',
    path: '/sessions/:sessionId/messages',
    summary: 'List a session’s messages (cursor = 1-based page; no limit = all)',
    query: MessageListQuery,
    response: ZepMessageList,
    errors: [400, 401],
    handler: async ({ api, params, query }) => {
      // Pages are walked from the first message up to the one asked for; every page carries the total.
      const start = pageOffset(query.cursor, query.limit);
      let total = 0;
      const pages = walk(
        async (page) => {
          const result = await api.message.list({ ...page, sessionId: params.sessionId });
          total = result.total;
          return result;
        },
        query.limit ? Math.min(WALK_PAGE_SIZE, start + query.limit) : WALK_PAGE_SIZE,
      );
      const rows = await slice(pages, start, query.limit); // an unknown session has none, as in Zep
      return { messages: rows.map(toZepMessage), total_count: total, row_count: rows.length };
    },
  }),
  route({
    method: 'GET',
    path: '/sessions/:sessionId/messages/:uuid',
    summary: 'Get a message',
    response: ZepMessage,
    errors: [400, 401, 404],
    handler: async ({ api, params }) => toZepMessage(await api.message.get(params)),
  }),
  route({
    method: 'PATCH',
    path: '/sessions/:sessionId/messages/:uuid',
    summary: 'Merge into a message’s metadata (token_count changes only when given)',
    body: UpdateMessageRequest,
    response: ZepMessage,
    errors: [400, 401, 404],
    handler: async ({ api, params, body }) =>
      toZepMessage(await api.message.update({ ...params, metadata: body.metadata ?? {}, tokenCount: body.token_count })),
  }),

  // ── Users ──────────────────────────────────────────────────────────────────────────────────
  route({
    method: 'POST',
    path: '/user',
    summary: 'Add a user',
    body: CreateUserRequest,
    status: 201,
    response: ZepUser,
    errors: [400, 401, 409],
    handler: async ({ api, body }) => toZepUser(await api.user.add({ userId: body.user_id, ...fromZepUser(body) })),
  }),
  route({
    method: 'GET',
    path: '/user',
    summary: 'List users (cursor = offset; no limit = all)',
    query: ListQuery,
    response: ZepUser,
    list: true,
    errors: [400, 401],
    handler: async ({ api, query }) => (await slice(walk(api.user.list), query.cursor, query.limit)).map(toZepUser),
  }),
  route({
    method: 'GET',
    path: '/user/:userId',
    summary: 'Get a user',
    response: ZepUser,
    errors: [400, 401, 404],
    handler: async ({ api, params }) => toZepUser(await api.user.get(params)),
  }),
  route({
    method: 'PATCH',
    path: '/user/:userId',
    summary: 'Update a user (profile fields replace, metadata merges)',
    body: UpdateUserRequest,
    response: ZepUser,
    errors: [400, 401, 404],
    handler: async ({ api, params, body }) => toZepUser(await api.user.update({ userId: params.userId, ...fromZepUser(body) })),
  }),
  route({
    method: 'DELETE',
    path: '/user/:userId',
    summary: 'Delete a user, its sessions and their messages',
    response: OK,
    errors: [400, 401, 404],
    handler: async ({ api, params }) => {
      await api.user.delete(params);
    },
  }),
  route({
    method: 'GET',
    path: '/user/:userId/sessions',
    summary: 'List a user’s sessions (unknown user: [])',
    response: ZepSession,
    list: true,
    errors: [400, 401],
    handler: async ({ api, params }) =>
      emptyIfNotFound(
        async () => (await slice(walk((page) => api.user.sessions({ ...page, userId: params.userId })))).map(toZepSession),
        [],
      ),
  }),

  // ── Mnemo additions (no Zep route) ───────────────────────────────────────────────────────────
  route({
    method: 'POST',
    path: '/users/:userId/search',
    summary:
      'Search the messages of all of a user’s sessions (Mnemo; Zep has no such route): Zep’s search payload, results naming their session',
    query: SearchQuery,
    body: UserSearchRequest,
    response: ZepUserSearchResult,
    list: true,
    errors: [400, 401, 404],
    handler: async ({ api, params, query, body }) =>
      (await api.user.search({ userId: params.userId, ...fromZepSearchQuery(body, query.limit) })).map(toZepUserSearchResult),
  }),
];

/** Zep's SDKs send JSON with any Content-Type (zep-js PATCHes message metadata as text/plain). */
function parseJsonWhateverTheContentType(app: FastifyInstance): void {
  const secureJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') return done(null, undefined);
    void secureJson(req, body as string, (error, value) =>
      error ? done(badRequest('request body is not valid JSON')) : done(null, value),
    );
  });
}

export function parseInput<S extends z.ZodType>(schema: S | undefined, value: unknown, where: string): z.output<S> | undefined {
  if (!schema) return undefined;
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest(`${where}: ${describeZodError(result.error)}`);
  return result.data;
}

/** Each path parameter against its rule (Zep's: PATH_PARAMETERS); the error names the parameter. */
function parseParams(params: Record<string, string>, rules: Record<string, z.ZodType<string>>): PathParams<string> {
  for (const [name, value] of Object.entries(params)) {
    const result = rules[name]?.safeParse(value);
    if (result && !result.success) throw badRequest(`${name}: ${describeZodError(result.error)}`);
  }
  return params as PathParams<string>;
}

/** A route that takes a body requires one (the OpenAPI document says so): a JSON object, even `{}`. */
function bodyOf(r: RestRoute, body: unknown): unknown {
  if (r.body && body === undefined) throw badRequest('body: required (a JSON object)');
  return body;
}

/** Query values that are empty (`?limit=&cursor=`, as zep-python sends) count as absent (openapi.ts says so). */
function withoutEmpty(query: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(query as Record<string, unknown>).filter(([, v]) => v !== ''));
}

/** Refuses a request without a valid token before its body is read; the procedures check ctx.auth again (same rule, same messages). */
export async function refuseUnauthenticated(req: FastifyRequest): Promise<void> {
  const { authentication } = req;
  if (authentication.state !== 'ok') throw new TRPCError({ code: 'UNAUTHORIZED', message: AUTH_MESSAGES[authentication.state] });
}

/** `contextOf` gives a request's tRPC context (app.ts: its token already checked, its tenant's core). */
export function restApi({ contextOf }: { contextOf: (req: FastifyRequest) => Promise<Context> }): FastifyPluginAsync {
  return async (app) => {
    parseJsonWhateverTheContentType(app);
    app.addHook('onRequest', refuseUnauthenticated);

    serveRoutes(app, REST_ROUTES, { contextOf, pathParameters: PATH_PARAMETERS });
  };
}

/**
 * Serves a table of routes (Zep's here, OpenAI's in openai/routes.ts): each request's path, query and
 * body parsed by the route's rules, its handler given a caller with the request's context; a known
 * path answers other methods with 405.
 */
export function serveRoutes(
  app: FastifyInstance,
  routes: RestRoute[],
  {
    contextOf,
    pathParameters,
  }: { contextOf: (req: FastifyRequest) => Promise<Context>; pathParameters: Record<string, z.ZodType<string>> },
): void {
  for (const r of routes) {
    app.route({
      method: r.method,
      url: r.path,
      handler: async (req, reply) => {
        const result = await r.handler({
          api: createCaller(await contextOf(req)),
          params: parseParams(req.params as Record<string, string>, pathParameters),
          query: parseInput(r.query, withoutEmpty(req.query), 'query'),
          body: parseInput(r.body, bodyOf(r, req.body), 'body'),
        });
        reply.status(r.status ?? 200);
        return r.response === OK ? reply.type('text/plain; charset=utf-8').send(OK) : result;
      },
    });
  }
  const methods = new Map<string, Method[]>();
  for (const r of routes) methods.set(r.path, [...(methods.get(r.path) ?? []), r.method]);
  for (const [path, allowed] of methods) allowOnly(app, path, allowed);
}
