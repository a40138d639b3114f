/**
 * Runs the app the way `pnpm start` does: build the web UI, then start the server process
 * (`tsx apps/server/src/main.ts`) on a free port, against the test run's database server with a
 * database of its own.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createCore } from '@mnemo/core';
import { freePort } from '@mnemo/local-db';
import { SignJWT } from 'jose';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export async function buildWeb(): Promise<void> {
  // A production build, as `pnpm start` makes: vitest sets NODE_ENV=test, which would give React's development build.
  await promisify(execFile)('pnpm', ['--filter', '@mnemo/web', 'build'], { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' } });
}

export interface RunningServer {
  url: string;
  dbName: string;
  /** What the server printed (for failure messages). */
  output(): string;
  /** Stops the server and drops its database. */
  stop(): Promise<void>;
}

/** `authSecret` turns auth on (MNEMO_AUTH_SECRET); `env`: any other variables. */
export async function startServer(
  mongoUri: string,
  { authSecret, env: extra = {} }: { authSecret?: string; env?: Record<string, string> } = {},
): Promise<RunningServer> {
  const port = await freePort();
  const dbName = `e2e_${randomUUID().slice(0, 8)}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'mnemo-e2e-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    MONGODB_URI: mongoUri,
    MNEMO_DB: dbName,
    MNEMO_DATA_DIR: dataDir,
    MNEMO_PURGE_EVERY: '0',
    LOG_LEVEL: 'warn',
    ...extra,
  };
  if (authSecret) env.MNEMO_AUTH_SECRET = authSecret;
  else delete env.MNEMO_AUTH_SECRET;
  const tsx = join(ROOT, 'apps/web/node_modules/.bin/tsx');
  const child: ChildProcess = spawn(tsx, ['apps/server/src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not come up within 60 s:\n${output}`);
    }
    await new Promise((ok) => setTimeout(ok, 200));
  }
  return {
    url,
    dbName,
    output: () => output,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
      const core = createCore({ mongoUri, dbName });
      await core.db.dropDatabase();
      await core.close();
    },
  };
}

/** An API key for a server started with `authSecret`, good for 10 minutes: an admin's, or with `userId` that user's (scope "user"). */
export function apiToken(authSecret: string, userId?: string): Promise<string> {
  const token = userId ? new SignJWT({ scope: 'user' }).setSubject(userId) : new SignJWT({});
  return token.setProtectedHeader({ alg: 'HS256' }).setExpirationTime('10m').sign(new TextEncoder().encode(authSecret));
}
