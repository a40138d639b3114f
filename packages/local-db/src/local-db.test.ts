import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LocalDbError, startLocalDb } from './index';

const dataDir = mkdtempSync(join(tmpdir(), 'mnemo-local-db-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function withClient<T>(uri: string, use: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1000 });
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

describe('local database', () => {
  it('starts on a loopback port, stops cleanly, and keeps its data across restarts', async () => {
    const first = await startLocalDb({ dataDir });
    expect(first.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
    await withClient(first.uri, (c) => c.db('persist').collection('things').insertOne({ name: 'kept' }));
    await first.stop();
    await expect(withClient(first.uri, (c) => c.db('admin').command({ ping: 1 }))).rejects.toThrow();

    const second = await startLocalDb({ dataDir });
    try {
      const doc = await withClient(second.uri, (c) => c.db('persist').collection('things').findOne({}));
      expect(doc?.name).toBe('kept');
    } finally {
      await second.stop();
    }
  });

  it('says what to install or set when there is no mongod, no FerretDB build and no Go', async () => {
    vi.stubEnv('PATH', '/nonexistent');
    const toolsDir = mkdtempSync(join(tmpdir(), 'mnemo-no-tools-'));
    try {
      const attempt = startLocalDb({ dataDir: join(dataDir, 'never'), toolsDir });
      await expect(attempt).rejects.toBeInstanceOf(LocalDbError);
      await expect(attempt).rejects.toThrow(/MONGODB_URI.*mongod.*Go/s);
    } finally {
      vi.unstubAllEnvs();
      rmSync(toolsDir, { recursive: true, force: true });
    }
  });
});
