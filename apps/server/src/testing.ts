/**
 * Test helper for this and other packages (`@mnemo/server/testing`): a real Mnemo server on a free
 * loopback port, on a fresh database of the test run's database server (vitest globalSetup's
 * `mongoUri`). `close()` stops it and drops the database.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type Core, createCore } from '@mnemo/core';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, inject } from 'vitest';
import { createApp } from './app';
import { type EnvInput, modelsConfig, parseEnv } from './env';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri')

export interface TestServerOptions {
  /** Turns auth on: requests then need `Authorization: Bearer <createToken(authSecret)>`. */
  authSecret?: string;
  /** MNEMO_MESSAGE_WINDOW (default 12). */
  messageWindow?: number;
  /** Any other variables, as strings (e.g. `{ MNEMO_MAX_BODY: '1024' }`). */
  env?: EnvInput;
}

export interface TestServer {
  /** e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  core: Core;
  app: FastifyInstance;
  close(): Promise<void>;
}

export async function startTestServer({ authSecret, messageWindow, env = {} }: TestServerOptions = {}): Promise<TestServer> {
  const config = parseEnv({
    LOG_LEVEL: 'silent',
    MNEMO_AUTH_SECRET: authSecret,
    MNEMO_MESSAGE_WINDOW: messageWindow?.toString(),
    ...env,
  });
  const core = createCore({
    mongoUri: inject('mongoUri'),
    dbName: `test_${randomUUID().slice(0, 8)}`,
    messageWindow: config.MNEMO_MESSAGE_WINDOW,
    retentionDays: config.MNEMO_RETENTION_DAYS,
    ...modelsConfig(config),
    singleWriter: inject('singleWriter') ?? true,
  });
  await core.init();
  await core.store.loaded();
  const app = createApp({ config, core });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    core,
    app,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        try {
          await core.idle();
          const drift = await core.store.verify();
          if (drift.length > 0) throw new Error(`memory differs from the database:\n${drift.join('\n')}`);
        } finally {
          await core.db.dropDatabase();
          await core.close();
        }
      })()),
  };
}

/** Starts a test server for this file (beforeAll) and closes it afterwards; returns a getter. */
export function useTestServer(options: TestServerOptions = {}): () => TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(options);
  });
  afterAll(() => server?.close());
  return () => server!;
}
