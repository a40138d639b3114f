/** Child-process helpers of the launcher: guarded servers, synchronous tool runs, free ports. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createServer } from 'node:net';
import { constants } from 'node:os';

export class LocalDbError extends Error {
  override name = 'LocalDbError';
}

/** MNEMO_DATA_DIR cannot be used as it is: the message says the exact fix (a chmod, or another folder). */
export class DataDirError extends LocalDbError {
  override name = 'DataDirError';
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `command args…` runs and exits 0. */
export function runs(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

export interface RunOptions {
  cwd?: string;
  /** Run as this user and group (root dropping to an unprivileged account). */
  as?: Account;
  input?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a tool to completion; its stdout, or a LocalDbError with its stderr. */
export function run(command: string, args: string[], { cwd, as, input, env }: RunOptions = {}): string {
  const result = spawnSync(command, args, { cwd, input, encoding: 'utf8', env: { ...process.env, ...env }, uid: as?.uid, gid: as?.gid });
  if (result.status !== 0) {
    throw new LocalDbError(`\`${command} ${args.join(' ')}\` failed:\n${result.stderr || result.error?.message}`);
  }
  return result.stdout;
}

/**
 * Runs a tool to completion without blocking the event loop, handing each line it prints on stderr to `onLine`
 * (progress of long builds); its stdout, or a LocalDbError with the end of its stderr.
 */
export function runAsync(
  command: string,
  args: string[],
  { cwd, env, onLine }: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-20_000);
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) onLine?.(line);
    });
    child.once('error', (error) => reject(new LocalDbError(`\`${command}\` could not run: ${error.message}`)));
    child.once('close', (code) => {
      if (partial) onLine?.(partial);
      if (code === 0) resolve(stdout);
      else reject(new LocalDbError(`\`${command} ${args.join(' ')}\` failed:\n${stderr.split('\n').slice(-30).join('\n')}`));
    });
  });
}

export interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** The account a server runs as when we are root: `nobody` (PostgreSQL refuses to run as root). */
export function unprivilegedAccount(): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(run('id', [flag, 'nobody']).trim());
  return { name: 'nobody', uid: id('-u'), gid: id('-g') };
}

/** A free TCP port on 127.0.0.1 (also used by tests that start servers). */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

export interface Guarded {
  /** Resolves when the server (the current run of it) and its guard have exited. */
  readonly exited: Promise<void>;
  /** Whether stop() was called. */
  readonly stopped: boolean;
  /** Asks the server to stop for good (closes the guard's stdin); resolves when it has. */
  stop(): Promise<void>;
  /** From now on, a server that dies is started again (after a second), and `log` is told. */
  restartOnExit(log: (message: string) => void): void;
  /** Stops the running server (with its signal) and starts the same command again at once. */
  restart(): void;
  /** The last lines of its log, for error messages. */
  logTail(): string;
}

/**
 * Starts a server under a tiny `sh` guard. The guard sends the server `signal` when its stdin
 * closes (our stop(), or our death, SIGKILL included), and exits when the server does (so a
 * crashed server can be restarted). The guard gets a session of its own, so a Ctrl-C in the
 * terminal reaches Mnemo, which stops its servers in order, and not the servers directly. Its
 * stdin watcher is the shell's own `read`, so killing it leaves no process behind.
 */
export function spawnGuarded(
  command: string,
  args: string[],
  logFile: string,
  { signal = 'TERM', as, beforeStart }: { signal?: 'TERM' | 'INT'; as?: Account; beforeStart?: () => void } = {},
): Guarded {
  // (A background job's stdin is /dev/null unless redirected: the watcher reads ours through fd 3.)
  const guard = `exec 3<&0; "$0" "$@" & pid=$!
(while read -r _; do :; done <&3; kill -${signal} $pid 2>/dev/null) & watcher=$!
wait $pid; status=$?; kill $watcher 2>/dev/null; exit $status`;
  let child: ChildProcess;
  let exited!: Promise<void>;
  let stopping = false;
  let stopped: Promise<void> | undefined;
  let onDeath: ((message: string) => void) | undefined;
  let restarting = false;
  const start = () => {
    beforeStart?.();
    const out = openSync(logFile, 'a');
    child = spawn('sh', ['-c', guard, command, ...args], { stdio: ['pipe', out, out], detached: true, uid: as?.uid, gid: as?.gid });
    closeSync(out);
    exited = new Promise<void>((resolve) =>
      child.once('exit', (code, sig) => {
        resolve();
        if (restarting && !stopping) {
          restarting = false;
          return start();
        }
        if (stopping || !onDeath) return;
        // The guard exits with the server's status: 128 + n when signal n ended it.
        const signalName = code !== null && code > 128 ? Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0] : sig;
        onDeath(`${basename(command)} exited (${signalName ?? `code ${code}`}); starting it again`);
        setTimeout(() => stopping || start(), 1000);
      }),
    );
  };
  start();
  return {
    get exited() {
      return exited;
    },
    get stopped() {
      return stopping;
    },
    stop: () => (stopped ??= ((stopping = true), child.stdin?.end(), exited)),
    restartOnExit: (log) => (onDeath = log),
    restart: () => {
      if (stopping || restarting) return;
      restarting = true;
      child.stdin?.end(); // the guard signals the server; its exit starts the next run
    },
    logTail: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : ''),
  };
}

/** Polls `ready` until it resolves true; fails with the server's log when it exits or `timeoutMs` passes. */
export async function waitUntil(what: string, server: Guarded, ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void server.exited.then(() => (exited = true));
  let lastError = '';
  for (;;) {
    try {
      if (await ready()) return;
    } catch (error) {
      lastError = String(error);
    }
    if (exited || Date.now() > deadline) {
      await server.stop();
      throw new LocalDbError(
        `${what} did not become ready${exited ? ' (it exited)' : ''}${lastError ? ` (${lastError})` : ''}. Its log:\n${server.logTail()}`,
      );
    }
    await sleep(100);
  }
}
