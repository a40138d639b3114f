/**
 * Rate limit (MNEMO_RATE_LIMIT, e.g. `600/min`) on /trpc and /api, per token subject
 * (`req.principal.subject`, auth.ts): every user token has its own budget, every admin token of a tenant
 * shares one. Without a principal, or when auth is off (everyone is the same admin), the budget is the
 * client address's. /healthz and the web UI are never limited.
 *
 * A fixed window per key, started by its first call. Over the limit: 429 `{"message"}` with
 * `Retry-After` (seconds until the window ends). Checked in preParsing: after every onRequest hook
 * (authentication), before a body is read. An SSE subscription counts once, when it connects.
 *
 * Memory: a Map in window-start order (a key is re-inserted when its window restarts), so the keys whose
 * window has ended are at its front and are dropped as calls come in; past MAX_KEYS the oldest go first.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RateLimit } from './env';

const LIMITED_PATH = /^\/+(api|trpc)(\/|$|\?)/;
/** Keys held at most (one window's distinct clients); past it the oldest window is forgotten. */
export const MAX_KEYS = 100_000;

interface Window {
  start: number;
  count: number;
}

/** The counting alone: `take(key)` is 0 when the call may go ahead, else the milliseconds until it may. */
export function createLimiter({ limit, windowMs }: RateLimit, { maxKeys = MAX_KEYS, now = Date.now } = {}) {
  const windows = new Map<string, Window>();
  return {
    take(key: string): number {
      const t = now();
      for (const [oldKey, w] of windows) {
        if (w.start + windowMs > t && windows.size < maxKeys) break;
        windows.delete(oldKey);
      }
      let w = windows.get(key);
      if (!w) windows.set(key, (w = { start: t, count: 0 }));
      if (w.count >= limit) return w.start + windowMs - t;
      w.count++;
      return 0;
    },
    get size() {
      return windows.size;
    },
  };
}

const describeWindow = (ms: number) => (ms === 1000 ? 'second' : ms === 60_000 ? 'minute' : ms === 3_600_000 ? 'hour' : `${ms / 1000} s`);

/** The key a request is counted under. */
function keyOf(req: FastifyRequest, authOn: boolean): string {
  const subject = req.principal?.subject;
  return authOn && subject ? `sub:${subject}` : `ip:${req.ip}`;
}

export function rateLimit(app: FastifyInstance, rate: RateLimit | undefined, { authOn }: { authOn: boolean }): void {
  if (!rate) return;
  const limiter = createLimiter(rate);
  // Callback style: a preParsing hook's resolved value would be taken for a new body stream.
  app.addHook('preParsing', (req, reply, _payload, done) => {
    const waitMs = LIMITED_PATH.test(req.url) ? limiter.take(keyOf(req, authOn)) : 0;
    if (waitMs === 0) return done();
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    // Replying without calling done() ends the hook chain: the body is never read.
    reply
      .code(429)
      .header('Retry-After', String(seconds))
      .send({ message: `rate limit exceeded (${rate.limit} calls per ${describeWindow(rate.windowMs)}); retry in ${seconds} s` });
  });
}
