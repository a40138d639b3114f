import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { type Core, type CoreConfig, createCore } from '../index';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri', 'dbBackend')

/** A core on a database of its own for this test file, dropped afterwards. */
export function useTestCore(config: Partial<CoreConfig> = {}): () => Core {
  let core: Core | undefined;
  beforeAll(async () => {
    core = createCore({ mongoUri: inject('mongoUri'), dbName: `test_${randomUUID().slice(0, 8)}`, ...config });
    await core.init();
  });
  afterAll(async () => {
    await core?.db.dropDatabase();
    await core?.close();
  });
  return () => core!;
}
