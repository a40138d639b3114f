import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAdminToken, createUserToken, parseLifetime, tenantProblem, userIdProblem } from './auth-tokens';

const SECRET = 'auth-tokens-secret-0123456789abcd';
const key = new TextEncoder().encode(SECRET);
const now = () => Math.floor(Date.now() / 1000);

describe('createUserToken', () => {
  it('signs scope "user", sub, iat and exp (default 1 h) with HS256', async () => {
    const before = now();
    const token = await createUserToken({ secret: SECRET, userId: 'ada' });
    const after = now();
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'] });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(payload).toEqual({ scope: 'user', sub: 'ada', iat: expect.any(Number), exp: payload.iat! + 3600 });
    // Issued now: between the seconds before and after (however long signing took).
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.iat).toBeLessThanOrEqual(after);
  });

  it('takes a ttl as a duration or seconds, and a tenant', async () => {
    expect(decodeJwt(await createUserToken({ secret: SECRET, userId: 'ada', ttl: '15m', tenant: 'acme' }))).toMatchObject({
      tenant: 'acme',
      exp: expect.any(Number),
    });
    const fifteen = decodeJwt(await createUserToken({ secret: SECRET, userId: 'ada', ttl: '15m' }));
    expect(fifteen.exp! - fifteen.iat!).toBe(900);
    const ninety = decodeJwt(await createUserToken({ secret: SECRET, userId: 'ada', ttl: 90 }));
    expect(ninety.exp! - ninety.iat!).toBe(90);
  });

  it('refuses a bad user id, tenant or ttl, and an empty or short secret, saying which', async () => {
    await expect(createUserToken({ secret: SECRET, userId: '' })).rejects.toThrow(/invalid user id "": must not be empty/);
    await expect(createUserToken({ secret: SECRET, userId: 'x'.repeat(257) })).rejects.toThrow(/at most 256/);
    await expect(createUserToken({ secret: SECRET, userId: 'a\nb' })).rejects.toThrow(/control characters/);
    await expect(createUserToken({ secret: SECRET, userId: 'ada', tenant: 'Acme' })).rejects.toThrow(/invalid tenant "Acme"/);
    await expect(createUserToken({ secret: SECRET, userId: 'ada', tenant: '' })).rejects.toThrow(/invalid tenant/);
    await expect(createUserToken({ secret: SECRET, userId: 'ada', ttl: 'soon' })).rejects.toThrow(/invalid lifetime "soon"/);
    await expect(createUserToken({ secret: SECRET, userId: 'ada', ttl: 0 })).rejects.toThrow(/must be positive/);
    await expect(createUserToken({ secret: SECRET, userId: 'ada', ttl: '1h ago' })).rejects.toThrow(/must be positive/);
    await expect(createUserToken({ secret: '', userId: 'ada' })).rejects.toThrow(/secret is empty/);
    // A short secret makes forgeable tokens: refused, saying its length and not the secret.
    await expect(createUserToken({ secret: 'x'.repeat(31), userId: 'ada' })).rejects.toThrow(/at least 32 bytes, it has 31/);
    await expect(createAdminToken({ secret: 'é'.repeat(16) })).resolves.toMatch(/^ey/); // 32 bytes of UTF-8
  });
});

describe('createAdminToken', () => {
  it('has no scope claim and no exp unless asked (as the tokens before it)', async () => {
    expect(decodeJwt(await createAdminToken({ secret: SECRET }))).toEqual({ iat: expect.any(Number) });
    const token = decodeJwt(await createAdminToken({ secret: SECRET, expiresIn: '30d', tenant: 'acme' }));
    expect(token).toEqual({ iat: expect.any(Number), exp: token.iat! + 30 * 86400, tenant: 'acme' });
    expect(decodeJwt(await createAdminToken({ secret: SECRET, expiresIn: -60 })).exp).toBeLessThan(now());
    await expect(createAdminToken({ secret: SECRET, tenant: '-x' })).rejects.toThrow(/invalid tenant/);
  });
});

describe('the rules', () => {
  it('tenant names and user ids', () => {
    for (const ok of ['acme', 'a', '0-team_2', 'x'.repeat(32)]) expect(tenantProblem(ok)).toBeUndefined();
    for (const bad of ['', 'Acme', '_a', 'a.b', 'x'.repeat(33), 'a b']) expect(tenantProblem(bad)).toMatch(/invalid tenant/);
    expect(userIdProblem('ada@example.com')).toBeUndefined();
    expect(userIdProblem('')).toMatch(/must not be empty/);
  });

  it('parseLifetime reads digits as seconds and leaves durations to jose', () => {
    expect(parseLifetime('3600')).toBe(3600);
    expect(parseLifetime('1h')).toBe('1h');
    expect(parseLifetime('-60')).toBe('-60');
  });
});
