import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalDb } from './index';

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
});
