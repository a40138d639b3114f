/**
 * Group commit for inserts: documents that callers insert while the inserts into the same
 * collection already under way (IN_FLIGHT of them) are being written wait for one of them to end and
 * then go out together, as one unordered `insertMany`.
 *
 * Why: a database command has a fixed cost that dwarfs its per-document cost. On FerretDB v1 (the
 * default local database) an insert command costs ~0.75 ms of database CPU plus ~0.1 ms per
 * document, so 16 concurrent appends of 2 messages cost 16 × 0.95 ms one by one and ~4 ms together;
 * the driver's cost per command shrinks the same way. An insert into an idle collection goes out at
 * once, so nobody waits for a batch to fill; with more than one in flight, a slow commit (a busy
 * disk, a busy machine) does not hold all the others. Valid on any number of server instances: it
 * only changes how inserts travel, not what they do.
 */
import { type Collection, type Document, MongoBulkWriteError, type OptionalUnlessRequiredId } from 'mongodb';

/** Some of a caller's documents were not stored; `failed` are their indexes in the caller's own list. */
export class PartialInsertError extends Error {
  constructor(
    readonly failed: number[],
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'PartialInsertError';
  }
}

/** Above this many documents a batch is cut, so one command stays a reasonable size. */
const MAX_BATCH_DOCS = 1000;
/** Inserts written at once per collection; callers that come while all are busy are batched. */
const IN_FLIGHT = 2;

interface Waiting<D> {
  docs: D[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * `insert(docs)` resolves once all of `docs` are stored; it rejects with a PartialInsertError
 * naming the ones that were not (a duplicate key, say: the others of the batch are stored), or with
 * the command's error when the command itself failed.
 */
export function createGroupCommit<D extends Document>(collection: Collection<D>) {
  const queue: Waiting<D>[] = [];
  let writing = 0;

  async function write(batch: Waiting<D>[]): Promise<void> {
    const docs = batch.flatMap((w) => w.docs);
    try {
      await collection.insertMany(docs as OptionalUnlessRequiredId<D>[], { ordered: false });
      for (const w of batch) w.resolve();
    } catch (error) {
      // Per document only when the command ran and says what became of each document (duplicate
      // keys); a dropped connection is also reported as a bulk write error, with no write errors:
      // then nothing is known to be stored.
      const writeErrors = error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : [];
      const accounted = error instanceof MongoBulkWriteError && error.insertedCount + writeErrors.length === docs.length;
      if (!accounted || writeErrors.length === 0) {
        for (const w of batch) w.reject(error);
        return;
      }
      const failed = new Set(writeErrors.map((e) => e.index));
      let start = 0;
      for (const w of batch) {
        const mine = w.docs.flatMap((_, i) => (failed.has(start + i) ? [i] : []));
        start += w.docs.length;
        if (mine.length === 0) w.resolve();
        else w.reject(new PartialInsertError(mine, error));
      }
    }
  }

  /** One writer: writes what is queued, batch after batch, until nothing is. */
  async function drain(): Promise<void> {
    writing++;
    while (queue.length > 0) {
      let size = 0;
      const cut = queue.findIndex((w) => (size += w.docs.length) > MAX_BATCH_DOCS);
      const batch = queue.splice(0, cut > 0 ? cut : cut === 0 ? 1 : queue.length);
      await write(batch);
    }
    writing--;
  }

  return function insert(docs: D[]): Promise<void> {
    if (docs.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      queue.push({ docs, resolve, reject });
      if (writing < IN_FLIGHT) void drain();
    });
  };
}

export type GroupCommit<D extends Document> = ReturnType<typeof createGroupCommit<D>>;
