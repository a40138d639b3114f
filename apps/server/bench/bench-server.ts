/** What the benchmarks of a running Mnemo share (`@mnemo/server/bench`). */
import type { AddressInfo } from 'node:net';
import type { Core } from '@mnemo/core';
import { withBenchCore } from '@mnemo/core/bench';
import type { LocalDb } from '@mnemo/local-db';
import { createApp } from '../src/app';
import { parseEnv } from '../src/env';

/**
 * Runs `run` against Mnemo served from this process (`createApp`, as `pnpm start` does) on a free
 * loopback port, on a fresh core and database (`withBenchCore`), all of it cleaned up after;
 * `webDir`: the web UI it serves.
 */
export function withBenchServer(
  name: string,
  run: (server: { url: string; core: Core; db: LocalDb | undefined }) => Promise<void>,
  { durable, webDir }: { durable?: boolean; webDir?: string } = {},
): Promise<void> {
  return withBenchCore(
    name,
    async (core, db) => {
      const app = createApp({ config: parseEnv({ LOG_LEVEL: 'warn' }), core, webDir });
      try {
        await app.listen({ host: '127.0.0.1', port: 0 });
        await run({ url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, core, db });
      } finally {
        await app.close();
      }
    },
    { durable },
  );
}
