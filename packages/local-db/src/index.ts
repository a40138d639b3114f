/**
 * Starts a real MongoDB-wire-compatible server for tests and for `pnpm start` without
 * MONGODB_URI, choosing in this order:
 *   1. `mongod`, when it is on PATH;
 *   2. FerretDB v1.24.2 (built once with `go` into `<repo>/.tools/`) on a private PostgreSQL
 *      cluster under the data dir, with GIN twins of FerretDB's indexes (postgres.ts);
 *   3. FerretDB on SQLite, the last resort when PostgreSQL is not installed (every read scans a
 *      whole collection there), with a warning saying how to get PostgreSQL. An installed PostgreSQL
 *      that cannot start (e.g. a data dir it cannot enter: DataDirError) stops start-up instead. A SQLite store left by an earlier Mnemo keeps being
 *      used until `moveSqliteToPostgres` (migrate.ts; `pnpm mnemo move-to-postgres`) moves it.
 *
 * Every server runs under a guard (process.ts) that stops it when Mnemo stops or dies; one that
 * dies while Mnemo runs is started again (same port, same data), and `warn` says so. PostgreSQL is
 * also restarted when a package upgrade replaces its binaries under the running cluster (postgres.ts).
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureFerretDb, FERRETDB_VERSION, pings, startFerretDb } from './ferretdb';
import { lockDataDir } from './lock';
import { findPostgres, startPostgres } from './postgres';
import { DataDirError, freePort, type Guarded, LocalDbError, runs, spawnGuarded, waitUntil } from './process';

export { ensureFerretDb, FERRETDB_VERSION, TOOLS_DIR } from './ferretdb';
export { findPostgres } from './postgres';
export { DataDirError, freePort, LocalDbError } from './process';
export { moveSqliteToPostgres } from './migrate';

export type Backend = 'mongod' | 'postgresql' | 'sqlite';

export interface LocalDb {
  uri: string;
  /** What stores the data: mongod itself, or FerretDB's PostgreSQL or SQLite backend. */
  backend: Backend;
  stop(): Promise<void>;
}

export interface LocalDbOptions {
  /** Where the database keeps its files (created if missing). */
  dataDir: string;
  log?: (message: string) => void;
  /** Where warnings go (default: log). */
  warn?: (message: string) => void;
  /** Where FerretDB is built and kept (default TOOLS_DIR). */
  toolsDir?: string;
  /** Use this FerretDB backend (when there is no mongod) instead of choosing. */
  ferretdbBackend?: 'postgresql' | 'sqlite';
  /** false: a throw-away database (tests, benchmarks) that need not survive a crash; default true. */
  durable?: boolean;
  /** PostgreSQL's binaries (default: findPostgres()). */
  postgresBin?: string;
  /** How often to check whether PostgreSQL's binaries were replaced under the running cluster (default 5 s). */
  checkBinariesEveryMs?: number;
}

/** FerretDB's SQLite backend keeps one `<database>.sqlite` file per database in this folder. */
export const sqliteStoreDir = (dataDir: string) => join(resolve(dataDir), 'ferretdb');
export const hasSqliteStore = (dataDir: string) =>
  existsSync(sqliteStoreDir(dataDir)) && readdirSync(sqliteStoreDir(dataDir)).some((f) => f.endsWith('.sqlite'));

const SQLITE_SCANS = 'every read scans the whole collection there (about 1 s per read at 10k messages)';
const GET_POSTGRES =
  'Install PostgreSQL (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@17) and restart: ' +
  'Mnemo then runs FerretDB on a private PostgreSQL cluster, or set MONGODB_URI.';

/**
 * Starts the local database of `dataDir`, which this process then owns until `stop()`: a second
 * start on the same data dir, in any process, refuses with a LocalDbError (lock.ts).
 */
export async function startLocalDb(options: LocalDbOptions): Promise<LocalDb> {
  const dir = resolve(options.dataDir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new DataDirError(`cannot create MNEMO_DATA_DIR ${dir}: ${(error as Error).message}; create it yourself or choose another folder`);
  }
  const unlock = lockDataDir(dir);
  try {
    const db = await startServers(dir, options);
    return {
      ...db,
      stop: async () => {
        await db.stop();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}

async function startServers(dir: string, options: LocalDbOptions): Promise<LocalDb> {
  const { log = () => {}, warn = log, toolsDir, ferretdbBackend, durable = true, checkBinariesEveryMs } = options;
  if (runs('mongod', ['--version'])) return startMongod(dir, log, warn);

  const bin = await ensureFerretDb(log, toolsDir);
  const servers: Guarded[] = [];
  let backend: 'postgresql' | 'sqlite' = ferretdbBackend ?? 'postgresql';
  let backendArgs: string[] = [];
  if (!ferretdbBackend && hasSqliteStore(dir)) {
    warn(
      `Using the FerretDB SQLite store of an earlier Mnemo in ${sqliteStoreDir(dir)}: ${SQLITE_SCANS}. ` +
        'Move it to PostgreSQL once, with Mnemo stopped: pnpm mnemo move-to-postgres',
    );
    backend = 'sqlite';
  }
  if (backend === 'postgresql') {
    const pgBin = options.postgresBin ?? findPostgres();
    if (pgBin) {
      // PostgreSQL is there: a failure to use it (a data dir it cannot enter, a cluster that does not start) stops
      // start-up with its reason. Falling back to SQLite, about 100 times slower, would hide a fixable problem.
      const pg = await startPostgres({
        bin: pgBin,
        dir: join(dir, 'postgres'),
        logFile: join(dir, 'postgres.log'),
        durable,
        log,
        warn,
        checkBinariesEveryMs,
      });
      servers.push(pg.server);
      backendArgs = ['--handler=postgresql', `--postgresql-url=${pg.url}`];
    } else if (ferretdbBackend || existsSync(join(dir, 'postgres', 'PG_VERSION'))) {
      throw new LocalDbError('PostgreSQL is not installed (no initdb, postgres and psql on PATH, from pg_config or in the usual folders).');
    } else {
      warn(`PostgreSQL is not installed. Falling back to FerretDB on SQLite: ${SQLITE_SCANS}. ${GET_POSTGRES}`);
      backend = 'sqlite';
    }
  }
  if (backend === 'sqlite') backendArgs = ['--handler=sqlite', `--sqlite-url=file:${sqliteStoreDir(dir)}/`];
  const stateDir = backend === 'sqlite' ? sqliteStoreDir(dir) : join(dir, 'ferretdb-state');
  try {
    const ferret = await startFerretDb(bin, backendArgs, stateDir, join(dir, 'ferretdb.log'));
    servers.unshift(ferret.server);
    for (const server of servers) server.restartOnExit(warn);
    log(
      `Local database: FerretDB ${FERRETDB_VERSION} on ${backend === 'sqlite' ? 'SQLite' : 'PostgreSQL'} at ${ferret.uri}, data in ${dir}`,
    );
    return { uri: ferret.uri, backend, stop: stopInOrder(servers) };
  } catch (error) {
    await stopInOrder(servers)();
    throw error;
  }
}

/** Stops FerretDB before the PostgreSQL it uses (each server's stop() is itself once only). */
function stopInOrder(servers: Guarded[]): () => Promise<void> {
  return async () => {
    for (const server of servers) await server.stop();
  };
}

async function startMongod(dir: string, log: (message: string) => void, warn: (message: string) => void): Promise<LocalDb> {
  const port = await freePort();
  mkdirSync(join(dir, 'mongod'), { recursive: true });
  const server = spawnGuarded(
    'mongod',
    ['--dbpath', join(dir, 'mongod'), '--bind_ip', '127.0.0.1', '--port', String(port)],
    join(dir, 'mongod.log'),
  );
  const uri = `mongodb://127.0.0.1:${port}/`;
  await waitUntil(`mongod at ${uri}`, server, () => pings(uri));
  server.restartOnExit(warn);
  log(`Local database (mongod) at ${uri}, data in ${dir}`);
  return { uri, backend: 'mongod', stop: () => server.stop() };
}
