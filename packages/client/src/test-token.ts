import { SignJWT } from 'jose';

/** A token as Zep issues them: HS256-signed with the server's secret, no claims required. */
export function signToken(secret: string, { expiresIn = '1h' }: { expiresIn?: string } = {}): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
