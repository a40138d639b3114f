/** Auth with MNEMO_AUTH_SECRET set: Zep's HS256 bearer tokens on /api/v1 and /trpc; /healthz stays open. */
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import { SignJWT } from 'jose';
import superjson from 'superjson';
import { beforeAll, describe, expect, it } from 'vitest';
import { createToken } from './auth';
import type { AppRouter } from './router';
import { httpClient } from './test/http';
import { useTestServer } from './testing';

const SECRET = 'test-secret-for-auth-0123456789ab';
const server = useTestServer({ authSecret: SECRET });

let valid: string;
let badTokens: Record<string, string | undefined>;
beforeAll(async () => {
  valid = await createToken(SECRET);
  badTokens = {
    missing: undefined,
    'not a bearer header': `Basic ${Buffer.from('a:b').toString('base64')}`,
    malformed: 'Bearer not.a.jwt',
    'wrong signature': `Bearer ${await createToken('some-other-secret-0123456789abcdef012')}`,
    expired: `Bearer ${await createToken(SECRET, { expiresIn: -60 })}`,
    'another algorithm': `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode(SECRET))}`,
  };
});

const trpc = (authorization?: string) =>
  createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: `${server().url}/trpc`, transformer: superjson, headers: authorization ? { authorization } : {} })],
  });

describe('auth', () => {
  it('rejects missing, malformed, wrong-signature and expired tokens with 401 on REST, writing nothing', async () => {
    for (const [name, authorization] of Object.entries(badTokens)) {
      const http = httpClient(server().url);
      const headers = authorization ? { Authorization: authorization } : undefined;
      for (const [method, path, body] of [
        ['GET', '/api/v1/sessions'],
        ['POST', '/api/v1/sessions', { session_id: `unauth-${name}` }],
        ['POST', '/api/v1/sessions/x/memory', '{not even json'],
        ['GET', '/api/v1/user/x/sessions'],
      ] as const) {
        const reply = await http(method, path, body, headers);
        expect(reply.status, `${name}: ${method} ${path}`).toBe(401);
        expect(reply.json).toEqual({ message: expect.any(String) });
        expect(reply.headers.get('x-zep-version')).toMatch(/^0\.27\.2-/);
      }
    }
    expect(await server().core.collections.sessions.countDocuments()).toBe(0);
  });

  it('says why: no token, invalid token, expired token', async () => {
    const http = httpClient(server().url);
    expect((await http('GET', '/api/v1/sessions')).json.message).toMatch(/no token/);
    expect((await http('GET', '/api/v1/sessions', undefined, { Authorization: badTokens.malformed! })).json.message).toMatch(
      /unauthorized/,
    );
    expect((await http('GET', '/api/v1/sessions', undefined, { Authorization: badTokens.expired! })).json.message).toMatch(/expired/);
  });

  it('rejects the same tokens with UNAUTHORIZED (401) on tRPC', async () => {
    for (const [name, authorization] of Object.entries(badTokens)) {
      const error = await trpc(authorization)
        .session.list.query()
        .catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(TRPCClientError);
      expect((error as TRPCClientError<AppRouter>).data).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401 });
      await expect(trpc(authorization).session.add.mutate({ sessionId: `unauth-trpc-${name}` })).rejects.toThrow();
    }
    expect(await server().core.collections.sessions.countDocuments()).toBe(0);
  });

  it('accepts a valid token (case-insensitive scheme) on REST and tRPC', async () => {
    const http = httpClient(server().url, { token: valid });
    expect((await http('POST', '/api/v1/sessions', { session_id: 'authed' })).status).toBe(201);
    expect((await http('GET', '/api/v1/sessions/authed', undefined, { Authorization: `bearer ${valid}` })).status).toBe(200);
    const withExpiry = await createToken(SECRET, { expiresIn: '1h' });
    expect(await trpc(`Bearer ${withExpiry}`).session.get.query({ sessionId: 'authed' })).toMatchObject({ sessionId: 'authed' });
  });

  it('leaves /healthz and the OpenAPI document open', async () => {
    const http = httpClient(server().url);
    const health = await http('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.text).toBe('.');
    expect((await http('GET', '/api/v1/openapi.json')).status).toBe(200);
  });
});
