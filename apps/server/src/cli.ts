/**
 * The `mnemo` command, the same in a checkout (`pnpm mnemo <command>`: tsx runs bin.ts) and installed (@mnemo/server's
 * bin, dist/bin.js): `mnemo <command> [options]`, `mnemo help [command]`, `mnemo <command> --help`, `mnemo --version`.
 * Every command is one entry of COMMANDS below, which its help is printed from. Configuration comes from the
 * environment variables (env.ts; `mnemo help env`). Failures are one line and an exit code (failures.ts).
 */
import { createReadStream, createWriteStream, fstatSync, readFileSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { type Core, createCore, DomainError, type ImportResult, importChatGpt, type TransferCounts, ZepImportError } from '@mnemo/core';
import { createAdminToken, createUserToken, parseLifetime, tenantProblem, userIdProblem } from '@mnemo/core/auth-tokens';
import { type LocalDb, moveSqliteToPostgres, startLocalDb } from '@mnemo/local-db';
import { type Config, ENV_HELP, type EnvInput, parseEnv } from './env';
import { CliError, EXIT, explain } from './failures';
import { createProgress } from './progress';
import { MNEMO_VERSION } from './version';

/** Built JavaScript (the published package) runs as `mnemo`; the checkout's TypeScript as `pnpm mnemo`. */
const INSTALLED = !import.meta.url.endsWith('.ts');
export const PROGRAM = INSTALLED ? 'mnemo' : 'pnpm mnemo';

/** @mnemo/server's version (version.ts). */
export const VERSION = MNEMO_VERSION;

type Values = Record<string, string | boolean | undefined>;

interface Option {
  type: 'string' | 'boolean';
  short?: string;
  /** What the value is, in the usage line: `--user <userId>`. */
  value?: string;
  help: string;
}

interface Command {
  summary: string;
  /** Arguments after the command name, for the usage line (options are listed from `options`). */
  args?: string;
  /** More paragraphs for `mnemo help <command>`. */
  description?: string;
  options?: Record<string, Option>;
  examples?: string[];
  run(values: Values, config: () => Config): Promise<void>;
}

const TENANT: Option = {
  type: 'string',
  value: 'name',
  help: 'the tenant (project): 1–32 of a-z, 0-9, - and _; default: the default one',
};
const QUIET: Option = { type: 'boolean', short: 'q', help: 'no progress on stderr (shown by default on a terminal only)' };
const PROGRESS: Option = { type: 'boolean', help: 'progress on stderr even when it is not a terminal (a line every 5 s)' };

/** The caller's path: `pnpm mnemo` runs in apps/server, and pnpm passes the caller's directory as INIT_CWD. */
const callerPath = (file: string) => resolve((!INSTALLED && process.env.INIT_CWD) || process.cwd(), file);

/** Starts the local database unless MONGODB_URI is set, and a core on it; `use` it, then stop both. */
async function withCore<T>(config: Config, use: (core: Core) => Promise<T>, { embeddings = false } = {}): Promise<T> {
  let localDb: LocalDb | undefined;
  let core: Core | undefined;
  try {
    localDb = config.MONGODB_URI ? undefined : await startLocalDb({ dataDir: config.MNEMO_DATA_DIR, log: (m) => console.error(m) });
    core = createCore({
      mongoUri: config.MONGODB_URI ?? localDb!.uri,
      dbName: config.MNEMO_DB,
      retentionDays: config.MNEMO_RETENTION_DAYS,
      embeddings:
        embeddings && config.MNEMO_EMBEDDINGS_URL
          ? { url: config.MNEMO_EMBEDDINGS_URL, model: config.MNEMO_EMBEDDINGS_MODEL, apiKey: config.MNEMO_EMBEDDINGS_API_KEY }
          : undefined,
    });
    await core.init();
    return await use(core);
  } catch (error) {
    throw explain(error, { mongoUri: config.MONGODB_URI }) ?? error;
  } finally {
    await core?.close();
    await localDb?.stop();
  }
}

const progressMode = (values: Values) => (values.quiet ? 'never' : values.progress ? 'always' : 'auto');

const counted = ({ users, sessions, messages, summaries }: TransferCounts) =>
  summaries > 0
    ? `${users} users, ${sessions} sessions, ${messages} messages and ${summaries} summaries`
    : `${users} users, ${sessions} sessions and ${messages} messages`;
const describeImport = ({ imported: i, skipped: s }: ImportResult) => `${counted(i)} imported; ${counted(s)} already there (skipped)`;
const records = ({ imported: i, skipped: s }: ImportResult) =>
  i.users + i.sessions + i.messages + i.summaries + s.users + s.sessions + s.messages + s.summaries;

/** Bad input, an unreachable Zep, a file that is not there: one line. Anything else is a bug (its stack is printed). */
function transferFailure(command: string, error: unknown): CliError | undefined {
  const known =
    error instanceof DomainError ||
    error instanceof ZepImportError ||
    ['ENOENT', 'EACCES', 'EISDIR', 'EPIPE'].includes((error as { code?: string }).code!);
  return known ? new CliError(`${command} failed: ${(error as Error).message}`, EXIT.failed) : undefined;
}

export const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'run the server: the APIs, the web UI at /, and the local database unless MONGODB_URI is set',
    description:
      'Serves http://HOST:PORT (default http://127.0.0.1:8000) until Ctrl-C or SIGTERM, which let requests in flight finish. ' +
      'Without MONGODB_URI it starts a local database in MNEMO_DATA_DIR first (README, "The local database"); the very first ' +
      'start may build FerretDB, which takes minutes and reports its progress. Configuration: environment variables (mnemo help env).',
    options: {
      port: { type: 'string', value: 'port', help: 'the port to listen on (instead of PORT; 0: a free one)' },
      host: { type: 'string', value: 'address', help: 'the address to listen on (instead of HOST), e.g. 0.0.0.0' },
    },
    examples: ['serve', 'serve --port 9000', 'MONGODB_URI=mongodb://localhost:27017 mnemo serve'],
    async run(values, config) {
      const overrides: EnvInput = {};
      if (values.port !== undefined) overrides.PORT = String(values.port);
      if (values.host !== undefined) overrides.HOST = String(values.host);
      const { serve } = await import('./serve');
      await serve(Object.keys(overrides).length ? parseEnv({ ...process.env, ...overrides }) : config());
    },
  },

  token: {
    summary: 'print a bearer token signed with MNEMO_AUTH_SECRET (an admin token, or a user token with --user)',
    description:
      'An admin token may do everything; a user token (--user) only what that Mnemo user may, for a browser (README, "Tokens ' +
      'for browsers"). User tokens always expire.',
    options: {
      user: { type: 'string', value: 'userId', help: 'a user token for this Mnemo user' },
      ttl: { type: 'string', value: 'duration', help: "a user token's lifetime: 15m, 1h, seconds; default 1h" },
      expires: { type: 'string', value: 'duration', help: "an admin token's lifetime: 30d, 12h, seconds; default: none" },
      tenant: TENANT,
    },
    examples: ['token', 'token --expires 30d', 'token --user ada --ttl 15m --tenant acme'],
    async run(values, config) {
      const { MNEMO_AUTH_SECRET: secret } = config();
      if (!secret)
        throw new CliError('MNEMO_AUTH_SECRET is not set: the server does not check tokens, so there is nothing to sign with', EXIT.config);
      const { user: userId, ttl, expires, tenant } = values as Record<string, string | undefined>;
      const usage = (message: string) => new CliError(message, EXIT.usage);
      if (tenant !== undefined && tenantProblem(tenant)) throw usage(`--tenant: ${tenantProblem(tenant)}`);
      if (userId === undefined && ttl !== undefined)
        throw usage('--ttl is for user tokens (with --user <userId>); an admin token takes --expires');
      if (userId !== undefined && expires !== undefined) throw usage('a user token takes --ttl, not --expires');
      if (userId !== undefined && userIdProblem(userId)) throw usage(`--user: ${userIdProblem(userId)}`);
      try {
        const token =
          userId === undefined
            ? await createAdminToken({ secret, expiresIn: expires === undefined ? undefined : parseLifetime(expires), tenant })
            : await createUserToken({ secret, userId, ttl: ttl === undefined ? undefined : parseLifetime(ttl), tenant });
        console.log(token);
      } catch (error) {
        throw usage(`${userId === undefined ? '--expires' : '--ttl'}: ${(error as Error).message}`);
      }
    },
  },

  export: {
    summary: 'write the live users, sessions and messages (or one user’s) as JSON Lines',
    description:
      'Writes to --out (through <file>.partial, renamed when complete) or to stdout. Run it with the server stopped (it ' +
      'starts the local database itself) or with MONGODB_URI set. Progress goes to stderr on a terminal.',
    options: {
      out: { type: 'string', short: 'o', value: 'file', help: 'write to this file (default: stdout)' },
      user: { type: 'string', value: 'userId', help: 'only this user: their record, sessions and messages' },
      quiet: QUIET,
      progress: PROGRESS,
    },
    examples: ['export --out backup.jsonl', 'export --user ada > ada.jsonl'],
    async run(values, config) {
      const file = typeof values.out === 'string' ? callerPath(values.out) : undefined;
      const userId = values.user as string | undefined;
      await withCore(config(), async (core) => {
        const progress = createProgress('export', { mode: progressMode(values) });
        let total: number | undefined;
        // The total comes from stored counters, read beside the export rather than before it.
        void core.transfer.totals({ userId }).then(
          (t) => (total = t.messages),
          () => {},
        );
        const report = (written: TransferCounts) =>
          progress.update({
            done: written.messages,
            total,
            unit: 'messages',
            detail: `${written.sessions} sessions, ${written.users} users`,
          });
        // A file is written beside its name and renamed when complete: an interrupted export leaves no partial file.
        const out = file ? createWriteStream(`${file}.partial`) : process.stdout;
        try {
          const counts = await core.transfer.export(out, { userId, onProgress: report });
          if (file) {
            out.end();
            await finished(out);
            await rename(`${file}.partial`, file);
          }
          progress.done();
          console.error(`Exported ${counted(counts)}${file ? ` to ${file}` : ''}.`);
        } catch (error) {
          if (file) {
            out.destroy();
            await rm(`${file}.partial`, { force: true });
          }
          throw transferFailure('export', error) ?? error;
        }
      });
    },
  },

  import: {
    summary: 'read an export into the configured database (idempotent: what is there already is skipped)',
    description:
      'Reads --in or stdin. Records already there (same user, session, or message id in its session) are skipped, so ' +
      'running it again finishes an interrupted import and otherwise changes nothing. Stops at the first bad line, naming ' +
      'it (exit code 1): the lines before it are imported. Progress goes to stderr on a terminal (with time left when the ' +
      'size of the input is known).',
    options: {
      in: { type: 'string', short: 'i', value: 'file', help: 'read this file (default: stdin)' },
      quiet: QUIET,
      progress: PROGRESS,
    },
    examples: ['import --in backup.jsonl', 'MNEMO_DB=copy mnemo import < backup.jsonl'],
    async run(values, config) {
      const file = typeof values.in === 'string' ? callerPath(values.in) : undefined;
      // The input's size, when it is a file (also a file redirected to stdin), gives a fraction and a time left.
      const size = (() => {
        try {
          const stat = file ? statSync(file) : fstatSync(0);
          return stat.isFile() && stat.size > 0 ? stat.size : undefined;
        } catch {
          return undefined;
        }
      })();
      if (!file && process.stdin.isTTY) console.error('Reading an export from stdin (pass --in <file> to read a file)…');
      await withCore(
        config(),
        async (core) => {
          const input = file ? createReadStream(file) : process.stdin;
          let read = 0;
          input.on('data', (chunk: Buffer | string) => (read += chunk.length));
          const progress = createProgress('import', { mode: progressMode(values) });
          try {
            const result = await core.transfer.import(input, {
              onProgress: (so) =>
                progress.update({
                  done: records(so),
                  unit: 'records',
                  fraction: size ? Math.min(1, read / size) : undefined,
                  detail: `${so.imported.messages} messages imported, ${so.skipped.messages} skipped`,
                }),
            });
            progress.done();
            console.log(`Done: ${describeImport(result)}.`);
          } catch (error) {
            progress.done();
            throw transferFailure('import', error) ?? error;
          }
        },
        { embeddings: true },
      );
    },
  },

  'import-zep': {
    summary: 'import the users, sessions and messages of a running Zep v0.x server over its REST API',
    description: 'Keeps uuids, metadata and created_at; idempotent. Progress goes to stderr on a terminal.',
    options: {
      url: { type: 'string', value: 'url', help: "the Zep server's base URL, e.g. http://localhost:8000 (required)" },
      'api-key': { type: 'string', value: 'key', help: 'its API key, when it asks for one' },
      quiet: QUIET,
      progress: PROGRESS,
    },
    examples: ['import-zep --url http://localhost:8000'],
    async run(values, config) {
      if (typeof values.url !== 'string') throw new CliError("import-zep needs --url <the Zep server's base URL>", EXIT.usage);
      const url = values.url;
      await withCore(
        config(),
        async (core) => {
          const progress = createProgress('import-zep', { mode: progressMode(values) });
          try {
            const result = await core.transfer.importZep({
              url,
              apiKey: values['api-key'] as string | undefined,
              onProgress: (so) =>
                progress.update({
                  done: records(so),
                  unit: 'records',
                  detail: `${so.imported.messages} messages imported, ${so.skipped.messages} skipped`,
                }),
            });
            progress.done();
            console.log(`Done: ${describeImport(result)}.`);
          } catch (error) {
            progress.done();
            throw transferFailure('import-zep', error) ?? error;
          }
        },
        { embeddings: true },
      );
    },
  },

  'import-chatgpt': {
    summary: "import ChatGPT's data export (conversations.json) as sessions of one user, with every branch",
    description:
      'One session per conversation (its id, the title as metadata, the times of its messages), every edited or ' +
      'regenerated version kept as a branch and the branch last shown as the head (README, "Conversation trees"). The ' +
      'user is created if it does not exist. A conversation that is not of the documented shape is reported by its index ' +
      'and skipped (exit code 1 after the others are imported); running it again changes nothing.',
    options: {
      in: { type: 'string', short: 'i', value: 'file', help: 'conversations.json from the export (required)' },
      user: { type: 'string', value: 'userId', help: 'the Mnemo user who owns the conversations (required)' },
      quiet: QUIET,
      progress: PROGRESS,
    },
    examples: ['import-chatgpt --in conversations.json --user ada'],
    async run(values, config) {
      if (typeof values.in !== 'string') throw new CliError('import-chatgpt needs --in <conversations.json>', EXIT.usage);
      if (typeof values.user !== 'string') throw new CliError('import-chatgpt needs --user <userId>', EXIT.usage);
      const userId = values.user;
      let conversations: unknown;
      try {
        conversations = JSON.parse(readFileSync(callerPath(values.in), 'utf8'));
      } catch (error) {
        throw new CliError(`import-chatgpt failed: ${(error as Error).message}`, EXIT.failed);
      }
      await withCore(config(), async (core) => {
        const progress = createProgress('import-chatgpt', { mode: progressMode(values) });
        let result: Awaited<ReturnType<typeof importChatGpt>>;
        try {
          result = await importChatGpt(core, conversations, {
            userId,
            onProgress: (so, done, total) =>
              progress.update({ done, total, unit: 'conversations', detail: `${so.imported.messages} messages imported` }),
          });
          progress.done();
        } catch (error) {
          progress.done();
          throw (
            (error instanceof TypeError ? new CliError(`import-chatgpt failed: ${error.message}`, EXIT.failed) : undefined) ??
            transferFailure('import-chatgpt', error) ??
            error
          );
        }
        const { imported: i, skipped: s, problems } = result;
        for (const { index, message } of problems) console.error(`conversation ${index} skipped: ${message}`);
        console.log(
          `Done: ${i.sessions} conversations and ${i.messages} messages imported; ${s.sessions} conversations and ${s.messages} messages already there (skipped).`,
        );
        if (problems.length > 0)
          throw new CliError(`import-chatgpt: ${problems.length} malformed conversations skipped (listed above)`, EXIT.failed);
      });
    },
  },

  purge: {
    summary: 'apply retention and hard-delete soft-deleted records now',
    description:
      'In the configured database (it starts the local one when MONGODB_URI is unset): stop the server first, or call ' +
      'admin.purge on the running server instead. The server itself purges at start-up and every MNEMO_PURGE_EVERY minutes.',
    options: { grace: { type: 'string', value: 'ms', help: 'only what was soft-deleted more than <ms> ago (default 0)' } },
    examples: ['purge', 'MNEMO_RETENTION_DAYS=30 mnemo purge'],
    async run(values, config) {
      const graceMs = Number(values.grace ?? 0);
      if (!/^\d+$/.test(String(values.grace ?? 0)) || !Number.isSafeInteger(graceMs))
        throw new CliError(`--grace ${JSON.stringify(values.grace)}: must be a whole number of milliseconds`, EXIT.usage);
      await withCore(config(), async (core) => {
        const purged = await core.purge({ graceMs });
        console.log(`Retention expired ${purged.expired.sessions} sessions and ${purged.expired.messages} messages.`);
        console.log(`Purged ${purged.users} users, ${purged.sessions} sessions and ${purged.messages} messages.`);
      });
    },
  },

  'forget-user': {
    summary: 'hard-delete a user now: the user, their sessions, messages, search terms and embeddings',
    description:
      'Not at the next purge: at once. With the server running, prefer its admin.forgetUser procedure (a running server ' +
      'queues it with its writes).',
    options: { user: { type: 'string', value: 'userId', help: 'the user to forget (required)' } },
    examples: ['forget-user --user ada'],
    async run(values, config) {
      const userId = values.user;
      if (typeof userId !== 'string' || !userId) throw new CliError('forget-user needs --user <userId>', EXIT.usage);
      await withCore(config(), async (core) => {
        try {
          const gone = await core.users.forget({ userId });
          console.log(
            `Forgot user ${JSON.stringify(userId)}: deleted ${gone.users} user, ${gone.sessions} sessions, ${gone.messages} messages, ${gone.searchDocuments} search documents and ${gone.summaries} summaries.`,
          );
        } catch (error) {
          if (error instanceof DomainError) throw new CliError(`forget-user failed: ${error.message}`, EXIT.failed);
          throw error;
        }
      });
    },
  },

  mcp: {
    summary: 'serve MCP (Model Context Protocol) on stdin/stdout for a desktop agent, over a running Mnemo',
    description:
      'A local MCP server that Claude Desktop, Claude Code or Cursor start as a child process (docs/mcp.md). Its tools ' +
      '(search memory, recent messages, add messages, list and get sessions, merge metadata) call the server at --url with ' +
      'the token (--token, else MNEMO_TOKEN), so the server decides what the token may see. It ends when the agent closes ' +
      'its stdin. stdout carries only the protocol.',
    options: {
      url: { type: 'string', value: 'url', help: "the Mnemo server's base URL, e.g. http://127.0.0.1:8000 (required)" },
      token: { type: 'string', value: 'token', help: 'the bearer token to send (default: MNEMO_TOKEN; none when the server has no auth)' },
    },
    examples: [
      'mcp --url http://127.0.0.1:8000',
      'MNEMO_TOKEN=$(mnemo token --user ada --ttl 30d) mnemo mcp --url https://mnemo.example.com',
    ],
    async run(values, config) {
      if (typeof values.url !== 'string') throw new CliError("mcp needs --url <the Mnemo server's base URL>", EXIT.usage);
      if (!URL.canParse(values.url) || !/^https?:$/.test(new URL(values.url).protocol))
        throw new CliError(`--url ${JSON.stringify(values.url)}: must be an http(s) URL, e.g. http://127.0.0.1:8000`, EXIT.usage);
      const token = typeof values.token === 'string' ? values.token : config().MNEMO_TOKEN;
      const { serveMcpStdio } = await import('./mcp/stdio');
      await serveMcpStdio({ url: values.url, token });
    },
  },

  'move-to-postgres': {
    summary: 'move the local database’s old FerretDB SQLite store into its PostgreSQL cluster',
    description:
      'With the server stopped: copies every database, collection, index and document, compares the counts of every ' +
      'collection, and only then sets the SQLite folder aside (renamed, not deleted).',
    async run(_values, config) {
      const { MONGODB_URI, MNEMO_DATA_DIR } = config();
      if (MONGODB_URI)
        throw new CliError('MONGODB_URI is set: Mnemo does not use a local database, so there is nothing to move', EXIT.usage);
      try {
        const { counts, keptAt } = await moveSqliteToPostgres({ dataDir: MNEMO_DATA_DIR, log: console.error });
        const total = Object.values(counts).reduce((a, b) => a + b, 0);
        console.log(
          `Moved ${total} documents in ${Object.keys(counts).length} collections to PostgreSQL; the SQLite store is kept at ${keptAt}.`,
        );
      } catch (error) {
        throw explain(error) ?? error;
      }
    },
  },
};

const wrap = (text: string, width: number, indent: string) => {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
};

const optionUsage = (name: string, option: Option) => `--${name}${option.value ? ` <${option.value}>` : ''}`;

/** `mnemo help`: every command, one line each. */
export function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length), 'help [command]'.length) + 2;
  return [
    `Mnemo ${VERSION}, the chat-memory server.`,
    '',
    `Usage: ${PROGRAM} <command> [options]`,
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.summary}`),
    `  ${'help [command]'.padEnd(width)}this help, or a command's (also: ${PROGRAM} <command> --help)`,
    `  ${'help env'.padEnd(width)}the environment variables that configure every command`,
    '',
    `Options: --version, --help. Documentation: README.md and docs/ of the repository (docs/cli.md: this command).`,
  ].join('\n');
}

/** `mnemo help <command>`. */
export function commandHelp(name: string): string {
  const command = COMMANDS[name]!;
  const options = Object.entries(command.options ?? {});
  const width = Math.max(0, ...options.map(([n, o]) => optionUsage(n, o).length + (o.short ? 4 : 0))) + 2;
  return [
    `Usage: ${PROGRAM} ${name}${options.length ? ' [options]' : ''}${command.args ? ` ${command.args}` : ''}`,
    '',
    wrap(
      `${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.${command.description ? ` ${command.description}` : ''}`,
      100,
      '',
    ),
    ...(options.length
      ? ['', 'Options:', ...options.map(([n, o]) => `  ${`${o.short ? `-${o.short}, ` : ''}${optionUsage(n, o)}`.padEnd(width)}${o.help}`)]
      : []),
    ...(command.examples ? ['', 'Examples:', ...command.examples.map((e) => `  ${/^[A-Z_]+=/.test(e) ? e : `${PROGRAM} ${e}`}`)] : []),
    '',
    `Configuration: environment variables (${PROGRAM} help env).`,
  ].join('\n');
}

/** The closest command name, for "did you mean". */
function closest(word: string): string | undefined {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length]!;
  };
  const [best] = Object.keys(COMMANDS)
    .map((name) => ({ name, d: distance(word, name) }))
    .sort((a, b) => a.d - b.d);
  return best && best.d <= 2 ? best.name : undefined;
}

/** Runs `mnemo <argv>` and resolves with the exit code; the caller exits with it (unless a server is running). */
export async function runCli(argv: string[]): Promise<number> {
  const usage = (message: string, helpOf?: string) => {
    console.error(`${PROGRAM.split(' ').at(-1)}: ${message} (see '${PROGRAM} help${helpOf ? ` ${helpOf}` : ''}')`);
    return EXIT.usage;
  };
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') {
    (first === undefined ? console.error : console.log)(overview());
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  if (first === '--version' || first === '-v' || first === '-V' || first === 'version') {
    console.log(`mnemo ${VERSION}`);
    return EXIT.ok;
  }
  if (first === 'help') {
    const topic = rest[0];
    if (rest.length > 1) return usage(`help takes one command: ${rest.join(' ')}`);
    if (topic === undefined) console.log(overview());
    else if (topic === 'env' || topic === 'environment' || topic === 'config') console.log(ENV_HELP);
    else if (COMMANDS[topic]) console.log(commandHelp(topic));
    else return usage(`no such command: ${JSON.stringify(topic)}${closest(topic) ? ` (did you mean ${closest(topic)}?)` : ''}`);
    return EXIT.ok;
  }
  if (first.startsWith('-')) return usage(`unknown option ${first}; options go after the command`);
  const command = COMMANDS[first];
  if (!command) return usage(`unknown command ${JSON.stringify(first)}${closest(first) ? `; did you mean ${closest(first)}?` : ''}`);

  let values: Values;
  try {
    const parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(
          Object.entries(command.options ?? {}).map(([name, { type, short }]) => [name, short ? { type, short } : { type }]),
        ),
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (parsed.values.help) {
      console.log(commandHelp(first));
      return EXIT.ok;
    }
    if (parsed.positionals.length > 0) return usage(`${first} takes no arguments: ${parsed.positionals.join(' ')}`, first);
    values = parsed.values;
  } catch (error) {
    // node:util's messages: "Unknown option '--x'. To specify a positional argument starting with a '-', …".
    const message = (error as Error).message.split('. ')[0]!.replace(/^Unknown option '(.*)'$/, `unknown option $1 for ${first}`);
    return usage(message.replace(/^Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument missing$/, '$1 needs a value'), first);
  }

  // The configuration is read only by commands that need it, so `--help` and usage errors never depend on it.
  const config = () => parseEnv(process.env);
  try {
    await command.run(values, config);
    return EXIT.ok;
  } catch (error) {
    const known = explain(error);
    if (!known) {
      console.error(error);
      return EXIT.failed;
    }
    const pointer =
      known.exitCode === EXIT.config
        ? ` (see '${PROGRAM} help env')`
        : known.exitCode === EXIT.usage
          ? ` (see '${PROGRAM} help ${first}')`
          : '';
    const lines = known.message.split('\n');
    console.error(lines.map((line, i) => `mnemo: ${line}${i === lines.length - 1 ? pointer : ''}`).join('\n'));
    return known.exitCode;
  }
}
