/**
 * The `mnemo` command as people guess it (`pnpm mnemo` in a checkout runs the same bin.ts): --version, help, help for
 * a command, and one-line errors with a pointer to help and an exit code that says what kind of failure it was,
 * for a wrong command line, a bad environment value, an unreachable database and a port in use.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '@mnemo/local-db';
import { describe, expect, inject, it } from 'vitest';
import { COMMANDS } from './cli';
import { REPO_ROOT, VARIABLES } from './env';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));
const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** `pnpm mnemo <args>` (node runs bin.ts, as the root script does), with `env` over a clean environment. */
async function mnemo(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const started = Date.now();
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(MNEMO_|MONGODB_URI$|PORT$|HOST$)/.test(name)));
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/bin.ts', ...args], {
      cwd: SERVER_DIR,
      env: { ...clean, LOG_LEVEL: 'warn', ...env },
    });
    return { code: 0, stdout, stderr, seconds: (Date.now() - started) / 1000 };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr, seconds: (Date.now() - started) / 1000 };
  }
}

describe('help and version', () => {
  it('prints its version with --version, -v and version', async () => {
    for (const flag of ['--version', '-v', 'version']) expect(await mnemo([flag])).toMatchObject({ code: 0, stdout: `mnemo ${VERSION}\n` });
  });

  it('lists every command with `help` and --help; no command at all prints the same on stderr with exit code 2', async () => {
    const help = await mnemo(['help']);
    expect(help.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(help.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    expect((await mnemo(['--help'])).stdout).toBe(help.stdout);
    expect(await mnemo([])).toMatchObject({ code: 2, stdout: '', stderr: help.stdout });
  });

  it('explains each command with `help <command>` and `<command> --help`, the same text', async () => {
    for (const name of ['serve', 'export', 'token']) {
      const help = await mnemo(['help', name]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: pnpm mnemo ${name} \\[options\\]`));
      expect((await mnemo([name, '--help'])).stdout).toBe(help.stdout);
      expect((await mnemo([name, '-h'])).stdout).toBe(help.stdout);
    }
    expect((await mnemo(['help', 'export'])).stdout).toMatch(/--out <file> +write to this file/);
  });

  it('lists the environment variables with `help env`: every one the configuration reads, as the README does', async () => {
    const { stdout } = await mnemo(['help', 'env']);
    const readme = readFileSync(`${REPO_ROOT}/README.md`, 'utf8');
    for (const name of Object.keys(VARIABLES)) {
      expect(stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
      expect(readme).toMatch(new RegExp(`^\\| \`${name}\` +\\|`, 'm'));
    }
  });
});

describe('a wrong command line: one line, a pointer to help, exit code 2', () => {
  const refused: [string[], string][] = [
    [['serv'], `mnemo: unknown command "serv"; did you mean serve? (see 'pnpm mnemo help')\n`],
    [['help', 'exprot'], `mnemo: no such command: "exprot" (did you mean export?) (see 'pnpm mnemo help')\n`],
    [['purge', '--user', 'ada'], `mnemo: unknown option --user for purge (see 'pnpm mnemo help purge')\n`],
    [['export', '--out'], `mnemo: --out needs a value (see 'pnpm mnemo help export')\n`],
    [['export', 'backup.jsonl'], `mnemo: export takes no arguments: backup.jsonl (see 'pnpm mnemo help export')\n`],
    [['--port', '9000'], `mnemo: unknown option --port; options go after the command (see 'pnpm mnemo help')\n`],
  ];
  it.each(refused.map(([args, says]) => [args.join(' '), args, says] as const))('mnemo %s', async (_, args, says) => {
    expect(await mnemo(args)).toMatchObject({ code: 2, stdout: '', stderr: says });
  });
});

describe('mnemo serve refuses to start, saying why in one line', () => {
  it('on a bad environment value, echoing it (exit code 3), every problem at once', async () => {
    const outcome = await mnemo(['serve'], { PORT: 'abc', MNEMO_PURGE_EVERY: '1.5', MONGODB_URI: 'localhost:27017' });
    expect(outcome).toMatchObject({ code: 3, stdout: '' });
    expect(outcome.stderr.split('\n')).toEqual([
      'mnemo: PORT="abc": must be a whole number, from 0 to 65535',
      'mnemo: MONGODB_URI="localhost:27017": must be a mongodb:// or mongodb+srv:// URI',
      'mnemo: MNEMO_PURGE_EVERY="1.5": must be a whole number, 0 or more (see \'pnpm mnemo help env\')',
      '',
    ]);
    // A password in a URI is not repeated.
    expect((await mnemo(['serve'], { MONGODB_URI: 'mongodb://ada:hunter2@db.example/?x=', MNEMO_DB: 'a.b' })).stderr).toBe(
      `mnemo: MNEMO_DB="a.b": must be 1–28 letters, digits, "_" or "-" (a database name) (see 'pnpm mnemo help env')\n`,
    );
    expect((await mnemo(['serve', '--port', 'http'])).stderr).toMatch(/^mnemo: PORT="http": must be a whole number/);
  });

  it('with an auth secret shorter than 32 bytes, without repeating it (exit code 3)', async () => {
    const outcome = await mnemo(['serve'], { MNEMO_AUTH_SECRET: 'x' });
    expect(outcome).toMatchObject({
      code: 3,
      stderr:
        "mnemo: MNEMO_AUTH_SECRET: must be at least 32 bytes, it has 1; make one with: openssl rand -base64 32 (see 'pnpm mnemo help env')\n",
    });
  });

  it('when MONGODB_URI cannot be reached (exit code 4), within seconds', async () => {
    const port = await freePort(); // nothing listens there
    const outcome = await mnemo(['serve'], { MONGODB_URI: `mongodb://mnemo:secret@127.0.0.1:${port}/`, PORT: '0' });
    expect(outcome.code).toBe(4);
    expect(outcome.stderr).toBe(
      `mnemo: cannot reach the database at mongodb://mnemo:***@127.0.0.1:${port}/ (MONGODB_URI): connect ECONNREFUSED 127.0.0.1:${port}; ` +
        'is it running and reachable from here? Unset MONGODB_URI to use the local database instead\n',
    );
    expect(outcome.seconds).toBeLessThan(30); // the driver gives up after 3 s: a stall would take minutes
  });

  it('when PostgreSQL cannot enter MNEMO_DATA_DIR, with the chmod that fixes it (exit code 3), instead of using SQLite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mnemo-cli-0700-')); // 0700, as mktemp -d makes it
    try {
      if (process.getuid?.() === 0) {
        const outcome = await mnemo(['serve', '--port', '0'], { MNEMO_DATA_DIR: join(dir, 'data') });
        // As root, PostgreSQL runs as nobody, who cannot enter the folder.
        expect(outcome).toMatchObject({ code: 3, stdout: expect.not.stringMatching(/SQLite/) });
        expect(outcome.stderr).toBe(
          `mnemo: PostgreSQL runs as nobody (it refuses to run as root), and nobody cannot enter ${dir} (mode 0700): ` +
            `allow it with \`chmod o+x ${dir}\`, or set MNEMO_DATA_DIR to a folder it can reach (see 'pnpm mnemo help env')\n`,
        );
        expect(existsSync(join(dir, 'data', 'ferretdb'))).toBe(false);
      } else {
        // Not root, PostgreSQL runs as this user, who owns the folder: a folder nobody may write into stops it instead.
        chmodSync(dir, 0o500);
        const refused = await mnemo(['serve', '--port', '0'], { MNEMO_DATA_DIR: join(dir, 'data') });
        expect(refused).toMatchObject({
          code: 3,
          stderr: expect.stringMatching(/^mnemo: cannot create MNEMO_DATA_DIR .*choose another folder/),
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when its port is in use (exit code 5), and it leaves nothing running', async () => {
    const taken = createServer();
    await new Promise<void>((ok) => taken.listen(0, '127.0.0.1', ok));
    const port = (taken.address() as { port: number }).port;
    try {
      const outcome = await mnemo(['serve', '--port', String(port)], { MONGODB_URI: inject('mongoUri'), MNEMO_DB: 'cli_port_test' });
      expect(outcome).toMatchObject({
        code: 5,
        stderr: `mnemo: cannot listen on 127.0.0.1:${port}: the port is in use (by another Mnemo?); stop that program or set PORT to another port (PORT=0 picks a free one)\n`,
      });
    } finally {
      taken.close();
    }
  });
});
