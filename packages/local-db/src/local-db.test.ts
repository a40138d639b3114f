import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Double, Int32, MongoClient } from 'mongodb';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { compileShare } from './ferretdb';
import { DataDirError, ensureFerretDb, findPostgres, LocalDbError, moveSqliteToPostgres, startLocalDb } from './index';
import { sleep } from './process';
import { processesOf, tempDataDir } from './testing';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
function dataDir(): string {
  const dir = tempDataDir('mnemo-local-db-');
  dirs.push(dir);
  return dir;
}

async function withClient<T>(uri: string, use: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1000 });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

describe('local database', () => {
  it('runs FerretDB on a private PostgreSQL on a Unix socket, stops cleanly, and keeps its data across restarts', async () => {
    const dir = dataDir();
    const created = vi.fn();
    const first = await startLocalDb({ dataDir: dir, durable: false, log: created });
    expect(created.mock.calls.flat().join('\n')).toMatch(/Created a PostgreSQL cluster/);
    expect(first.backend).toBe('postgresql');
    expect(first.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
    expect(readdirSync(join(dir, 'postgres'))).toContain('.s.PGSQL.5432'); // its socket, inside the data dir
    await withClient(first.uri, (c) => c.db('persist').collection('things').insertOne({ name: 'kept' }));
    await first.stop();
    await expect(withClient(first.uri, (c) => c.db('admin').command({ ping: 1 }))).rejects.toThrow();

    const log = vi.fn();
    const second = await startLocalDb({ dataDir: dir, durable: false, log });
    try {
      // The existing cluster is started, not created again (initdb).
      expect(log.mock.calls.flat().join('\n')).not.toMatch(/Created a PostgreSQL cluster/);
      const doc = await withClient(second.uri, (c) => c.db('persist').collection('things').findOne({}));
      expect(doc?.name).toBe('kept');
    } finally {
      await second.stop();
    }
  });

  it('gives every index FerretDB creates a GIN twin on its leading key, in every database, and plans each query afresh', async () => {
    const dir = dataDir();
    const db = await startLocalDb({ dataDir: dir, durable: false });
    try {
      await withClient(db.uri, async (c) => {
        await c.db('one').collection('messages').createIndex({ sessionId: 1, seq: 1 }, { unique: true });
        await c.db('two').collection('users').createIndex({ userId: 1 });
      });
      const psql = (sql: string) =>
        execFileSync(join(findPostgres()!, 'psql'), ['-h', join(dir, 'postgres'), '-U', 'mnemo', '-d', 'ferretdb', '-XAtc', sql], {
          encoding: 'utf8',
        });
      const twins = psql(
        "SELECT schemaname || ': ' || regexp_replace(indexdef, '.* USING gin ', '') FROM pg_indexes WHERE indexdef LIKE '% USING gin %' AND tablename NOT LIKE '\\_ferretdb%' ORDER BY 1",
      );
      expect(twins.trim().split('\n')).toEqual([
        "one: (((_jsonb -> '_id'::text))) WITH (fastupdate=off)",
        "one: (((_jsonb -> 'sessionId'::text))) WITH (fastupdate=off)",
        "two: (((_jsonb -> '_id'::text))) WITH (fastupdate=off)",
        "two: (((_jsonb -> 'userId'::text))) WITH (fastupdate=off)",
      ]);
      expect(psql('SHOW plan_cache_mode').trim()).toBe('force_custom_plan');
    } finally {
      await db.stop();
    }
  });

  it('keeps using a SQLite store left by an earlier Mnemo, with a warning, until it is moved to PostgreSQL', async () => {
    const dir = dataDir();
    const old = await startLocalDb({ dataDir: dir, durable: false, ferretdbBackend: 'sqlite' });
    expect(old.backend).toBe('sqlite');
    await withClient(old.uri, async (c) => {
      const things = c.db('mnemo').collection('things');
      await things.createIndex({ name: 1 }, { unique: true, name: 'things_name' });
      await things.insertMany(Array.from({ length: 1500 }, (_, i) => ({ name: `n${i}`, int: new Int32(i), double: new Double(i) })));
      await c
        .db('other')
        .collection('misc')
        .insertOne({ at: new Date(0) });
    });
    await old.stop();

    const warn = vi.fn();
    const again = await startLocalDb({ dataDir: dir, durable: false, warn });
    expect(again.backend).toBe('sqlite');
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/SQLite store.*scans the whole collection.*pnpm mnemo move-to-postgres/));
    await again.stop();

    const report = await moveSqliteToPostgres({ dataDir: dir, durable: false });
    expect(report.counts).toEqual({ 'mnemo.things': 1500, 'other.misc': 1 });
    expect(existsSync(report.keptAt)).toBe(true); // the SQLite store is moved aside, not deleted

    const moved = await startLocalDb({ dataDir: dir, durable: false, warn });
    try {
      expect(moved.backend).toBe('postgresql');
      await withClient(moved.uri, async (c) => {
        const things = c.db('mnemo').collection('things');
        expect(await things.countDocuments()).toBe(1500);
        // BSON types survive the move, and so do indexes.
        const raw = await things.findOne({ name: 'n7' }, { promoteValues: false });
        expect(raw?.int).toBeInstanceOf(Int32);
        expect(raw?.double).toBeInstanceOf(Double);
        await expect(things.insertOne({ name: 'n7' })).rejects.toThrow(/duplicate key/i);
        expect((await c.db('other').collection('misc').findOne({}))?.at).toEqual(new Date(0));
      });
    } finally {
      await moved.stop();
    }
  });

  it('starts FerretDB or PostgreSQL again when one of them dies, with the data committed before', async () => {
    const dir = dataDir();
    const warn = vi.fn();
    const db = await startLocalDb({ dataDir: dir, warn });
    try {
      const client = new MongoClient(db.uri, { serverSelectionTimeoutMS: 1000 });
      const things = client.db('crash').collection('things');
      await things.insertOne({ n: 1 });
      const pidOf = (exe: RegExp) => processesOf(dir).find((p) => exe.test(p.command.split(' ')[0]!))!.pid;
      for (const [name, exe] of [
        ['ferretdb', /ferretdb$/],
        ['postgres', /\/postgres$/],
      ] as const) {
        process.kill(pidOf(exe), 'SIGKILL');
        await expect
          .poll(() => warn.mock.calls.flat().join('\n'), { timeout: 10_000 })
          .toContain(`${name} exited (SIGKILL); starting it again`);
        await expect.poll(() => things.countDocuments().catch(() => -1), { timeout: 30_000, interval: 250 }).toBeGreaterThan(0);
        await things.insertOne({ after: name });
      }
      expect(await things.countDocuments()).toBe(3);
      await client.close();
    } finally {
      await db.stop();
    }
    await expect.poll(() => processesOf(dir), { timeout: 10_000 }).toEqual([]);
  });

  it('refuses a second process on the same data dir, naming the first; takes over once the first is gone', async () => {
    const dir = dataDir();
    // Another process's attempt to start the same data dir's database.
    const startElsewhere = () =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const script = `import { startLocalDb } from './src/index.ts';
          const db = await startLocalDb({ dataDir: ${JSON.stringify(dir)}, durable: false });
          await db.stop();`;
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          cwd: fileURLToPath(new URL('..', import.meta.url)),
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk) => (stderr += chunk));
        child.once('close', (code) => resolve({ code, stderr }));
      });
    const first = await startLocalDb({ dataDir: dir, durable: false });
    try {
      const second = await startElsewhere();
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain(`Another Mnemo (pid ${process.pid}) is using the data dir ${dir}`);
      expect(await withClient(first.uri, (c) => c.db('admin').command({ ping: 1 }))).toMatchObject({ ok: 1 }); // untouched
    } finally {
      await first.stop();
    }
    expect(existsSync(join(dir, 'mnemo.lock'))).toBe(false);
    expect((await startElsewhere()).code).toBe(0);
    // A lock left by a process that died (a pid no process has) is taken over.
    writeFileSync(join(dir, 'mnemo.lock'), '2147483646 1\n');
    expect((await startElsewhere()).code).toBe(0);
  });

  it('restarts PostgreSQL when a package upgrade replaces its binaries under the running cluster, and says so', async () => {
    // The binaries the cluster starts from: links to the real ones, in a folder of their own.
    const real = findPostgres()!;
    const bin = dataDir();
    for (const tool of ['initdb', 'postgres', 'psql']) symlinkSync(join(real, tool), join(bin, tool));
    const dir = dataDir();
    const warn = vi.fn();
    const db = await startLocalDb({ dataDir: dir, durable: false, warn, postgresBin: bin, checkBinariesEveryMs: 100 });
    try {
      const client = new MongoClient(db.uri, { serverSelectionTimeoutMS: 1000 });
      const things = client.db('upgrade').collection('things');
      await things.insertOne({ n: 1 });
      const postgresPid = () => processesOf(dir).find((p) => /\/postgres$/.test(p.command.split(' ')[0]!))?.pid;
      const before = postgresPid();
      // The upgrade: `postgres` is replaced (renamed over, as a package manager does) by another
      // build, here one that reports another version, notes each start and runs the real server.
      const started = join(bin, 'started');
      writeFileSync(
        join(bin, 'postgres.new'),
        `#!/bin/sh\n[ "$1" = --version ] && { echo "postgres (PostgreSQL) 99.1"; exit 0; }\necho started >> ${started}\nexec ${join(real, 'postgres')} "$@"\n`,
        { mode: 0o755 },
      );
      writeFileSync(started, '');
      chmodSync(started, 0o666); // written by the server's account (nobody when we are root)
      renameSync(join(bin, 'postgres.new'), join(bin, 'postgres'));

      await expect
        .poll(() => warn.mock.calls.flat().join('\n'), { timeout: 20_000 })
        .toMatch(/binaries .* were replaced under the running cluster/);
      expect(warn.mock.calls.flat().join('\n')).toMatch(
        /\(postgres \(PostgreSQL\) \d+\.\d+.* → postgres \(PostgreSQL\) 99\.1\): restarting it/,
      );
      await expect.poll(() => readFileSync(started, 'utf8'), { timeout: 20_000 }).toBe('started\n'); // from the new binaries, once
      await expect.poll(() => things.countDocuments().catch(() => -1), { timeout: 30_000, interval: 250 }).toBe(1);
      expect(postgresPid()).not.toBe(before);
      await things.insertOne({ n: 2 });
      expect(await things.find({}, { projection: { _id: 0 } }).toArray()).toEqual([{ n: 1 }, { n: 2 }]);
      // Restarted once: the running build is now the one on disk.
      await sleep(500);
      expect(warn.mock.calls.flat().filter((m) => /were replaced/.test(m))).toHaveLength(1);
      await client.close();
    } finally {
      await db.stop();
    }
    await expect.poll(() => processesOf(dir), { timeout: 10_000 }).toEqual([]);
  });

  it('says what to install or set when there is no mongod, no FerretDB build and no Go', async () => {
    vi.stubEnv('PATH', '/nonexistent');
    const toolsDir = mkdtempSync(join(tmpdir(), 'mnemo-no-tools-'));
    try {
      const attempt = startLocalDb({ dataDir: join(dataDir(), 'never'), toolsDir });
      await expect(attempt).rejects.toBeInstanceOf(LocalDbError);
      await expect(attempt).rejects.toThrow(/MONGODB_URI.*mongod.*Go/s);
    } finally {
      vi.unstubAllEnvs();
      rmSync(toolsDir, { recursive: true, force: true });
    }
  });

  it('stops with the exact fix when PostgreSQL cannot enter the data dir, instead of falling back to SQLite', async () => {
    // mktemp -d makes a 0700 folder; as root, PostgreSQL runs as nobody, who cannot enter it.
    const dir = mkdtempSync(join(tmpdir(), 'mnemo-0700-'));
    dirs.push(dir);
    const warn = vi.fn();
    if (process.getuid?.() === 0) {
      const attempt = startLocalDb({ dataDir: join(dir, 'data'), durable: false, warn });
      await expect(attempt).rejects.toBeInstanceOf(DataDirError);
      await expect(attempt).rejects.toThrow(`nobody cannot enter ${dir} (mode 0700): allow it with \`chmod o+x ${dir}\``);
      expect(existsSync(join(dir, 'data', 'ferretdb'))).toBe(false); // no SQLite store was made
      expect(warn).not.toHaveBeenCalled();
      chmodSync(dir, 0o711); // the fix it names
    }
    const db = await startLocalDb({ dataDir: join(dir, 'data'), durable: false, warn });
    expect(db.backend).toBe('postgresql');
    await db.stop();
  });
});

describe('building FerretDB', () => {
  /**
   * A stand-in for `go` that answers the four commands the build runs, the way Go does (modules downloaded as
   * "go: downloading" lines, each compiled package's name on stderr with -v), and records the environment it got.
   */
  function fakeGo(dir: string): string {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const module = join(dir, 'module');
    mkdirSync(join(module, 'build', 'version'), { recursive: true });
    writeFileSync(
      join(bin, 'go'),
      `#!/bin/sh
echo "$GOPATH $GOMODCACHE $GOCACHE $GOFLAGS $GOTOOLCHAIN" > "${dir}/env"
mkdir -p "$GOMODCACHE/cache" "$GOCACHE/00"
case "$1" in
  version) echo "go version go1.99 fake";;
  mod) echo '{"Dir": "${module}"}';;
  list) for i in 1 2 3; do echo "go: downloading example.com/m$i v1.0.0" >&2; done; seq 1 50 | sed 's/^/pkg/';;
  build) for i in $(seq 1 50); do echo "pkg$i" >&2; done; while [ "$1" != -o ]; do shift; done; echo built > "$2";;
esac
`,
    );
    chmodSync(join(bin, 'go'), 0o755);
    return bin;
  }

  it('says what it is doing and how far it is, keeps Go’s caches in its tools folder, and removes them after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnemo-build-'));
    dirs.push(dir);
    const toolsDir = join(dir, 'tools');
    vi.stubEnv('PATH', `${fakeGo(dir)}:${process.env.PATH}`);
    vi.stubEnv('HOME', join(dir, 'home'));
    const said: string[] = [];
    try {
      const bin = await ensureFerretDb((m) => said.push(m), toolsDir, { progressEveryMs: 0 });
      expect(readFileSync(bin, 'utf8')).toBe('built\n');
    } finally {
      vi.unstubAllEnvs();
    }
    const cache = join(toolsDir, 'go');
    expect(readFileSync(join(dir, 'env'), 'utf8').trim()).toBe(`${cache}/path ${cache}/mod ${cache}/build -modcacherw local`);
    expect(existsSync(cache)).toBe(false); // removed once built
    expect(existsSync(join(dir, 'home'))).toBe(false); // nothing in the home folder
    expect(said[0]).toMatch(/^Building FerretDB v1\.24\.2 from source with Go, once \(about \d+ minutes on 2 idle cores/);
    expect(said).toContainEqual(expect.stringMatching(/^Building FerretDB: downloading the Go modules it needs: 3 so far; \d+ s elapsed$/));
    expect(said).toContainEqual(expect.stringMatching(/^Building FerretDB: compiling packages, 4 of 50 \(8%\); \d+ s elapsed$/));
    expect(said).toContainEqual(expect.stringMatching(/^Building FerretDB: compiling packages, 40 of 50 \(80%\), about \d+ s left; /));
    expect(said).toContainEqual(expect.stringMatching(/^Building FerretDB: linking, about \d+ s left; /));
    expect(said.at(-1)).toMatch(/^Built FerretDB in \d+ s: /);
  });

  it('estimates the time left from the measured shape of a build, not a straight rate', () => {
    // Half the packages take a third of the time: the standard library's small ones come first.
    expect(compileShare(0.5)).toBeCloseTo(0.33, 2);
    expect(compileShare(0)).toBe(0);
    expect(compileShare(1)).toBe(0.98);
    for (let done = 0.05; done <= 1; done += 0.05) expect(compileShare(done)).toBeGreaterThan(compileShare(done - 0.05));
  });
});
