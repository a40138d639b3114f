import { SignJWT } from 'jose';
import { isTRPCClientError } from './client';

/** A token as Zep issues them: HS256-signed with the server's secret, no claims required. */
export function signToken(secret: string, { expiresIn = '1h' }: { expiresIn?: string } = {}): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

/** The tRPC error code a failed call carries, as a client would branch on it. */
export async function codeOf(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
  } catch (err) {
    if (isTRPCClientError(err)) return err.data?.code;
    throw err;
  }
  throw new Error('expected the call to fail');
}
