/**
 * Bearer-token auth: `Authorization: Bearer <jwt>`, HS256-signed with MNEMO_AUTH_SECRET (Zep's scheme).
 *
 * Two kinds of token (README, "Tokens"):
 *   - admin: no `scope` claim (every Zep SDK token) or `scope: "admin"`; `exp`/`nbf` checked when present;
 *   - user: `scope: "user"`, `sub` = a Mnemo user id, `exp` required: that user's own data only
 *     (core's `scopedTo`, packages/core/src/scope.ts).
 * Either may name a `tenant`, whose data lives in a database of its own (tenants.ts).
 * Without a secret auth is off and every request is an admin of the default tenant.
 */
import { createAdminToken, TENANT_PATTERN } from '@mnemo/core/auth-tokens';
import { errors, jwtVerify } from 'jose';

/** The claim rules (and minting) are @mnemo/core's, shared with the CLI and `@mnemo/client/tokens`. */
export { TENANT_PATTERN };

export type Principal =
  | { role: 'admin'; tenant: string | null; subject: string }
  | { role: 'user'; userId: string; tenant: string | null; subject: string };

export type AuthState = 'missing' | 'invalid' | 'expired';
export type Authentication = { state: 'ok'; principal: Principal } | { state: AuthState; reason: string };
export type Verifier = (authorization: string | undefined) => Promise<Authentication>;

const secretKey = (secret: string) => new TextEncoder().encode(secret);
const OPEN: Authentication = { state: 'ok', principal: { role: 'admin', tenant: null, subject: 'admin' } };

export function createVerifier(secret: string | undefined): Verifier {
  if (!secret) return async () => OPEN;
  const key = secretKey(secret);
  return async (authorization) => {
    const token = /^bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token) return { state: 'missing', reason: authorization ? 'not a Bearer authorization header' : 'no authorization header' };
    let claims: Record<string, unknown>;
    try {
      claims = (await jwtVerify(token, key, { algorithms: ['HS256'] })).payload;
    } catch (error) {
      if (error instanceof errors.JWTExpired) return { state: 'expired', reason: 'token expired' };
      return { state: 'invalid', reason: error instanceof errors.JOSEError ? error.code : 'malformed token' };
    }
    const { scope, sub, tenant, exp } = claims;
    if (tenant !== undefined && (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant)))
      return { state: 'invalid', reason: 'bad tenant claim' };
    const scopeOf = tenant ?? null;
    if (scope === undefined || scope === 'admin') {
      return { state: 'ok', principal: { role: 'admin', tenant: scopeOf, subject: `admin:${scopeOf ?? ''}` } };
    }
    if (scope !== 'user') return { state: 'invalid', reason: 'unknown scope claim' };
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256)
      return { state: 'invalid', reason: 'user token without a valid sub claim' };
    if (typeof exp !== 'number') return { state: 'invalid', reason: 'user token without an exp claim' };
    return { state: 'ok', principal: { role: 'user', userId: sub, tenant: scopeOf, subject: `user:${scopeOf ?? ''}:${sub}` } };
  };
}

/** Mints an admin token the server accepts. `expiresIn` is a jose duration ("30d", "1h") or seconds. */
export function createToken(secret: string, { expiresIn, tenant }: { expiresIn?: string | number; tenant?: string } = {}): Promise<string> {
  return createAdminToken({ secret, expiresIn, tenant });
}
