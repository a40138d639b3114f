/**
 * CORS for browser apps on other origins (MNEMO_CORS_ORIGINS), on /trpc, /api and /healthz.
 * Unset: nothing here runs and browsers keep the same-origin policy (no CORS headers at all).
 *
 * A preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered 204 in onRequest, before any
 * authentication and before the 405 routes (http-error.ts `allowOnly`) or tRPC could see it; an origin
 * not in the list gets the 204 without any `Access-Control-Allow-*` header, which the browser refuses.
 * A plain OPTIONS is left alone (405 as before). Other requests from an allowed origin get
 * `Access-Control-Allow-Origin` (onSend, so errors and SSE streams carry it too).
 * Tokens travel in the Authorization header (or an SSE connection parameter), never cookies: no credentials mode.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CorsOrigins } from './env';

const CORS_PATH = /^\/+(api|trpc|healthz)(\/|$|\?)/;
export const CORS_ALLOW_HEADERS = 'authorization, content-type, x-request-id';
export const CORS_ALLOW_METHODS = 'GET, POST, PATCH, PUT, DELETE';
/** Response headers a script may read (beyond the CORS-safelisted ones). */
export const CORS_EXPOSE_HEADERS = 'x-request-id, retry-after';
/** Seconds a browser may cache a preflight's answer. */
const MAX_AGE = '600';

export function cors(app: FastifyInstance, origins: CorsOrigins | undefined): void {
  if (!origins) return;
  const allowed = origins === '*' ? () => true : (origin: string) => origins.includes(origin);

  /** Sets the allow-origin headers; false when this request is not a CORS request from an allowed origin. */
  const allowOrigin = (req: FastifyRequest, reply: FastifyReply, payload?: unknown): boolean => {
    if (!CORS_PATH.test(req.url)) return false;
    // The answer depends on the Origin header: caches must know. tRPC answers with a fetch Response,
    // whose headers Fastify copies over the reply's after onSend: its Vary is the one to extend.
    if (origins !== '*') {
      if (payload instanceof Response) payload.headers.append('Vary', 'Origin');
      else reply.header('Vary', [reply.getHeader('vary'), 'Origin'].filter(Boolean).join(', '));
    }
    const origin = req.headers.origin;
    if (!origin || !allowed(origin)) return false;
    reply.header('Access-Control-Allow-Origin', origins === '*' ? '*' : origin);
    return true;
  };

  app.addHook('onRequest', async (req, reply) => {
    if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method'] || !CORS_PATH.test(req.url)) return;
    // No Access-Control-Allow-* header (origin not allowed) and the browser refuses the request itself.
    if (allowOrigin(req, reply)) {
      reply.header('Access-Control-Allow-Methods', CORS_ALLOW_METHODS);
      reply.header('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
      reply.header('Access-Control-Max-Age', MAX_AGE);
    }
    return reply.code(204).send();
  });

  app.addHook('onSend', async (req, reply, payload) => {
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method']) return; // a preflight: done above
    if (allowOrigin(req, reply, payload)) reply.header('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
  });
}
