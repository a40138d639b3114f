/** Helpers for tests and benchmarks that start their own local database. */
import { chmodSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';

/** What vitest's globalSetup (global-setup.ts) gives every test file, through `inject`. */
declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    /** What the tests run on: the local database's backend, or 'external' (MONGODB_URI). */
    dbBackend: 'mongod' | 'postgresql' | 'sqlite' | 'external';
    /**
     * Whether the cores of the tests are their database's only writer (CoreConfig.singleWriter), as
     * Mnemo is on its local database; absent: yes. The `core-shared` project runs core's suite with
     * false, as on MONGODB_URI.
     */
    singleWriter?: boolean;
  }
}

/**
 * A fresh data dir in the temp folder. mkdtemp makes it 0700; PostgreSQL runs as `nobody` when
 * we are root and must be able to enter it, so it gets 0711 (others may enter, not list).
 */
export function tempDataDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o711);
  return dir;
}

/**
 * Live processes that belong to a local database in `dataDir`: those whose command line names it
 * (mongod, postgres, ferretdb, their guards) and their children (PostgreSQL's backends rename
 * themselves). Linux only (/proc).
 */
export function processesOf(dataDir: string): { pid: number; command: string }[] {
  const procs = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // Zombies (state Z) have exited; only their parent has not reaped them yet.
        const [, state, ppid] = /\) (\S) (\d+)/.exec(stat) ?? [];
        return state === 'Z' ? [] : [{ pid, ppid: ppid!, cmdline }];
      } catch {
        return []; // exited meanwhile
      }
    });
  const ours = new Set(procs.filter((p) => p.cmdline.includes(dataDir)).map((p) => p.pid));
  return procs.filter((p) => ours.has(p.pid) || ours.has(p.ppid)).map((p) => ({ pid: Number(p.pid), command: p.cmdline }));
}

/** CPU seconds (user + system) a live process has used so far; 0 once it has exited. Linux only. */
export function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime (fields 14, 15), in ticks of 1/100 s
  } catch {
    return 0;
  }
}
