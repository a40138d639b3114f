/** `pnpm mnemo token`: admin tokens as before, user tokens with --user/--ttl, and clear errors (exit 2). */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decodeJwt, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';

const SECRET = 'token-cli-secret-0123456789abcdef';
const cli = (args: string[], env: Record<string, string | undefined> = { MNEMO_AUTH_SECRET: SECRET }) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/bin.ts', 'token', ...args], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, MNEMO_AUTH_SECRET: undefined, LOG_LEVEL: 'silent', ...env },
  });
const claimsOf = async (args: string[]) => {
  const { stdout } = await cli(args);
  const token = stdout.trim();
  await jwtVerify(token, new TextEncoder().encode(SECRET), { algorithms: ['HS256'] }); // signed with the secret
  return decodeJwt(token);
};

describe('pnpm mnemo token', () => {
  it('prints user tokens: scope "user", sub, exp from --ttl (1 h by default), tenant when given', async () => {
    const [hour, quarter, seconds] = await Promise.all([
      claimsOf(['--user', 'ada']),
      claimsOf(['--user', 'ada', '--ttl', '15m', '--tenant', 'acme']),
      claimsOf(['--user', 'ada@example.com', '--ttl', '90']),
    ]);
    expect(hour).toEqual({ scope: 'user', sub: 'ada', iat: expect.any(Number), exp: hour.iat! + 3600 });
    expect(quarter).toEqual({ scope: 'user', sub: 'ada', tenant: 'acme', iat: expect.any(Number), exp: quarter.iat! + 900 });
    expect(seconds).toMatchObject({ sub: 'ada@example.com', exp: seconds.iat! + 90 });
  });

  it('prints admin tokens as before: no scope, exp only with --expires, tenant when given', async () => {
    const [plain, expiring, tenant] = await Promise.all([
      claimsOf([]),
      claimsOf(['--expires', '30d']),
      claimsOf(['--tenant', 'acme', '--expires', '3600']),
    ]);
    expect(plain).toEqual({ iat: expect.any(Number) });
    expect(expiring).toEqual({ iat: expect.any(Number), exp: expiring.iat! + 30 * 86400 });
    expect(tenant).toEqual({ iat: expect.any(Number), exp: tenant.iat! + 3600, tenant: 'acme' });
  });

  const refused: [string[], RegExp][] = [
    [['--user', 'ada', '--tenant', 'Acme'], /--tenant: invalid tenant "Acme"/],
    [['--tenant', 'a.b'], /--tenant: invalid tenant "a\.b"/],
    [['--user', ''], /--user: invalid user id "": must not be empty/],
    [['--user', 'x'.repeat(300)], /--user: .*at most 256 characters/],
    [['--user', 'ada', '--ttl', 'soon'], /--ttl: invalid lifetime "soon"/],
    [['--user', 'ada', '--ttl', '0'], /--ttl: .*must be positive/],
    [['--user', 'ada', '--expires', '1h'], /a user token takes --ttl, not --expires/],
    [['--ttl', '1h'], /--ttl is for user tokens/],
    [['--expires', 'never'], /--expires: invalid lifetime "never"/],
  ];
  it.each(refused.map(([args, message]) => [JSON.stringify(args).slice(0, 50), args, message] as const))(
    '%s fails with exit code 2 and says why',
    async (_, args, message) => {
      await expect(cli(args)).rejects.toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(message) });
    },
  );

  it('needs MNEMO_AUTH_SECRET, of 32 bytes at least (a configuration problem: exit code 3)', async () => {
    await expect(cli(['--user', 'ada'], {})).rejects.toMatchObject({
      code: 3,
      stderr: expect.stringMatching(/^mnemo: MNEMO_AUTH_SECRET is not set/),
    });
    const short = cli([], { MNEMO_AUTH_SECRET: 'hunter2' });
    await expect(short).rejects.toMatchObject({
      code: 3,
      stderr:
        "mnemo: MNEMO_AUTH_SECRET: must be at least 32 bytes, it has 7; make one with: openssl rand -base64 32 (see 'pnpm mnemo help env')\n",
    });
  });
});
