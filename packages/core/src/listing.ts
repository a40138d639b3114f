/**
 * The lists of all users and of all sessions, in creation order, bounded per page on FerretDB too:
 * each user and session gets the next number of its collection (`listNo`, counted in `mnemo_meta`),
 * and a page reads the buckets of numbers after its cursor (db.ts, BUCKET_SIZE; paging.ts).
 *
 * A process takes numbers from `mnemo_meta` a bucket's worth at a time (BUCKET_SIZE) and hands
 * them out itself, so creating a user or a session costs no counter round trip. With several
 * instances, each hands out its own block: numbers then follow creation order within an instance,
 * and across instances to within a block; numbers a process never handed out (it stopped) are gaps,
 * which lists skip.
 */
import { BUCKET_SIZE, bucketOf, type Collections, type SessionDoc, type UserDoc } from './db';
import { decodeCursor, toPage, walkBuckets } from './paging';
import type { Page } from './schemas';
import type { Serialize } from './serialize';

type ListName = 'users' | 'sessions';

export function createListing(c: Collections, serialize: Serialize) {
  /** `count` (≥ 1) consecutive numbers of `name` from the counter: the first of them. */
  async function reserve(name: ListName, count: number): Promise<number> {
    // Queued per process: FerretDB's $inc is a read-modify-write (serialize.ts).
    const counter = await serialize(`counter:${name}`, () =>
      c.meta.findOneAndUpdate({ _id: name }, { $inc: { last: count } }, { upsert: true, returnDocument: 'after' }),
    );
    return counter!.last! - count + 1;
  }
  /** Numbers of this process's current block not handed out yet, per list: [next, end). */
  const blocks = new Map<ListName, Promise<{ next: number; end: number }>>();

  return {
    /** The next list number of `name` and its bucket, as fields to store. */
    async next(name: ListName): Promise<{ listNo: number; listBucket: number }> {
      for (;;) {
        const pending = blocks.get(name);
        const block = pending && (await pending);
        if (block && block.next < block.end) {
          const listNo = block.next++;
          return { listNo, listBucket: bucketOf(listNo) };
        }
        // Empty: one refill for every caller that finds it so (the others wait for it, then loop).
        if (blocks.get(name) === pending) {
          const refill = reserve(name, BUCKET_SIZE).then((first) => ({ next: first, end: first + BUCKET_SIZE }));
          blocks.set(name, refill);
          refill.catch(() => blocks.get(name) === refill && blocks.delete(name));
        }
      }
    },

    /** `count` (≥ 1) consecutive list numbers of `name` at once (imports, transfer.ts): the first of them. */
    reserve,

    /** A keyset page of the live documents of `name`, oldest first (or newest first: 'desc'); `read` fetches one bucket's. */
    async page<D extends UserDoc | SessionDoc, T>(
      name: ListName,
      { limit, cursor, order = 'asc' }: { limit: number; cursor?: string | null; order?: 'asc' | 'desc' },
      read: (bucket: number) => Promise<D[]>,
      map: (doc: D) => T,
    ): Promise<Page<T>> {
      const key = decodeCursor(cursor, 'number');
      const last = (await c.meta.findOne({ _id: name }))?.last ?? 0;
      const docs =
        order === 'desc'
          ? await walkBuckets(read, (d) => d.listNo!, {
              from: bucketOf(key === undefined ? last : key - 1),
              to: 0,
              order: 'desc',
              keep: (d) => key === undefined || d.listNo! < key,
              enough: limit + 1,
            })
          : await walkBuckets(read, (d) => d.listNo!, {
              from: bucketOf((key ?? 0) + 1),
              to: bucketOf(last),
              keep: (d) => d.listNo! > (key ?? 0),
              enough: limit + 1,
            });
      return toPage(docs, limit, (d) => d.listNo!, map);
    },
  };
}

export type Listing = ReturnType<typeof createListing>;
