/**
 * `pnpm mnemo <command>` (root script → `pnpm --filter @mnemo/server cli`):
 *   token [--expires <duration>] [--tenant <name>]   print an admin token: an HS256 JWT signed with MNEMO_AUTH_SECRET
 *   token --user <userId> [--ttl <duration>] [--tenant <name>]   print a user token (claims: @mnemo/core/auth-tokens)
 *   purge [--grace <ms>]          apply retention and hard-delete soft-deleted records now, in the configured database
 *   forget-user --user <userId>   hard-delete a user and everything of theirs now
 *   move-to-postgres              move the local database's SQLite store into its PostgreSQL cluster
 *   export [--user <userId>] [--out <file>]   write users, sessions and messages as JSON Lines (stdout by default)
 *   import [--in <file>]          read such an export back (stdin by default); idempotent
 *   import-zep --url <url> [--api-key <key>]  import a running Zep v0.x server's data over its REST API
 * Configuration comes from the same environment variables as the server. The published package's `mnemo` command
 * (bin.ts) runs this file for every command but `serve`.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createCore, DomainError, type ImportResult, ZepImportError } from '@mnemo/core';
import { moveSqliteToPostgres, startLocalDb } from '@mnemo/local-db';
import { createAdminToken, createUserToken, parseLifetime, tenantProblem, userIdProblem } from '@mnemo/core/auth-tokens';
import { loadEnv } from './env';

const USAGE = `Usage: mnemo <command> (installed: @mnemo/server's bin), or pnpm mnemo <command> in a checkout
  serve                         run the server (the installed command only; in a checkout: pnpm start)
  token [--expires <duration>] [--tenant <name>]
                                print an admin token (an HS256 JWT signed with MNEMO_AUTH_SECRET);
                                --expires takes e.g. 30d, 12h or seconds; default: no expiry
  token --user <userId> [--ttl <duration>] [--tenant <name>]
                                print a user token: that Mnemo user's own data only, for a browser;
                                --ttl takes e.g. 15m, 1h or seconds; default 1h (user tokens always expire)
                                --tenant: the project (1–32 of a-z, 0-9, - and _); default: the default one
  purge [--grace <ms>]          hard-delete records soft-deleted more than <ms> ago (default 0)
                                in the configured database (starts the local one when MONGODB_URI is unset;
                                stop the server first, or call admin.purge on the running server instead)
  forget-user --user <userId>   hard-delete a user now: the user, their sessions, messages, search terms and
                                embeddings (not at the next purge); prints what went. With the server running,
                                prefer its admin.forgetUser procedure (a running server queues it with its writes)
  move-to-postgres              with the server stopped: copy the local database's FerretDB SQLite store (from a
                                Mnemo before PostgreSQL was the default) into its PostgreSQL cluster, compare the
                                counts of every collection, and set the SQLite folder aside (kept, not deleted)
  export [--user <userId>] [--out <file>]
                                write the live users, sessions and messages (or one user's) as JSON Lines to
                                <file> (stdout by default); with the server stopped, or MONGODB_URI set
  import [--in <file>]          read an export (stdin by default) into the configured database; records already
                                there (same user, session, or message id in its session) are skipped, so running
                                it again changes nothing; stops at the first bad line, naming it
  import-zep --url <url> [--api-key <key>]
                                import the users, sessions and messages of a running Zep v0.x server (its base URL,
                                e.g. http://localhost:8000) over its REST API; idempotent; progress on stderr`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

const { positionals, values } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        expires: { type: 'string' },
        ttl: { type: 'string' },
        tenant: { type: 'string' },
        grace: { type: 'string' },
        user: { type: 'string' },
        out: { type: 'string' },
        in: { type: 'string' },
        url: { type: 'string' },
        'api-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();
const [command, ...extra] = positionals;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (extra.length > 0) fail(`unexpected arguments: ${extra.join(' ')}`);
const config = loadEnv();

if (command === 'token') {
  if (!config.MNEMO_AUTH_SECRET) fail('MNEMO_AUTH_SECRET is not set: the server does not check tokens, so there is nothing to sign with.');
  const { user: userId, ttl, expires, tenant } = values;
  if (tenant !== undefined && tenantProblem(tenant)) fail(`--tenant: ${tenantProblem(tenant)}`);
  if (userId === undefined && ttl !== undefined) fail('--ttl is for user tokens (with --user <userId>); an admin token takes --expires');
  if (userId !== undefined && expires !== undefined) fail('a user token takes --ttl, not --expires');
  if (userId !== undefined && userIdProblem(userId)) fail(`--user: ${userIdProblem(userId)}`);
  const secret = config.MNEMO_AUTH_SECRET;
  try {
    const token =
      userId === undefined
        ? await createAdminToken({ secret, expiresIn: expires === undefined ? undefined : parseLifetime(expires), tenant })
        : await createUserToken({ secret, userId, ttl: ttl === undefined ? undefined : parseLifetime(ttl), tenant });
    console.log(token);
  } catch (error) {
    fail(`${userId === undefined ? '--expires' : '--ttl'}: ${(error as Error).message}`);
  }
} else if (command === 'purge') {
  const graceMs = Number(values.grace ?? 0);
  if (!Number.isInteger(graceMs) || graceMs < 0) fail('--grace must be a whole number of milliseconds');
  const localDb = config.MONGODB_URI ? undefined : await startLocalDb({ dataDir: config.MNEMO_DATA_DIR, log: console.error });
  const core = createCore({
    mongoUri: config.MONGODB_URI ?? localDb!.uri,
    dbName: config.MNEMO_DB,
    retentionDays: config.MNEMO_RETENTION_DAYS,
  });
  try {
    const purged = await core.purge({ graceMs });
    console.log(`Retention expired ${purged.expired.sessions} sessions and ${purged.expired.messages} messages.`);
    console.log(`Purged ${purged.users} users, ${purged.sessions} sessions and ${purged.messages} messages.`);
  } finally {
    await core.close();
    await localDb?.stop();
  }
} else if (command === 'forget-user') {
  if (!values.user) fail('forget-user needs --user <userId>');
  const localDb = config.MONGODB_URI ? undefined : await startLocalDb({ dataDir: config.MNEMO_DATA_DIR, log: console.error });
  const core = createCore({ mongoUri: config.MONGODB_URI ?? localDb!.uri, dbName: config.MNEMO_DB });
  try {
    const gone = await core.users.forget({ userId: values.user });
    console.log(
      `Forgot user ${JSON.stringify(values.user)}: deleted ${gone.users} user, ${gone.sessions} sessions, ${gone.messages} messages and ${gone.searchDocuments} search documents.`,
    );
  } catch (error) {
    fail((error as Error).message);
  } finally {
    await core.close();
    await localDb?.stop();
  }
} else if (command === 'export' || command === 'import' || command === 'import-zep') {
  if (command === 'import-zep' && !values.url) fail("import-zep needs --url <the Zep server's base URL>");
  // `pnpm mnemo` runs in apps/server: paths are the caller's (pnpm passes its directory as INIT_CWD).
  const path = (file: string) => resolve(process.env.INIT_CWD ?? process.cwd(), file);
  const localDb = config.MONGODB_URI ? undefined : await startLocalDb({ dataDir: config.MNEMO_DATA_DIR, log: console.error });
  const core = createCore({
    mongoUri: config.MONGODB_URI ?? localDb!.uri,
    dbName: config.MNEMO_DB,
    embeddings: config.MNEMO_EMBEDDINGS_URL
      ? { url: config.MNEMO_EMBEDDINGS_URL, model: config.MNEMO_EMBEDDINGS_MODEL, apiKey: config.MNEMO_EMBEDDINGS_API_KEY }
      : undefined,
  });
  let lastReport = 0;
  const describe = ({ imported: i, skipped: s }: ImportResult) =>
    `${i.users} users, ${i.sessions} sessions and ${i.messages} messages imported; ` +
    `${s.users} users, ${s.sessions} sessions and ${s.messages} messages already there (skipped)`;
  const onProgress = (progress: ImportResult) => {
    if (Date.now() - lastReport < 1000) return;
    lastReport = Date.now();
    console.error(`… ${describe(progress)}`);
  };
  try {
    await core.init();
    if (command === 'export') {
      const file = values.out && path(values.out);
      // A file is written beside its name and renamed when complete: an interrupted export leaves no partial file.
      const out = file ? createWriteStream(`${file}.partial`) : process.stdout;
      try {
        const counts = await core.transfer.export(out, { userId: values.user });
        if (file) {
          out.end();
          await finished(out);
          await rename(`${file}.partial`, file);
        }
        console.error(
          `Exported ${counts.users} users, ${counts.sessions} sessions and ${counts.messages} messages${file ? ` to ${file}` : ''}.`,
        );
      } catch (error) {
        if (file) {
          out.destroy();
          await rm(`${file}.partial`, { force: true });
        }
        throw error;
      }
    } else {
      if (command === 'import' && !values.in && process.stdin.isTTY)
        console.error('Reading an export from stdin (pass --in <file> to read a file)…');
      const result =
        command === 'import'
          ? await core.transfer.import(values.in ? createReadStream(path(values.in)) : process.stdin, { onProgress })
          : await core.transfer.importZep({ url: values.url!, apiKey: values['api-key'], onProgress });
      console.log(`Done: ${describe(result)}.`);
    }
  } catch (error) {
    // Bad input or an unreachable Zep: the message says what and where; anything else is a bug, with its stack.
    const known =
      error instanceof DomainError ||
      error instanceof ZepImportError ||
      ['ENOENT', 'EACCES', 'EPIPE'].includes((error as { code?: string }).code!);
    console.error(known ? `${command} failed: ${(error as Error).message}` : error);
    process.exitCode = 1;
  } finally {
    await core.close();
    await localDb?.stop();
  }
} else if (command === 'move-to-postgres') {
  if (config.MONGODB_URI) fail('MONGODB_URI is set: Mnemo does not use a local database, so there is nothing to move.');
  const { counts, keptAt } = await moveSqliteToPostgres({ dataDir: config.MNEMO_DATA_DIR, log: console.error });
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(
    `Moved ${total} documents in ${Object.keys(counts).length} collections to PostgreSQL; the SQLite store is kept at ${keptAt}.`,
  );
} else {
  fail(command ? `unknown command: ${command}` : 'missing command');
}
