/**
 * The lists of all users and of all sessions, in creation order, bounded per page on FerretDB too:
 * each user and session gets the next number of its collection (`listNo`, counted in `mnemo_meta`),
 * and a page reads the buckets of numbers after its cursor (db.ts, BUCKET_SIZE; paging.ts).
 */
import { bucketOf, type Collections, type SessionDoc, type UserDoc } from './db';
import { decodeCursor, toPage, walkBuckets } from './paging';
import type { Page } from './schemas';
import type { Serialize } from './serialize';

type ListName = 'users' | 'sessions';

export function createListing(c: Collections, serialize: Serialize) {
  return {
    /** The next list number of `name` and its bucket, as fields to store. */
    async next(name: ListName): Promise<{ listNo: number; listBucket: number }> {
      // Queued per process: FerretDB's $inc is a read-modify-write (serialize.ts).
      const counter = await serialize(`counter:${name}`, () =>
        c.meta.findOneAndUpdate({ _id: name }, { $inc: { last: 1 } }, { upsert: true, returnDocument: 'after' }),
      );
      const listNo = counter!.last!;
      return { listNo, listBucket: bucketOf(listNo) };
    },

    /** `count` (≥ 1) consecutive list numbers of `name` at once (imports, transfer.ts): the first of them. */
    async reserve(name: ListName, count: number): Promise<number> {
      const counter = await serialize(`counter:${name}`, () =>
        c.meta.findOneAndUpdate({ _id: name }, { $inc: { last: count } }, { upsert: true, returnDocument: 'after' }),
      );
      return counter!.last! - count + 1;
    },

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
