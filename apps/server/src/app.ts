/**
 * The HTTP host: a Fastify instance (not listening) serving
 *   /trpc             the tRPC router (superjson; the typed client's endpoint)
 *   /api/v1/...       the Zep-compatible REST API, an adapter over the same procedures (rest/)
 *   /api/v1/openapi.json  its OpenAPI document
 *   /healthz          200 `.` (never authenticated)
 *   /                 the web UI, when apps/web/dist has been built
 * Every response carries X-Zep-Version and X-Request-Id; errors are JSON `{"message"}`.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { Core } from '@mnemo/core';
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { createVerifier } from './auth';
import type { Config } from './env';
import { allowOnly, badRequest, toHttpError } from './http-error';
import { createLogger, type Logger } from './logging';
import { createOpenApiDocument } from './rest/openapi';
import { restApi } from './rest/routes';
import { type AppRouter, appRouter } from './router';
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

/** Where a later issue builds the web UI. */
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

export interface AppOptions {
  config: Config;
  core: Core;
  logger?: Logger;
  /** A built single-page app to serve at `/` (default apps/web/dist; ignored when it has no index.html). */
  webDir?: string;
}

export function createApp({ config, core, logger = createLogger(config.LOG_LEVEL), webDir = WEB_DIST }: AppOptions): FastifyInstance {
  const verify = createVerifier(config.MNEMO_AUTH_SECRET);
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

  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, url: withoutSecrets(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  app.addHook('onSend', async (req, reply) => {
    reply.header('X-Zep-Version', ZEP_VERSION_HEADER);
    reply.header('X-Request-Id', req.id);
  });

  app.setErrorHandler(async (error, req, reply) => {
    const { status, message } = toHttpError(error, req.id);
    if (status >= 500) req.log.error({ err: error }, 'request failed');
    // A client still sending a body that is too large would see a broken pipe instead of the 413.
    if (status === 413) await drain(req.raw, 4 * config.MNEMO_MAX_BODY);
    reply.status(status);
    return { message };
  });

  const web = existsSync(join(webDir, 'index.html'));
  app.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split('?')[0]!;
    // The web UI is a single-page app: any other GET that is not an API path gets its index.html.
    if (web && (req.method === 'GET' || req.method === 'HEAD') && !/^\/+(api|trpc|healthz)(\/|$)/.test(path)) {
      return reply.sendFile('index.html');
    }
    reply.status(404);
    return { message: `not found: ${req.method} ${path}` };
  });

  app.get('/healthz', async (_req, reply) => reply.type('text/plain; charset=utf-8').send('.'));
  allowOnly(app, '/healthz', ['GET']);

  const trpcOptions: FastifyTRPCPluginOptions<AppRouter>['trpcOptions'] = {
    router: appRouter,
    // Subscriptions come from EventSource, which cannot send headers: the token is then a connection parameter.
    createContext: async ({ req, info }) => ({
      core,
      auth: await verify(req.headers.authorization ?? (info.connectionParams?.token ? `Bearer ${info.connectionParams.token}` : undefined)),
      requestId: req.id,
    }),
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
  app.register(fastifyTRPCPlugin, { prefix: '/trpc', trpcOptions });

  const openApi = createOpenApiDocument();
  app.get('/api/v1/openapi.json', async () => openApi);
  app.register(restApi({ core, verify }), { prefix: '/api/v1' });

  if (web) app.register(fastifyStatic, { root: webDir });
  return app;
}
