/**
 * Bearer-token auth, Zep's scheme: `Authorization: Bearer <jwt>` where the JWT is HS256-signed with
 * MNEMO_AUTH_SECRET. No claims are required; `exp`/`nbf` are checked when present.
 * The outcome becomes `ctx.auth`; the tRPC procedures reject anything but 'ok'.
 */
import { errors, jwtVerify, SignJWT } from 'jose';
import type { AuthState } from './trpc';

export type Verifier = (authorization: string | undefined) => Promise<AuthState>;

const secretKey = (secret: string) => new TextEncoder().encode(secret);

/** Without a secret auth is off and every request is 'ok'. */
export function createVerifier(secret: string | undefined): Verifier {
  if (!secret) return async () => 'ok';
  const key = secretKey(secret);
  return async (authorization) => {
    const token = /^bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (!token) return 'missing';
    try {
      await jwtVerify(token, key, { algorithms: ['HS256'] });
      return 'ok';
    } catch (error) {
      return error instanceof errors.JWTExpired ? 'expired' : 'invalid';
    }
  };
}

/** Mints a token the server accepts. `expiresIn` is a jose duration ("30d", "1h") or seconds. */
export function createToken(secret: string, { expiresIn }: { expiresIn?: string | number } = {}): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
  if (expiresIn !== undefined) jwt.setExpirationTime(typeof expiresIn === 'number' ? Math.floor(Date.now() / 1000) + expiresIn : expiresIn);
  return jwt.sign(secretKey(secret));
}
