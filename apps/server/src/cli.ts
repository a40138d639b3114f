/**
 * `pnpm mnemo <command>` (root script → `pnpm --filter @mnemo/server cli`):
 *   token [--expires <duration>]  print a bearer token: an HS256 JWT signed with MNEMO_AUTH_SECRET
 *   purge [--grace <ms>]          hard-delete soft-deleted records now, in the configured database
 *   move-to-postgres              move the local database's SQLite store into its PostgreSQL cluster
 * Configuration comes from the same environment variables as the server.
 */
import { parseArgs } from 'node:util';
import { createCore } from '@mnemo/core';
import { moveSqliteToPostgres, startLocalDb } from '@mnemo/local-db';
import { createToken } from './auth';
import { loadEnv } from './env';

const USAGE = `Usage: pnpm mnemo <command>
  token [--expires <duration>]  print a bearer token (an HS256 JWT signed with MNEMO_AUTH_SECRET);
                                --expires takes e.g. 30d, 12h or seconds; default: no expiry
  purge [--grace <ms>]          hard-delete records soft-deleted more than <ms> ago (default 0)
                                in the configured database (starts the local one when MONGODB_URI is unset;
                                stop the server first, or call admin.purge on the running server instead)
  move-to-postgres              with the server stopped: copy the local database's FerretDB SQLite store (from a
                                Mnemo before PostgreSQL was the default) into its PostgreSQL cluster, compare the
                                counts of every collection, and set the SQLite folder aside (kept, not deleted)`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

const { positionals, values } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { expires: { type: 'string' }, grace: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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
  const expiresIn = values.expires && /^\d+$/.test(values.expires) ? Number(values.expires) : values.expires;
  try {
    console.log(await createToken(config.MNEMO_AUTH_SECRET, { expiresIn }));
  } catch (error) {
    fail(`--expires: ${(error as Error).message}`);
  }
} else if (command === 'purge') {
  const graceMs = Number(values.grace ?? 0);
  if (!Number.isInteger(graceMs) || graceMs < 0) fail('--grace must be a whole number of milliseconds');
  const localDb = config.MONGODB_URI ? undefined : await startLocalDb({ dataDir: config.MNEMO_DATA_DIR, log: console.error });
  const core = createCore({ mongoUri: config.MONGODB_URI ?? localDb!.uri, dbName: config.MNEMO_DB });
  try {
    const purged = await core.purge({ graceMs });
    console.log(`Purged ${purged.users} users, ${purged.sessions} sessions and ${purged.messages} messages.`);
  } finally {
    await core.close();
    await localDb?.stop();
  }
} else if (command === 'move-to-postgres') {
  if (config.MONGODB_URI) fail('MONGODB_URI is set: Mnemo does not use a local database, so there is nothing to move.');
  const { counts, keptAt } = await moveSqliteToPostgres({ dataDir: config.MNEMO_DATA_DIR, log: console.error });
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(`Moved ${total} documents in ${Object.keys(counts).length} collections to PostgreSQL; the SQLite store is kept at ${keptAt}.`);
} else {
  fail(command ? `unknown command: ${command}` : 'missing command');
}
