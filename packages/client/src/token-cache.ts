/**
 * Tokens from `getToken` (README, "Tokens for browsers"): cached until shortly before their `exp`, fetched again
 * on the next request after that, and once more when a request comes back 401 (which is then retried once).
 * No jose here: the payload is only read (base64url JSON), never verified — that is the server's job.
 */

/** Returns a bearer token for Mnemo, e.g. fetched from the app's own backend. */
export type GetToken = () => string | Promise<string>;

/** A token is fetched again this long before its `exp` (at most; see `refreshAt`). */
export const REFRESH_BEFORE_EXPIRY_MS = 30_000;

/** The `exp` and `iat` claims (seconds) of a JWT, read without verifying; `{}` for anything that is not a JWT. */
export function readTokenTimes(token: string): { exp?: number; iat?: number } {
  try {
    const payload = token.split('.')[1];
    if (!payload) return {};
    const base64 = payload
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(payload.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof claims !== 'object' || claims === null) return {};
    const { exp, iat } = claims as Record<string, unknown>;
    return { ...(typeof exp === 'number' && { exp }), ...(typeof iat === 'number' && { iat }) };
  } catch {
    return {};
  }
}

/**
 * When (ms since the epoch) a token should be replaced: 30 s before its `exp`, or a quarter of its lifetime before
 * when that is shorter (a 20 s token is used for 15 s); never, for a token without `exp`.
 */
export function refreshAt(token: string): number {
  const { exp, iat } = readTokenTimes(token);
  if (exp === undefined) return Number.POSITIVE_INFINITY;
  const lifetimeMs = iat !== undefined && exp > iat ? (exp - iat) * 1000 : Number.POSITIVE_INFINITY;
  return exp * 1000 - Math.min(REFRESH_BEFORE_EXPIRY_MS, lifetimeMs / 4);
}

export interface TokenCache {
  /** The cached token while it is fresh; otherwise a new one (concurrent callers share one `getToken` call). */
  get(): Promise<string>;
  /** A token other than `rejected` (one the server refused): a new one, unless another caller already got one. */
  refresh(rejected: string): Promise<string>;
}

export function createTokenCache(getToken: GetToken, now: () => number = Date.now): TokenCache {
  let current: { token: string; refreshAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const fetchToken = () =>
    (pending ??= (async () => {
      try {
        const token = await Promise.resolve().then(getToken); // a getToken that throws at once rejects here too
        if (typeof token !== 'string' || token === '') throw new TypeError('getToken() must return a token (a non-empty string)');
        current = { token, refreshAt: refreshAt(token) };
        return token;
      } finally {
        pending = undefined;
      }
    })());
  return {
    get: async () => (current && now() < current.refreshAt ? current.token : fetchToken()),
    refresh: async (rejected) => (current && current.token !== rejected && now() < current.refreshAt ? current.token : fetchToken()),
  };
}

/** `fetch` that, when a request sent with a cached token comes back 401, gets a new token and sends it once more. */
export function retryingOn401(cache: TokenCache, fetchImpl?: typeof globalThis.fetch): typeof globalThis.fetch {
  const send: typeof globalThis.fetch = fetchImpl ?? ((input, init) => globalThis.fetch(input, init));
  return async (input, init) => {
    const response = await send(input, init);
    if (response.status !== 401) return response;
    const sent = /^bearer\s+(\S+)/i.exec(new Headers(init?.headers).get('authorization') ?? '')?.[1];
    if (!sent) return response;
    await response.body?.cancel().catch(() => {});
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${await cache.refresh(sent)}`);
    return send(input, { ...init, headers });
  };
}
