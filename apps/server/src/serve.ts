/**
 * `mnemo serve` (and `pnpm start`): start the local database unless MONGODB_URI is set → core (indexes) →
 * HTTP on HOST:PORT → purge schedule. SIGTERM/SIGINT shut down gracefully: stop accepting, finish in-flight
 * requests, close the database connection, stop the local database. A failure to start is one line on
 * stderr and an exit code (failures.ts), with whatever had started stopped again.
 */
import { createCore } from '@mnemo/core';
import { type LocalDb, startLocalDb } from '@mnemo/local-db';
import { createApp } from './app';
import { type Config, modelsConfig } from './env';
import { CliError, EXIT, explain } from './failures';
import { createLogger } from './logging';
import { createTenants } from './tenants';

export async function serve(config: Config): Promise<void> {
  const log = createLogger(config.LOG_LEVEL);

  let localDb: LocalDb | undefined;
  if (!config.MONGODB_URI) {
    log.info(`MONGODB_URI is not set: starting the local database in ${config.MNEMO_DATA_DIR}`);
    localDb = await startLocalDb({
      dataDir: config.MNEMO_DATA_DIR,
      log: (message) => log.info(message),
      warn: (message) => log.warn(message),
    });
  }
  const core = createCore({
    mongoUri: config.MONGODB_URI ?? localDb!.uri,
    dbName: config.MNEMO_DB,
    messageWindow: config.MNEMO_MESSAGE_WINDOW,
    retentionDays: config.MNEMO_RETENTION_DAYS,
    ...modelsConfig(config),
    log: (message, error) => log.warn({ err: error }, message),
    // The local database is ours alone (its data dir is locked): keep sessions and recent messages in memory.
    singleWriter: localDb !== undefined,
  });
  const tenants = createTenants(core);
  const app = createApp({ config, core, tenants, logger: log });

  try {
    await core.init();
    await app.listen({ host: config.HOST, port: config.PORT });
  } catch (error) {
    await app.close().catch(() => {});
    await core.close().catch(() => {});
    await localDb?.stop();
    const known = explain(error, { mongoUri: config.MONGODB_URI, host: config.HOST, port: config.PORT });
    if (known) throw known;
    log.fatal({ err: error }, 'Mnemo failed to start');
    throw new CliError(`Mnemo failed to start: ${(error as Error)?.message ?? error} (the log line above has the details)`, EXIT.failed);
  }

  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  log.info(`Mnemo is ready at http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`);
  if (!config.MNEMO_AUTH_SECRET) {
    log.warn('MNEMO_AUTH_SECRET is not set: authentication is OFF and anyone who can reach this port can read and write all data.');
  }

  // Purge schedule (retention first, then hard-deletion): once now, then every MNEMO_PURGE_EVERY minutes (0 = off).
  async function purge(): Promise<void> {
    try {
      for (const tenantCore of await tenants.all()) {
        const purged = await tenantCore.purge();
        log.info({ db: tenantCore.config.dbName, purged }, 'applied retention and purged soft-deleted records');
      }
    } catch (error) {
      log.error({ err: error }, 'purge failed');
    }
  }
  let purging = purge();
  const purgeTimer =
    config.MNEMO_PURGE_EVERY > 0 ? setInterval(() => (purging = purge()), config.MNEMO_PURGE_EVERY * 60_000).unref() : undefined;

  let shuttingDown = false;
  async function shutdown(signal: string): Promise<void> {
    if (shuttingDown) {
      log.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    shuttingDown = true;
    log.info(`${signal}: shutting down`);
    clearInterval(purgeTimer);
    try {
      // Stops accepting and waits for in-flight requests, for MNEMO_SHUTDOWN_TIMEOUT at most: then
      // the connections still open (a client trickling a body, say) are closed. Subscriptions end
      // first (app.ts, preClose).
      const closed = app.close();
      // A keep-alive connection that finishes its last request meanwhile would otherwise stay open.
      const idle = setInterval(() => app.server.closeIdleConnections(), 100);
      const timer = setTimeout(() => {
        log.warn(`requests still in flight after ${config.MNEMO_SHUTDOWN_TIMEOUT} s: closing their connections`);
        app.server.closeAllConnections();
      }, config.MNEMO_SHUTDOWN_TIMEOUT * 1000);
      await closed;
      clearInterval(idle);
      clearTimeout(timer);
      await purging;
      await core.close();
      await localDb?.stop();
      log.info('stopped');
      process.exit(0);
    } catch (error) {
      log.error({ err: error }, 'shutdown failed');
      process.exit(1);
    }
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
