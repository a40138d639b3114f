import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { type LocalDbOptions, startLocalDb } from './index';
import { tempDataDir } from './testing';

/**
 * Vitest global setup: one real database server for the whole run (or MONGODB_URI when set).
 * global-setup-sqlite.ts starts FerretDB on SQLite instead, for the run of core's suite that keeps
 * the fallback working.
 */
export default function setup(project: TestProject) {
  return startFor(project);
}

export async function startFor(project: TestProject, ferretdbBackend?: LocalDbOptions['ferretdbBackend']) {
  if (process.env.MONGODB_URI) {
    project.provide('mongoUri', process.env.MONGODB_URI);
    project.provide('dbBackend', 'external');
    return;
  }
  const dataDir = tempDataDir('mnemo-test-db-');
  const db = await startLocalDb({ dataDir, durable: false, ferretdbBackend, log: (m) => console.log(`[local-db] ${m}`) });
  project.provide('mongoUri', db.uri);
  project.provide('dbBackend', db.backend);
  return async () => {
    await db.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
