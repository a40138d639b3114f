/**
 * Group commit (group-commit.ts): inserts that come together go out as one command, and each caller
 * learns the fate of its own documents, never another's.
 */
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createGroupCommit, PartialInsertError } from './group-commit';

interface Doc {
  _id: string;
  n: number;
}

const dbName = `test_${randomUUID().slice(0, 8)}`;
const clients: MongoClient[] = [];
const open = async (uri: string) => {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 3000 });
  clients.push(client);
  await client.connect();
  return client.db(dbName).collection<Doc>('docs');
};
afterAll(async () => {
  await clients[0]?.db(dbName).dropDatabase();
  for (const client of clients) await client.close();
});

describe('group commit', () => {
  it('batches what comes while an insert is under way, and fails only the callers whose documents failed', async () => {
    const docs = await open(inject('mongoUri'));
    const insert = createGroupCommit(docs);
    await docs.insertOne({ _id: 'taken', n: 0 });
    const results = await Promise.allSettled([
      insert([{ _id: 'a1', n: 1 }]),
      insert([{ _id: 'a2', n: 2 }]),
      insert([{ _id: 'a3', n: 3 }]),
      insert([
        { _id: 'b1', n: 4 },
        { _id: 'taken', n: 5 },
        { _id: 'b2', n: 6 },
      ]),
      insert([{ _id: 'c1', n: 7 }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const refused = (results[3] as PromiseRejectedResult).reason;
    expect(refused).toBeInstanceOf(PartialInsertError);
    expect((refused as PartialInsertError).failed).toEqual([1]);
    expect((await docs.find({}).sort({ n: 1 }).toArray()).map((d) => d._id)).toEqual(['taken', 'a1', 'a2', 'a3', 'b1', 'b2', 'c1']);
  });

  it('fails the callers of a batch whose connection dropped, and acknowledges only what is stored', async () => {
    // A proxy to the database whose connections the test cuts while the batch is on its way.
    const [, host, port] = /^mongodb:\/\/([^:/]+):(\d+)/.exec(inject('mongoUri'))!;
    const sockets = new Set<Socket>();
    let forwarded = 0;
    const proxy = createServer((client) => {
      const server = connect(Number(port), host!);
      for (const s of [client, server]) {
        sockets.add(s);
        s.on('error', () => {});
      }
      client.on('data', (chunk) => {
        forwarded += chunk.length;
        server.write(chunk);
      });
      server.pipe(client);
    });
    await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
    try {
      const docs = await open(`mongodb://127.0.0.1:${(proxy.address() as { port: number }).port}/`);
      const insert = createGroupCommit(docs);
      const big = (prefix: string) => Array.from({ length: 2000 }, (_, i) => ({ _id: `${prefix}${i}`, n: i }));
      const before = forwarded;
      const batches = [big('x'), big('y'), big('z')];
      const pending = batches.map((batch) =>
        insert(batch).then(
          () => 'stored',
          () => 'failed',
        ),
      );
      await expect.poll(() => forwarded - before, { interval: 1 }).toBeGreaterThan(1000);
      for (const s of sockets) s.destroy();
      const outcomes = await Promise.all(pending);
      expect(outcomes[0]).toBe('failed'); // on its way when the connection dropped
      // Later batches go out on new connections; whatever was acknowledged is there, all of it.
      const stored = await (await open(inject('mongoUri'))).find({}, { projection: { _id: 1 } }).toArray();
      const ids = new Set(stored.map((d) => d._id));
      for (const [i, outcome] of outcomes.entries()) if (outcome === 'stored') expect(batches[i]!.every((d) => ids.has(d._id))).toBe(true);
    } finally {
      proxy.close();
    }
  });
});
