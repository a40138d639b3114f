/**
 * The HTTP host: a Fastify instance (not listening) serving
 *   /trpc             the tRPC router (superjson; the typed client's endpoint)
 *   /api/v1/...       the Zep-compatible REST API, an adapter over the same procedures (rest/)
 *   /api/v1/openapi.json  its OpenAPI document
 *   /v1/conversations/... OpenAI's Conversations API, an adapter over the same procedures (openai/)
 *   /v1/openapi.json  its OpenAPI document
 *   /mcp              MCP (Model Context Protocol) over Streamable HTTP, stateless: memory tools for agents (mcp/)
 *   /healthz          200 `.` (never authenticated)
 *   /                 the web UI, when apps/web/dist has been built
 * Every response carries X-Zep-Version and X-Request-Id; errors are JSON `{"message"}` (on /v1,
 * OpenAI's `{"error": {…}}`: http-error.ts, errorBody).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { type Core, scopedTo } from '@mnemo/core';
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import { type Authentication, createVerifier, type Principal } from './auth';
import { logAuthFailures } from './auth-log';
import { cors } from './cors';
import type { Config } from './env';
import { allowOnly, badRequest, errorBody, routeEveryMethod, toHttpError } from './http-error';
import { createLogger, type Logger } from './logging';
import { mcpHttp } from './mcp/http';
import { rateLimit } from './rate-limit';
import { createOpenAIOpenApiDocument } from './openai/openapi';
import { openaiApi } from './openai/routes';
import { createOpenApiDocument } from './rest/openapi';
import { restApi } from './rest/routes';
import { type AppRouter, appRouter } from './router';
import { createTenants, type Tenants } from './tenants';
import type { Context } from './trpc';
import { ZEP_VERSION_HEADER } from './version';

/**
 * Reads and discards the rest of a request's body, `limit` bytes at most, so that a client still
 * sending it can read the answer. Past the limit it stops reading (that client sees a reset).
 */
function drain(req: IncomingMessage, limit: number): Promise<void> {
  if (req.readableEnded || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      req.off('data', count);
      resolve();
    };
    const count = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > limit) done();
    };
    req.on('data', count).once('end', done).once('close', done).once('error', done);
    req.resume();
  });
}

/** Whether a JSON text has an object key `__proto__` anywhere (not merely the word inside a string). */
function hasProtoKey(json: string): boolean {
  let found = false;
  try {
    JSON.parse(json, (key, value: unknown) => ((found ||= key === '__proto__'), value));
  } catch {
    return false; // not JSON: tRPC answers that itself
  }
  return found;
}

/** A URL fit for the log: a subscription's connection parameters carry its token. */
const withoutSecrets = (url: string) => url.replace(/([?&]connectionParams=)[^&]*/, '$1…');

/** The built web UI: apps/web/dist from source; in the published package, dist/web beside the built server. */
export const WEB_DIST = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../web/dist/' : './web/', import.meta.url));

declare module 'fastify' {
  interface FastifyRequest {
    /** The bearer token's check, for /trpc and /api requests (auth.ts). */
    authentication: Authentication;
    /** Who is asking, once authenticated. */
    principal?: Principal;
  }
}

/**
 * The request's token: its Authorization header, or for subscriptions (EventSource cannot send
 * headers) the `token` of the connection parameters tRPC's httpSubscriptionLink puts in the URL.
 */
function authorizationOf(req: FastifyRequest): string | undefined {
  if (req.headers.authorization) return req.headers.authorization;
  const params = (req.query as { connectionParams?: unknown } | undefined)?.connectionParams;
  if (typeof params !== 'string') return undefined;
  try {
    const { token } = JSON.parse(params) as { token?: unknown };
    return typeof token === 'string' ? `Bearer ${token}` : undefined;
  } catch {
    return undefined;
  }
}

export interface AppOptions {
  config: Config;
  /** The default tenant's core. */
  core: Core;
  /** The tenants (default: opened from `core`'s connection, tenants.ts). */
  tenants?: Tenants;
  logger?: Logger;
  /** A built single-page app to serve at `/` (default apps/web/dist; ignored when it has no index.html). */
  webDir?: string;
}

export function createApp({
  config,
  core,
  tenants = createTenants(core),
  logger = createLogger(config.LOG_LEVEL),
  webDir = WEB_DIST,
}: AppOptions): FastifyInstance {
  const verify = createVerifier(config.MNEMO_AUTH_SECRET);
  /** A request's tRPC context: its tenant's core, scoped to the user for a user token (core's scope.ts). */
  const contextOf = async (req: FastifyRequest): Promise<Context> => {
    const auth = req.authentication;
    if (auth.state !== 'ok') return { core, auth, requestId: req.id }; // refused before any procedure runs
    const tenantCore = await tenants.get(auth.principal.tenant);
    return { core: auth.principal.role === 'user' ? scopedTo(tenantCore, auth.principal.userId) : tenantCore, auth, requestId: req.id };
  };
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.MNEMO_MAX_BODY,
    // A client gets this long to send its whole request, so a trickling body cannot hold a worker forever.
    requestTimeout: 60_000,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Ids may be 256 characters, percent-encoded up to three times longer; a longer path parameter
    // still reaches its route, whose validation says what is wrong (400), up to Node's 16 KB header
    // limit. zep-js sends `//healthz` when its base URL ends in a slash.
    routerOptions: { maxParamLength: 8192, ignoreDuplicateSlashes: true, ignoreTrailingSlash: true },
    // One log line per request (below) instead of Fastify's two: request logs are most of the logging cost.
    logController: new LogController({ disableRequestLogging: true }),
  });
  routeEveryMethod(app);
  // First: a browser's preflight is answered before authentication and the 405 routes see it.
  cors(app, config.MNEMO_CORS_ORIGINS);
  rateLimit(app, config.MNEMO_RATE_LIMIT, { authOn: Boolean(config.MNEMO_AUTH_SECRET) });
  logAuthFailures(app);

  app.addHook('onResponse', async (req, reply) => {
    req.log.info(
      { method: req.method, url: withoutSecrets(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });

  app.addHook('onSend', async (req, reply) => {
    reply.header('X-Zep-Version', ZEP_VERSION_HEADER);
    reply.header('X-Request-Id', req.id);
  });

  app.setErrorHandler(async (error, req, reply) => {
    const httpError = toHttpError(error, req.id);
    const { status } = httpError;
    if (status >= 500) req.log.error({ err: error }, 'request failed');
    // A client still sending a body that is too large would see a broken pipe instead of the 413.
    if (status === 413) await drain(req.raw, 4 * config.MNEMO_MAX_BODY);
    reply.status(status);
    return errorBody(req.url, httpError);
  });

  const web = existsSync(join(webDir, 'index.html'));
  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0]!;
    // The web UI is a single-page app: any other GET that is not an API path gets its index.html.
    if (web && (req.method === 'GET' || req.method === 'HEAD') && !/^\/+(api|trpc|mcp|healthz|v1)(\/|$)/.test(path)) {
      return reply.sendFile('index.html');
    }
    reply.status(404);
    return errorBody(path, { status: 404, message: `not found: ${req.method} ${path}` });
  });

  app.get('/healthz', async (_req, reply) => reply.type('text/plain; charset=utf-8').send('.'));
  allowOnly(app, '/healthz', ['GET']);

  const trpcOptions: FastifyTRPCPluginOptions<AppRouter>['trpcOptions'] = {
    router: appRouter,
    createContext: ({ req }) => contextOf(req),
    onError: ({ error, path, req }) => {
      if (error.code === 'INTERNAL_SERVER_ERROR') req.log.error({ err: error.cause ?? error, path }, 'tRPC procedure failed');
    },
  };
  // superjson would silently drop a `__proto__` key on the way in; the REST API refuses it, so does tRPC.
  app.addHook('preHandler', async (req) => {
    if (typeof req.body === 'string' && req.body.includes('__proto__') && hasProtoKey(req.body)) {
      throw badRequest('a "__proto__" key is not allowed');
    }
  });
  // Every API request's token is checked once, before its body is read.
  app.decorateRequest('authentication', null as never);
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (req) => {
    if (!/^\/+(api|trpc|mcp|v1)(\/|$|\?)/.test(req.url)) return;
    req.authentication = await verify(authorizationOf(req));
    if (req.authentication.state === 'ok') req.principal = req.authentication.principal;
  });
  app.register(fastifyTRPCPlugin, { prefix: '/trpc', trpcOptions });
  // Open subscriptions would hold a shutdown: they end first (their clients reconnect later or elsewhere).
  app.addHook('preClose', async () => {
    core.events.close();
    await tenants.close();
  });

  const openApi = createOpenApiDocument({ auth: Boolean(config.MNEMO_AUTH_SECRET) });
  app.get('/api/v1/openapi.json', async () => openApi);
  allowOnly(app, '/api/v1/openapi.json', ['GET']);
  app.register(restApi({ contextOf }), { prefix: '/api/v1' });
  app.register(mcpHttp({ contextOf }));

  const openAIDocument = createOpenAIOpenApiDocument({ auth: Boolean(config.MNEMO_AUTH_SECRET) });
  app.get('/v1/openapi.json', async () => openAIDocument);
  allowOnly(app, '/v1/openapi.json', ['GET']);
  app.register(openaiApi({ contextOf }), { prefix: '/v1' });

  if (web) app.register(fastifyStatic, { root: webDir });
  return app;
}
