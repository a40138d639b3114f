import { SignJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { createTokenCache, readTokenTimes, refreshAt, retryingOn401 } from './token-cache';

const key = new TextEncoder().encode('token-cache-secret');
/** A JWT issued at `iat` (seconds) that lives `ttl` seconds. */
const jwt = (iat: number, ttl?: number, claims: Record<string, unknown> = {}) => {
  const token = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(iat);
  if (ttl !== undefined) token.setExpirationTime(iat + ttl);
  return token.sign(key);
};

describe('reading a token', () => {
  it('reads exp and iat without verifying, and nothing from what is not a JWT', async () => {
    expect(readTokenTimes(await jwt(1000, 60, { sub: 'zoë ✓' }))).toEqual({ iat: 1000, exp: 1060 });
    expect(readTokenTimes('opaque-api-key')).toEqual({});
    expect(readTokenTimes('a.!!!.c')).toEqual({});
    expect(readTokenTimes(`x.${btoa('"just a string"')}.y`)).toEqual({});
  });

  it('is replaced 30 s before exp, or a quarter of its lifetime before when shorter, never without exp', async () => {
    expect(refreshAt(await jwt(1000, 3600))).toBe(4600_000 - 30_000);
    expect(refreshAt(await jwt(1000, 20))).toBe(1020_000 - 5_000);
    expect(refreshAt(await jwt(1000))).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('createTokenCache', () => {
  it('calls getToken once for concurrent requests and again only when the token is about to expire', async () => {
    let clock = 1000_000;
    const getToken = vi.fn(() => jwt(Math.floor(clock / 1000), 3600));
    const cache = createTokenCache(getToken, () => clock);
    const [a, b] = await Promise.all([cache.get(), cache.get()]);
    expect(a).toBe(b);
    expect(getToken).toHaveBeenCalledTimes(1);
    clock += 3600_000 - 31_000;
    expect(await cache.get()).toBe(a);
    clock += 2_000; // now within 30 s of exp
    const c = await cache.get();
    expect(c).not.toBe(a);
    expect(getToken).toHaveBeenCalledTimes(2);
  });

  it('refresh(rejected) gets one new token for any number of requests refused with the same one', async () => {
    let n = 0;
    const getToken = vi.fn(async () => `token-${++n}`);
    const cache = createTokenCache(getToken);
    const first = await cache.get();
    const fresh = await Promise.all([cache.refresh(first), cache.refresh(first), cache.refresh(first)]);
    expect(fresh).toEqual(['token-2', 'token-2', 'token-2']);
    expect(await cache.refresh(first)).toBe('token-2'); // already replaced
    expect(getToken).toHaveBeenCalledTimes(2);
  });

  it('passes getToken errors on, and asks again next time (sync throws too)', async () => {
    let fail = true;
    const cache = createTokenCache(() => {
      if (fail) throw new Error('app backend down');
      return 'ok-token';
    });
    await expect(cache.get()).rejects.toThrow('app backend down');
    fail = false;
    expect(await cache.get()).toBe('ok-token');
    await expect(createTokenCache(() => '').get()).rejects.toThrow(/non-empty string/);
  });
});

describe('retryingOn401', () => {
  it('retries a 401 once with a new token, keeping the rest of the request', async () => {
    let n = 0;
    const cache = createTokenCache(async () => `t${++n}`);
    const seen: { auth: string | null; body: unknown; method?: string }[] = [];
    const server = vi.fn(async (_input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const auth = new Headers(init?.headers).get('authorization');
      seen.push({ auth, body: init?.body, method: init?.method });
      return new Response(auth === 'Bearer t2' ? 'ok' : 'no', { status: auth === 'Bearer t2' ? 200 : 401 });
    });
    const fetch = retryingOn401(cache, server);
    const response = await fetch('http://mnemo/trpc/x', {
      method: 'POST',
      body: '{"a":1}',
      headers: { Authorization: `Bearer ${await cache.get()}`, 'content-type': 'application/json' },
    });
    expect(response.status).toBe(200);
    expect(seen).toEqual([
      { auth: 'Bearer t1', body: '{"a":1}', method: 'POST' },
      { auth: 'Bearer t2', body: '{"a":1}', method: 'POST' },
    ]);
  });

  it('gives up after one retry, and leaves requests without a bearer token alone', async () => {
    const cache = createTokenCache(async () => 'never-good');
    const server = vi.fn(async () => new Response('no', { status: 401 }));
    const fetch = retryingOn401(cache, server);
    expect((await fetch('http://mnemo/', { headers: { Authorization: 'Bearer never-good' } })).status).toBe(401);
    expect(server).toHaveBeenCalledTimes(2);
    expect((await fetch('http://mnemo/')).status).toBe(401);
    expect(server).toHaveBeenCalledTimes(3);
  });
});
