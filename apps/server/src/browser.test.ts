/**
 * What browsers and busy clients meet: CORS (MNEMO_CORS_ORIGINS), the rate limit per token subject
 * (MNEMO_RATE_LIMIT), and the warn line logged for every request refused for its token.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createCore } from '@mnemo/core';
import { SignJWT } from 'jose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from './app';
import { createToken } from './auth';
import { parseEnv } from './env';
import { httpClient } from './test/http';
import { useTestServer } from './testing';

const SECRET = 'test-secret-for-browsers-0123456789';
const APP = 'https://app.example.com';
const DEV = 'http://localhost:5173';

const userToken = (userId: string) =>
  new SignJWT({ scope: 'user' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(SECRET));

const preflight = (url: string, origin: string, method = 'POST') =>
  fetch(url, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': 'authorization, content-type' },
  });

/** The URL of an SSE subscription (tRPC's httpSubscriptionLink), its token a connection parameter. */
const subscriptionUrl = (base: string, token: string) =>
  `${base}/trpc/session.onChange?input=${encodeURIComponent(JSON.stringify({ json: {} }))}&connectionParams=${encodeURIComponent(JSON.stringify({ token }))}`;

describe('CORS with a list of origins', () => {
  const server = useTestServer({ authSecret: SECRET, env: { MNEMO_CORS_ORIGINS: `${APP}, ${DEV}/` } });

  it('answers preflights from a listed origin with 204, before authentication, on /trpc and /api', async () => {
    for (const [path, method] of [
      ['/trpc/session.add', 'POST'],
      ['/trpc/session.list,session.get?batch=1', 'GET'],
      ['/api/v1/sessions', 'POST'],
      ['/api/v1/sessions/s1', 'PATCH'],
      ['/api/v1/sessions/s1/memory', 'DELETE'],
      ['/api/v1/sessions/s1/messages/m1', 'PATCH'],
    ] as const) {
      for (const origin of [APP, DEV]) {
        const response = await preflight(`${server().url}${path}`, origin, method);
        expect(response.status, `${method} ${path}`).toBe(204);
        expect(response.headers.get('access-control-allow-origin')).toBe(origin);
        expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, PATCH, PUT, DELETE');
        expect(response.headers.get('access-control-allow-headers')).toBe('authorization, content-type, x-request-id');
        expect(response.headers.get('access-control-max-age')).toMatch(/^\d+$/);
        expect(response.headers.get('vary')).toBe('Origin');
        expect(await response.text()).toBe('');
      }
    }
  });

  it('gives another origin no Access-Control-Allow-Origin, on preflights or requests, so its browser refuses', async () => {
    for (const origin of ['https://evil.example', 'https://app.example.com.evil.example', 'http://app.example.com', 'null']) {
      const response = await preflight(`${server().url}/api/v1/sessions`, origin);
      expect(response.status).toBe(204);
      // (@fastify/cors still lists the allowed methods and headers, which say nothing secret.)
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      const get = await httpClient(server().url, { token: await createToken(SECRET) })('GET', '/api/v1/sessions', undefined, {
        Origin: origin,
      });
      expect(get.status).toBe(200);
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('lets a listed origin read answers, errors included, with the request id exposed', async () => {
    const http = httpClient(server().url, { token: await createToken(SECRET) });
    const ok = await http('GET', '/api/v1/sessions', undefined, { Origin: APP });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('access-control-expose-headers')).toMatch(/x-request-id/);
    const trpc = await fetch(`${server().url}/trpc/session.list`, {
      headers: { Origin: DEV, Authorization: `Bearer ${await createToken(SECRET)}` },
    });
    expect(trpc.status).toBe(200);
    expect(trpc.headers.get('access-control-allow-origin')).toBe(DEV);
    const refused = await httpClient(server().url)('GET', '/api/v1/sessions', undefined, { Origin: APP });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(APP);
    // The same origin (no Origin header) is not a CORS request.
    expect((await http('GET', '/api/v1/sessions')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets a listed origin open a subscription (SSE)', async () => {
    const abort = new AbortController();
    const response = await fetch(subscriptionUrl(server().url, await createToken(SECRET)), {
      headers: { Origin: APP, Accept: 'text/event-stream' },
      signal: abort.signal,
    });
    try {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(response.headers.get('access-control-allow-origin')).toBe(APP);
      expect(response.headers.get('vary')).toMatch(/accept.*origin/i); // tRPC's own Vary kept
    } finally {
      abort.abort();
    }
  });
});

describe('CORS with any origin', () => {
  const server = useTestServer({ env: { MNEMO_CORS_ORIGINS: '*' } });

  it('answers preflights and requests from any origin with `*`', async () => {
    const response = await preflight(`${server().url}/trpc/session.add`, 'https://anywhere.example');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const get = await httpClient(server().url)('GET', '/api/v1/sessions', undefined, { Origin: 'https://anywhere.example' });
    expect(get.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('keeps the 405 for an OPTIONS that is not a preflight, and leaves other paths alone', async () => {
    const http = httpClient(server().url);
    const options = await http('OPTIONS', '/api/v1/sessions', undefined, { Origin: 'https://anywhere.example' });
    expect(options.status).toBe(405);
    expect(options.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
    const elsewhere = await preflight(`${server().url}/somewhere`, 'https://anywhere.example');
    expect(elsewhere.status).not.toBe(204);
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS unset', () => {
  const server = useTestServer();

  it('sends no CORS header at all: preflights get the 405 they got before', async () => {
    const response = await preflight(`${server().url}/api/v1/sessions`, APP);
    expect(response.status).toBe(405);
    const get = await httpClient(server().url)('GET', '/api/v1/sessions', undefined, { Origin: APP });
    expect(get.status).toBe(200);
    for (const r of [response, get]) {
      expect([...r.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
    }
  });
});

describe('rate limit per token subject', () => {
  const server = useTestServer({ authSecret: SECRET, env: { MNEMO_RATE_LIMIT: '3/min' } });

  it('refuses the call past the limit with 429 and Retry-After, on /api and /trpc alike', async () => {
    const token = await createToken(SECRET);
    const http = httpClient(server().url, { token });
    expect((await http('GET', '/api/v1/sessions')).status).toBe(200);
    expect((await http('POST', '/api/v1/sessions', { session_id: 'limited' })).status).toBe(201);
    const trpc = await fetch(`${server().url}/trpc/session.list`, { headers: { Authorization: `Bearer ${token}` } });
    expect(trpc.status).toBe(200);
    for (const [method, path] of [
      ['GET', '/api/v1/sessions'],
      ['POST', '/trpc/session.add'],
    ] as const) {
      const reply = await http(method, path, method === 'POST' ? { json: { sessionId: 'never' } } : undefined);
      expect(reply.status, path).toBe(429);
      expect(reply.json).toEqual({ message: expect.stringMatching(/rate limit/) });
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(reply.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(reply.headers.get('x-request-id')).toBeTruthy();
    }
    expect(await server().core.collections.sessions.countDocuments()).toBe(1); // 'limited' only
    // Another token of the same subject (admin of the default tenant) shares the budget.
    expect(
      (await httpClient(server().url, { token: await createToken(SECRET, { expiresIn: '1h' }) })('GET', '/api/v1/sessions')).status,
    ).toBe(429);
  });

  it('gives every other subject its own budget', async () => {
    for (const userId of ['alice', 'bob']) {
      const http = httpClient(server().url, { token: await userToken(userId) });
      for (let i = 0; i < 3; i++) expect((await http('GET', `/api/v1/user/${userId}/sessions`)).status).not.toBe(429);
      expect((await http('GET', `/api/v1/user/${userId}/sessions`)).status).toBe(429);
    }
  });

  it('never limits /healthz', async () => {
    for (let i = 0; i < 10; i++) expect((await fetch(`${server().url}/healthz`)).status).toBe(200);
  });
});

describe('rate limit without auth', () => {
  const server = useTestServer({ env: { MNEMO_RATE_LIMIT: '2/min' } });

  it('counts per client address (every caller is the same admin)', async () => {
    const http = httpClient(server().url);
    expect((await http('GET', '/api/v1/sessions')).status).toBe(200);
    expect((await http('GET', '/trpc/session.list')).status).toBe(200);
    expect((await http('GET', '/api/v1/sessions')).status).toBe(429);
  });
});

describe('auth failures', () => {
  const lines: string[] = [];
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
    const core = createCore({ mongoUri: inject('mongoUri'), dbName: `test_${randomUUID().slice(0, 8)}` });
    await core.init();
    const app = createApp({ config: parseEnv({ MNEMO_AUTH_SECRET: SECRET }), core, logger });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    close = async () => {
      await app.close();
      await core.db.dropDatabase();
      await core.close();
    };
  });
  afterAll(() => close?.());

  const refusals = (requestId: string) =>
    lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.reqId === requestId);

  it('logs one warn line per refused request, with the request id and the reason, never the token or the secret', async () => {
    const wrong = await createToken('some-other-secret-0123456789abcdef012');
    const expired = await createToken(SECRET, { expiresIn: -60 });
    const cases = [
      {
        name: 'REST, wrong signature',
        token: wrong,
        request: (id: string) => httpClient(url, { token: wrong })('GET', '/api/v1/sessions', undefined, { 'X-Request-Id': id }),
      },
      {
        name: 'REST, no token',
        token: undefined,
        request: (id: string) => httpClient(url)('POST', '/api/v1/sessions', { session_id: 'x' }, { 'X-Request-Id': id }),
      },
      {
        name: 'tRPC, expired',
        token: expired,
        request: (id: string) => fetch(`${url}/trpc/session.list`, { headers: { Authorization: `Bearer ${expired}`, 'X-Request-Id': id } }),
      },
      {
        name: 'SSE, wrong signature',
        token: wrong,
        request: (id: string) => fetch(subscriptionUrl(url, wrong), { headers: { 'X-Request-Id': id, Accept: 'text/event-stream' } }),
      },
    ];
    for (const { name, token, request } of cases) {
      const id = `refused-${randomUUID()}`;
      const response = await request(id);
      // tRPC refuses a subscription in its stream (200, a serialized UNAUTHORIZED error event).
      expect(response.status, name).toBe(name.startsWith('SSE') ? 200 : 401);
      if (name.startsWith('SSE') && response instanceof Response) expect(await response.text()).toMatch(/UNAUTHORIZED/);
      await expect.poll(() => refusals(id).length, { timeout: 10_000 }).toBeGreaterThan(0);
      const logged = refusals(id);
      expect(logged, name).toEqual([
        expect.objectContaining({
          level: 40,
          reqId: id,
          msg: 'authentication refused',
          auth: expect.any(String),
          reason: expect.any(String),
        }),
      ]);
      expect((logged[0]!.reason as string).length).toBeGreaterThan(0);
      const text = JSON.stringify(logged);
      if (token) {
        expect(text).not.toContain(token);
        expect(text).not.toContain(token.split('.')[2]!); // nor its signature alone
      }
      expect(text).not.toContain(SECRET);
    }
    // An accepted request logs nothing at warn.
    const id = `accepted-${randomUUID()}`;
    expect(
      (await httpClient(url, { token: await createToken(SECRET) })('GET', '/api/v1/sessions', undefined, { 'X-Request-Id': id })).status,
    ).toBe(200);
    expect(refusals(id)).toEqual([]);
  });
});
