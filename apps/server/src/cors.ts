/**
 * CORS for browser apps on other origins (MNEMO_CORS_ORIGINS), on /trpc, /api, /v1 and /healthz, by @fastify/cors.
 * Unset: the plugin is not registered and browsers keep the same-origin policy (no CORS headers at all).
 *
 * Per request (its `delegator`): other paths, and an OPTIONS that is not a preflight (no
 * `Access-Control-Request-Method`, answered 405 as before by the routes), are left alone. A preflight is answered
 * 204 in onRequest, before tRPC or the 405 routes see it; an origin not in the list gets no
 * `Access-Control-Allow-Origin`, which the browser refuses. Other requests from an allowed origin get the header
 * whatever the answer (errors, SSE streams). Tokens travel in the Authorization header (or an SSE connection
 * parameter), never cookies: no credentials mode.
 *
 * Hand-written, beside the plugin: `Vary: Origin` on tRPC's answers. tRPC answers with a fetch Response, whose own
 * headers Fastify copies over the reply's after onSend, so the plugin's `Vary` is lost there (and caches could
 * serve one origin's answer to another); the onSend hook below adds Origin to the Response's own Vary.
 */
import fastifyCors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import type { CorsOrigins } from './env';

const CORS_PATH = /^\/+(api|trpc|healthz|v1)(\/|$|\?)/;
export const CORS_ALLOW_HEADERS = ['authorization', 'content-type', 'x-request-id'];
export const CORS_ALLOW_METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'];
/** Response headers a script may read (beyond the CORS-safelisted ones). */
export const CORS_EXPOSE_HEADERS = ['x-request-id', 'retry-after'];
/** Seconds a browser may cache a preflight's answer. */
const MAX_AGE = 600;

const isPreflight = (method: string, headers: Record<string, unknown>) =>
  method === 'OPTIONS' && headers['access-control-request-method'] !== undefined;

export function cors(app: FastifyInstance, origins: CorsOrigins | undefined): void {
  if (!origins) return;
  const options = {
    origin: origins === '*' ? '*' : [...origins],
    methods: CORS_ALLOW_METHODS,
    allowedHeaders: CORS_ALLOW_HEADERS,
    exposedHeaders: CORS_EXPOSE_HEADERS,
    maxAge: MAX_AGE,
  };
  app.register(fastifyCors, {
    hideOptionsRoute: true,
    delegator: (req, done) =>
      done(
        null,
        CORS_PATH.test(req.url) && (req.method !== 'OPTIONS' || isPreflight(req.method, req.headers)) ? options : { origin: false },
      ),
  });
  if (origins === '*') return; // the same answer for every origin: nothing for caches to tell apart
  app.addHook('onSend', async (req, _reply, payload) => {
    if (payload instanceof Response && CORS_PATH.test(req.url)) payload.headers.append('Vary', 'Origin');
  });
}
