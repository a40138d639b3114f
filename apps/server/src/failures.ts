/**
 * What the `mnemo` command says when it cannot do its job: one line on stderr, `mnemo: <what failed and how to
 * fix it>`, and an exit code that tells scripts which kind of failure it was (docs/cli.md):
 *   1 the command failed (bad input, an unexpected error: that one also prints its stack)
 *   2 the command line is wrong (unknown command or option, missing argument)
 *   3 the configuration is wrong (an environment variable's value, an unusable MNEMO_DATA_DIR)
 *   4 the database cannot be reached (MONGODB_URI) or the local database did not start
 *   5 the server cannot listen on HOST:PORT (in use, not allowed, not an address of this machine)
 */
import { isDatabaseUnavailable } from '@mnemo/core';
import { ConfigError } from './env';

export const EXIT = { ok: 0, failed: 1, usage: 2, config: 3, database: 4, listen: 5 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure whose message is already meant for people. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

/** `mongodb://user:secret@host/db` → `mongodb://user:***@host/db`. */
export const maskUri = (uri: string) => uri.replace(/^(\w[\w+.-]*:\/\/[^:/@]*:)[^@/]*@/, '$1***@');

/** The first line of an error's message, without the driver's long tails. */
const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split('\n')[0]!;

/**
 * A start-up failure as a CliError, when it is one people can fix; undefined for anything else (a bug).
 * `mongoUri` is MONGODB_URI when set (a local database's failure names the data dir instead).
 */
export function explain(
  error: unknown,
  { mongoUri, host, port }: { mongoUri?: string; host?: string; port?: number } = {},
): CliError | undefined {
  if (error instanceof CliError) return error;
  if (error instanceof ConfigError) return new CliError(error.message, EXIT.config);
  const name = (error as Error)?.name;
  // The local database's own errors say what to do (install PostgreSQL, chmod a folder, …).
  if (name === 'DataDirError') return new CliError((error as Error).message, EXIT.config);
  if (name === 'LocalDbError') return new CliError(`the local database did not start: ${(error as Error).message}`, EXIT.database);
  const code = (error as { code?: unknown })?.code;
  if (host !== undefined && port !== undefined && typeof code === 'string') {
    const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (code === 'EADDRINUSE')
      return new CliError(
        `cannot listen on ${where}: the port is in use (by another Mnemo?); stop that program or set PORT to another port (PORT=0 picks a free one)`,
        EXIT.listen,
      );
    if (code === 'EACCES')
      return new CliError(
        `cannot listen on ${where}: not allowed (ports below 1024 need privileges); set PORT to 1024 or more`,
        EXIT.listen,
      );
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      return new CliError(
        `cannot listen on ${where}: HOST is not an address of this machine; try HOST=127.0.0.1 or HOST=0.0.0.0`,
        EXIT.listen,
      );
  }
  if (mongoUri && (isDatabaseUnavailable(error) || name === 'MongoParseError' || /auth/i.test(name ?? ''))) {
    const reason = firstLine(error).replace(/^Server selection timed out after \d+ ms$/, 'no answer');
    return new CliError(
      `cannot reach the database at ${maskUri(mongoUri)} (MONGODB_URI): ${reason}; is it running and reachable from here? ` +
        'Unset MONGODB_URI to use the local database instead',
      EXIT.database,
    );
  }
  return undefined;
}
