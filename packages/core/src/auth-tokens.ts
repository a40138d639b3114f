/**
 * Minting Mnemo's bearer tokens: HS256 JWTs signed with MNEMO_AUTH_SECRET (README, "Tokens for browsers").
 * The claim rules live here once, for the server's `createToken` and `pnpm mnemo token` and for app backends
 * (`@mnemo/client/tokens`). Checking them is the server's (apps/server/src/auth.ts). jose and TextEncoder only:
 * runs in Node, Deno, Bun and edge runtimes.
 *   - admin token: no `scope` claim (as Zep's tokens), `exp` optional;
 *   - user token: `scope: "user"`, `sub` = the Mnemo user id, `exp` always (short-lived);
 *   - either may carry `tenant` (absent = the default tenant).
 */
import { decodeJwt, SignJWT } from 'jose';
import { idProblem } from './ids';

/** A tenant (project) name: its data lives in the database `${MNEMO_DB}_t_${tenant}`. */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** A lifetime: a jose duration such as "15m", "1h", "30d" (s, m, h, d, w, y), or a number of seconds. */
export type TokenLifetime = string | number;

/** A user token's lifetime when none is given. */
export const DEFAULT_USER_TOKEN_TTL = '1h';

export interface AdminTokenOptions {
  /** MNEMO_AUTH_SECRET. */
  secret: string;
  /** Lifetime; default: no expiry. */
  expiresIn?: TokenLifetime;
  tenant?: string;
}

export interface UserTokenOptions {
  /** MNEMO_AUTH_SECRET (keep it on the server: a token is minted by the app's backend, never in a browser). */
  secret: string;
  /** The Mnemo user the token is for (`sub`): 1–256 characters, no control characters. */
  userId: string;
  /** Lifetime, e.g. "15m" or 900; must be positive. Default "1h". */
  ttl?: TokenLifetime;
  tenant?: string;
}

/** Why `tenant` is not a tenant name, or undefined when it is one. */
export function tenantProblem(tenant: string): string | undefined {
  return TENANT_PATTERN.test(tenant)
    ? undefined
    : `invalid tenant ${JSON.stringify(tenant)}: 1–32 lowercase letters, digits, "-" or "_", starting with a letter or digit`;
}

/** Why `userId` cannot be a user token's subject, or undefined when it can. */
export function userIdProblem(userId: string): string | undefined {
  const problem = idProblem(userId);
  return problem && `invalid user id ${JSON.stringify(userId.slice(0, 64))}: ${problem}`;
}

/**
 * The shortest secret accepted, in bytes (UTF-8). HS256 keys shorter than the hash's 32 bytes make tokens
 * easier to forge by guessing the key (RFC 7518, section 3.2, asks for at least 256 bits): the server refuses
 * to start with one, and nothing here signs with one.
 */
export const MIN_SECRET_BYTES = 32;

/** Why `secret` cannot sign tokens, or undefined when it can. Never repeats the secret itself. */
export function secretProblem(secret: string): string | undefined {
  const bytes = new TextEncoder().encode(secret).length;
  return bytes >= MIN_SECRET_BYTES
    ? undefined
    : `must be at least ${MIN_SECRET_BYTES} bytes, it has ${bytes}; make one with: openssl rand -base64 32`;
}

/** "30" (a CLI argument) → 30 seconds; anything else is left to jose's duration parser. */
export function parseLifetime(value: string): TokenLifetime {
  return /^\d+$/.test(value.trim()) ? Number(value) : value;
}

/** Mints an admin token (no `scope` claim, as every token before user tokens). */
export async function createAdminToken({ secret, expiresIn, tenant }: AdminTokenOptions): Promise<string> {
  return sign(secret, tenant === undefined ? {} : { tenant: checkTenant(tenant) }, expiresIn);
}

/**
 * Mints a user token: `scope: "user"`, `sub` = `userId`, `exp` = now + `ttl` (default 1 h), `tenant` when given.
 * With it a browser acts as that Mnemo user only; mint it in the app's backend after the app's own login.
 */
export async function createUserToken({ secret, userId, ttl = DEFAULT_USER_TOKEN_TTL, tenant }: UserTokenOptions): Promise<string> {
  if (typeof userId !== 'string') throw new TypeError('userId must be a string');
  const problem = userIdProblem(userId);
  if (problem) throw new TypeError(problem);
  const claims = { scope: 'user', ...(tenant !== undefined && { tenant: checkTenant(tenant) }) };
  const token = await sign(secret, claims, ttl, userId);
  const { iat, exp } = decodeJwt(token);
  if (exp === undefined || iat === undefined || exp <= iat)
    throw new RangeError(`invalid ttl ${JSON.stringify(ttl)}: a user token's lifetime must be positive`);
  return token;
}

function checkTenant(tenant: string): string {
  const problem = typeof tenant === 'string' ? tenantProblem(tenant) : 'tenant must be a string';
  if (problem) throw new TypeError(problem);
  return tenant;
}

async function sign(
  secret: string,
  claims: Record<string, string>,
  lifetime: TokenLifetime | undefined,
  subject?: string,
): Promise<string> {
  if (!secret) throw new TypeError('secret is empty: sign with MNEMO_AUTH_SECRET');
  const problem = secretProblem(secret);
  if (problem) throw new TypeError(`secret ${problem}`);
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
  if (subject !== undefined) jwt.setSubject(subject);
  if (lifetime !== undefined) {
    if (typeof lifetime === 'number' && !Number.isFinite(lifetime))
      throw new TypeError(`invalid lifetime ${lifetime}: a number of seconds`);
    try {
      // A number is seconds from now (jose would read it as a timestamp); a string is a jose duration.
      jwt.setExpirationTime(typeof lifetime === 'number' ? Math.floor(Date.now() / 1000) + Math.floor(lifetime) : lifetime);
    } catch {
      throw new TypeError(`invalid lifetime ${JSON.stringify(lifetime)}: use e.g. 15m, 1h, 30d or a number of seconds`);
    }
  }
  return jwt.sign(new TextEncoder().encode(secret));
}
