/**
 * Rate limit (MNEMO_RATE_LIMIT, e.g. `600/min`) on /trpc, /api, /v1 and /mcp, per token subject, by @fastify/rate-limit:
 * every user token has its own budget (`req.principal.subject`, auth.ts), every admin token of a tenant shares
 * one. Without a principal, or when auth is off (everyone is the same admin), the budget is the client address's.
 * /healthz and the web UI are never limited.
 *
 * A fixed window per key, started by its first call (the plugin's in-memory store, per process). Over the limit:
 * 429 `{"message"}` (OpenAI's error body on /v1; through the app's error handler, like every error) with `Retry-After` (seconds until the
 * window ends) and the plugin's `x-ratelimit-*` headers. Checked in preParsing: after every onRequest hook
 * (authentication), before a body is read. An SSE subscription counts once, when it connects. The store keeps
 * MAX_KEYS keys at most (least recently used go first: a forgotten key starts a fresh window).
 */
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RateLimit } from './env';

const LIMITED_PATH = /^\/+(api|trpc|mcp|v1)(\/|$|\?)/;
/** Keys held at most (one window's distinct clients). */
export const MAX_KEYS = 100_000;

const describeWindow = (ms: number) => (ms === 1000 ? 'second' : ms === 60_000 ? 'minute' : ms === 3_600_000 ? 'hour' : `${ms / 1000} s`);

/** The key a request is counted under. */
function keyOf(req: FastifyRequest, authOn: boolean): string {
  const subject = req.principal?.subject;
  return authOn && subject ? `sub:${subject}` : `ip:${req.ip}`;
}

export function rateLimit(app: FastifyInstance, rate: RateLimit | undefined, { authOn }: { authOn: boolean }): void {
  if (!rate) return;
  app.register(fastifyRateLimit, {
    global: true,
    hook: 'preParsing',
    max: rate.limit,
    timeWindow: rate.windowMs,
    cache: MAX_KEYS,
    keyGenerator: (req) => keyOf(req, authOn),
    allowList: (req) => !LIMITED_PATH.test(req.url),
    errorResponseBuilder: (_req, { ttl }) => {
      const seconds = Math.max(1, Math.ceil(ttl / 1000));
      return {
        statusCode: 429,
        message: `rate limit exceeded (${rate.limit} calls per ${describeWindow(rate.windowMs)}); retry in ${seconds} s`,
      };
    },
  });
}
