import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startLocalDb } from './index';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
  }
}

/** Vitest global setup: one real database server for the whole run (or MONGODB_URI when set). */
export default async function setup(project: TestProject) {
  if (process.env.MONGODB_URI) {
    project.provide('mongoUri', process.env.MONGODB_URI);
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'mnemo-test-db-'));
  const db = await startLocalDb({ dataDir, log: (m) => console.log(`[local-db] ${m}`) });
  project.provide('mongoUri', db.uri);
  return async () => {
    await db.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
