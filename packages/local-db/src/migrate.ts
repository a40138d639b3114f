/**
 * Moves a FerretDB SQLite store (from a Mnemo before PostgreSQL became the default) into the
 * private PostgreSQL cluster: every database, collection, index and document, with the counts of
 * each collection compared before the SQLite folder is renamed aside (kept, never deleted), after
 * which `startLocalDb` uses PostgreSQL. Run it with Mnemo stopped; running it again after a
 * failure starts over.
 */
import { renameSync } from 'node:fs';
import { MongoClient, type Document } from 'mongodb';
import { hasSqliteStore, type LocalDbOptions, sqliteStoreDir, startLocalDb } from './index';
import { LocalDbError } from './process';

const SYSTEM_DATABASES = new Set(['admin', 'config', 'local']);
const BATCH = 1000;

export interface MoveReport {
  /** `database.collection` → documents copied (and verified). */
  counts: Record<string, number>;
  /** Where the SQLite store was moved aside to. */
  keptAt: string;
}

export async function moveSqliteToPostgres(options: Omit<LocalDbOptions, 'ferretdbBackend'>): Promise<MoveReport> {
  const { dataDir, log = () => {} } = options;
  if (!hasSqliteStore(dataDir)) throw new LocalDbError(`There is no FerretDB SQLite store in ${sqliteStoreDir(dataDir)} to move.`);
  const from = await startLocalDb({ ...options, ferretdbBackend: 'sqlite' });
  if (from.backend === 'mongod') {
    await from.stop();
    throw new LocalDbError('mongod is on PATH, so Mnemo uses it: move the SQLite store with mongod off PATH.');
  }
  const to = await startLocalDb({ ...options, ferretdbBackend: 'postgresql' }).catch(async (error: unknown) => {
    await from.stop();
    throw error;
  });
  const source = new MongoClient(from.uri);
  const target = new MongoClient(to.uri);
  const counts: Record<string, number> = {};
  try {
    const { databases } = await source.db('admin').admin().listDatabases({ nameOnly: true });
    for (const { name } of databases.filter((d) => !SYSTEM_DATABASES.has(d.name))) {
      const sdb = source.db(name);
      const tdb = target.db(name);
      await tdb.dropDatabase(); // what an interrupted earlier attempt left
      for (const { name: coll } of await sdb.listCollections({}, { nameOnly: true }).toArray()) {
        for (const { key, name: indexName, unique } of await sdb.collection(coll).listIndexes().toArray()) {
          if (indexName !== '_id_') await tdb.collection(coll).createIndex(key as Document, { name: indexName, unique });
        }
        // promoteValues: false keeps every BSON type as stored (an Int32 stays an Int32, a Double a Double).
        const batch: Document[] = [];
        for await (const doc of sdb.collection(coll).find({}, { promoteValues: false, batchSize: BATCH })) {
          batch.push(doc);
          if (batch.length === BATCH) await tdb.collection(coll).insertMany(batch.splice(0));
        }
        if (batch.length > 0) await tdb.collection(coll).insertMany(batch);
        const [expected, copied] = await Promise.all([sdb.collection(coll).countDocuments(), tdb.collection(coll).countDocuments()]);
        if (copied !== expected)
          throw new LocalDbError(`${name}.${coll}: copied ${copied} of ${expected} documents; the SQLite store stays in use.`);
        counts[`${name}.${coll}`] = copied;
        log(`Moved ${name}.${coll}: ${copied} documents`);
      }
    }
  } finally {
    await source.close();
    await target.close();
    await to.stop();
    await from.stop();
  }
  const keptAt = `${sqliteStoreDir(dataDir)}-sqlite-moved-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  renameSync(sqliteStoreDir(dataDir), keptAt);
  return { counts, keptAt };
}
