import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { type Core, type CoreConfig, createCore } from '../index';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri', 'dbBackend')

/**
 * A core on a database of its own for this test file, dropped afterwards; a single writer (as on
 * the local database) unless the project says otherwise. Afterwards, what the core holds in memory
 * must still be what the database holds (store/).
 */
export function useTestCore(config: Partial<CoreConfig> = {}): () => Core {
  let core: Core | undefined;
  beforeAll(async () => {
    core = createCore({
      mongoUri: inject('mongoUri'),
      dbName: `test_${randomUUID().slice(0, 8)}`,
      singleWriter: inject('singleWriter') ?? true,
      ...config,
    });
    await core.init();
    await core.store.loaded(); // so that a single writer's tests run on what it holds in memory
  });
  afterAll(async () => {
    try {
      await core?.idle();
      const drift = (await core?.store.verify()) ?? [];
      if (drift.length > 0) throw new Error(`memory differs from the database:\n${drift.join('\n')}`);
    } finally {
      await core?.db.dropDatabase();
      await core?.close();
    }
  });
  return () => core!;
}
