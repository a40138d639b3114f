/**
 * A private PostgreSQL cluster for FerretDB: created with `initdb` under the data dir on first
 * start, listening on a Unix socket only (no TCP port), run as `nobody` when we are root
 * (PostgreSQL refuses root), with the GIN twins of gin-twins.sql installed.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Account, DataDirError, type Guarded, run, spawnGuarded, unprivilegedAccount, waitUntil } from './process';

const SUPERUSER = 'mnemo';
const DATABASE = 'ferretdb';
const TWINS_SQL = readFileSync(new URL('./gin-twins.sql', import.meta.url), 'utf8');

/** Folders with PostgreSQL's server binaries (initdb, postgres, psql), in order of preference. */
function candidateBinDirs(): string[] {
  const versioned = (parent: string, pattern: RegExp) => {
    if (!existsSync(parent)) return [];
    return readdirSync(parent)
      .map((name) => ({ name, version: Number(pattern.exec(name)?.[1]) }))
      .filter(({ version }) => version > 0)
      .sort((a, b) => b.version - a.version)
      .map(({ name }) => join(parent, name, 'bin'));
  };
  const pgConfig = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  return [
    ...(process.env.PATH ?? '').split(':').filter(Boolean),
    ...(pgConfig.status === 0 ? [pgConfig.stdout.trim()] : []),
    ...versioned('/usr/lib/postgresql', /^(\d+)$/), // Debian, Ubuntu
    ...versioned('/usr', /^pgsql-(\d+)$/), // RHEL, Fedora (PGDG)
    ...versioned('/opt/homebrew/opt', /^postgresql@(\d+)$/), // Homebrew, Apple silicon
    ...versioned('/usr/local/opt', /^postgresql@(\d+)$/), // Homebrew, Intel
    '/opt/homebrew/bin',
    '/usr/local/bin',
  ];
}

/** The folder holding initdb, postgres and psql, or undefined when PostgreSQL is not installed. */
export function findPostgres(): string | undefined {
  return candidateBinDirs().find((dir) => ['initdb', 'postgres', 'psql'].every((bin) => existsSync(join(dir, bin))));
}

/** A Unix socket path is limited to ~107 bytes; a deep data dir gets its socket in a short temp folder. */
function socketDir(clusterDir: string): string {
  if (join(clusterDir, '.s.PGSQL.5432').length <= 100) return clusterDir;
  return join(tmpdir(), `mnemo-pg-${createHash('sha256').update(clusterDir).digest('hex').slice(0, 12)}`);
}

/**
 * PostgreSQL running as `as` must be able to enter every folder above its cluster: the data dir and its parents.
 * `mktemp -d` makes 0700 folders, so a data dir made by it stops here, with the chmod that fixes it.
 */
function assertReachable(dir: string, as: Account): void {
  for (let parent = dirname(dir); ; parent = dirname(parent)) {
    const { mode, uid, gid } = statSync(parent);
    const bit = uid === as.uid ? 0o100 : gid === as.gid ? 0o010 : 0o001;
    if (!(mode & bit)) {
      throw new DataDirError(
        `PostgreSQL runs as ${as.name} (it refuses to run as root), and ${as.name} cannot enter ${parent} ` +
          `(mode ${(mode & 0o777).toString(8).padStart(4, '0')}): allow it with \`chmod o+x ${parent}\`, ` +
          'or set MNEMO_DATA_DIR to a folder it can reach',
      );
    }
    if (parent === dirname(parent)) return;
  }
}

/** Creates the cluster with initdb unless it exists; initdb works in a side folder, so a failed one leaves nothing. */
function ensureCluster(bin: string, dir: string, as: Account | undefined, durable: boolean): boolean {
  if (existsSync(join(dir, 'PG_VERSION'))) return false;
  const staging = `${dir}.initdb`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  if (as) chownSync(staging, as.uid, as.gid);
  run(
    join(bin, 'initdb'),
    ['-D', staging, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', ...(durable ? [] : ['--no-sync'])],
    {
      as,
      cwd: staging,
    },
  );
  renameSync(staging, dir);
  return true;
}

/** The `postgres` executable in `bin` as a file: a package upgrade replaces it (another inode, size or time). */
function executableKey(bin: string): string {
  try {
    const { dev, ino, size, mtimeMs } = statSync(join(bin, 'postgres'));
    return `${dev}:${ino}:${size}:${mtimeMs}`;
  } catch {
    return 'missing'; // mid-upgrade: removed, not yet replaced
  }
}

/** What `postgres --version` says, e.g. `postgres (PostgreSQL) 16.4 (Debian 16.4-1)`. */
function versionOf(bin: string): string {
  const result = spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : `unknown (${(result.stderr || result.error?.message || '').trim()})`;
}

/**
 * Restarts the cluster when the binaries on disk are no longer the ones it runs: a package
 * upgrade replaces them under a running server, whose new connections then load the new
 * libraries (plpgsql.so) into the old executable and fail (`undefined symbol`). Every `everyMs`
 * the executable's file identity is compared with the one the running server was started from;
 * once it has changed and stayed the same for one more check (the package manager has finished
 * unpacking), the server is restarted from the new binaries, and `warn` says so with both versions.
 */
function restartWhenReplaced(bin: string, server: Guarded, running: () => Build, everyMs: number, warn: (message: string) => void) {
  let seen = running().key;
  const timer = setInterval(() => {
    if (server.stopped) return clearInterval(timer);
    const now = executableKey(bin);
    const settled = now === seen;
    seen = now;
    if (!settled || now === running().key || now === 'missing') return;
    warn(
      `PostgreSQL's binaries in ${bin} were replaced under the running cluster (${running().version} → ${versionOf(bin)}): ` +
        'restarting it, since its new connections would load libraries of another build',
    );
    server.restart();
  }, everyMs);
  timer.unref();
}

/** The build a server run was started from. */
interface Build {
  key: string;
  version: string;
}

export interface PostgresOptions {
  /** Folder of the PostgreSQL binaries (findPostgres()). */
  bin: string;
  /** The cluster's folder (created on first start). */
  dir: string;
  logFile: string;
  /** false: a throw-away cluster (tests, benchmarks) that skips fsync; true by default. */
  durable?: boolean;
  log: (message: string) => void;
  /** Where a restart for replaced binaries is reported (default: log). */
  warn?: (message: string) => void;
  /** How often to check whether the binaries were replaced (default 5 s). */
  checkBinariesEveryMs?: number;
}

export interface Postgres {
  /** The URL FerretDB connects with (Unix socket). */
  url: string;
  server: Guarded;
}

export async function startPostgres({
  bin,
  dir,
  logFile,
  durable = true,
  log,
  warn = log,
  checkBinariesEveryMs = 5000,
}: PostgresOptions): Promise<Postgres> {
  const as = unprivilegedAccount();
  if (as) assertReachable(dir, as);
  if (ensureCluster(bin, dir, as, durable))
    log(`Created a PostgreSQL cluster in ${dir}${as ? ` (owned by ${as.name}: PostgreSQL refuses root)` : ''}`);
  const sockets = socketDir(dir);
  mkdirSync(sockets, { recursive: true, mode: 0o700 });
  if (as) chownSync(sockets, as.uid, as.gid);
  const settings = {
    listen_addresses: '', // no TCP
    unix_socket_directories: `"${sockets}"`,
    unix_socket_permissions: '0700', // only its owner (and root) may connect
    ...(!durable && { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
  };
  let running: Build = { key: '', version: '' };
  const server = spawnGuarded(
    join(bin, 'postgres'),
    ['-D', dir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    logFile,
    {
      signal: 'INT', // fast shutdown: connections are closed, not waited for
      as,
      beforeStart: () => (running = { key: executableKey(bin), version: versionOf(bin) }),
    },
  );
  restartWhenReplaced(bin, server, () => running, checkBinariesEveryMs, warn);
  const psql = (database: string, sql: string) =>
    run(join(bin, 'psql'), ['-h', sockets, '-U', SUPERUSER, '-d', database, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-'], {
      input: sql,
      env: { PGOPTIONS: '-c client_min_messages=warning' },
    });
  await waitUntil('PostgreSQL', server, async () => (psql('postgres', 'SELECT 1'), true), 30_000);
  try {
    psql(
      'postgres',
      `SELECT 'CREATE DATABASE ${DATABASE}' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${DATABASE}')\\gexec`,
    );
    psql(DATABASE, TWINS_SQL);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url: `postgres://${SUPERUSER}@/${DATABASE}?host=${encodeURIComponent(sockets)}`, server };
}
