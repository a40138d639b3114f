/**
 * Tenants (projects): a token's `tenant` claim (auth.ts) picks a database of its own,
 * `${MNEMO_DB}_t_${tenant}`, opened on the same connection and given its indexes on first use.
 * Nothing one tenant does is visible to another; the default tenant (no claim) is MNEMO_DB itself.
 */
import { type Core, createCore } from '@mnemo/core';

export const tenantDbName = (dbName: string, tenant: string) => `${dbName}_t_${tenant}`;

export function createTenants(main: Core) {
  const opened = new Map<string, Promise<Core>>();
  const prefix = tenantDbName(main.config.dbName, '');

  function get(tenant: string | null): Promise<Core> {
    if (tenant === null) return Promise.resolve(main);
    let core = opened.get(tenant);
    if (!core) {
      const created = createCore({ ...main.config, dbName: tenantDbName(main.config.dbName, tenant) }, main.client);
      core = created.init().then(() => created);
      core.catch(() => opened.delete(tenant)); // a failed first use is tried again next time
      opened.set(tenant, core);
    }
    return core;
  }

  return {
    get,
    /** Every tenant's core, the default one first: those in the database, and any opened since (the purge schedule). */
    async all(): Promise<Core[]> {
      const { databases } = await main.db.admin().listDatabases({ nameOnly: true });
      const names = new Set([
        ...databases
          .map((d) => d.name)
          .filter((n) => n.startsWith(prefix))
          .map((n) => n.slice(prefix.length)),
        ...opened.keys(),
      ]);
      return [main, ...(await Promise.all([...names].map(get)))];
    },
    /** Ends every tenant's subscriptions and background work (their connection is the main core's). */
    async close(): Promise<void> {
      await Promise.all(
        [...opened.values()].map((core) =>
          core.then(
            (c) => c.close(),
            () => {},
          ),
        ),
      );
    },
  };
}

export type Tenants = ReturnType<typeof createTenants>;
