/** Opaque keyset cursors: the last key of a page, base64url-encoded. */
import { ObjectId } from 'mongodb';
import { ValidationError } from './errors';
import type { Page } from './schemas';

export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * The cursor of a session's message list that continues after message number `seq` (newest first:
 * before it), for APIs that page from a message's id (OpenAI's `after`) rather than from a cursor.
 */
export const messageCursor = (seq: number): string => encodeCursor(seq);

export function decodeCursor<T extends 'string' | 'number'>(
  cursor: string | null | undefined,
  type: T,
): (T extends 'string' ? string : number) | undefined {
  if (cursor == null) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (typeof key === type) return key as T extends 'string' ? string : number;
  } catch {
    // fall through
  }
  throw new ValidationError('cursor: not a cursor returned by a previous page');
}

/** Turns `limit + 1` fetched documents into a page whose cursor is the last item's key. */
export function toPage<D, T>(docs: D[], limit: number, key: (doc: D) => string | number, map: (doc: D) => T): Page<T> {
  const more = docs.length > limit;
  const items = more ? docs.slice(0, limit) : docs;
  return { items: items.map(map), nextCursor: more ? encodeCursor(key(items.at(-1)!)) : null };
}

/**
 * Reads buckets (db.ts, BUCKET_SIZE) one equality query at a time, from bucket `from` to bucket `to`
 * (`order` 'desc': downwards), keeping the documents `keep` accepts, ordered by `key` the same way,
 * until `enough` are had.
 */
export async function walkBuckets<D>(
  read: (bucket: number) => Promise<readonly D[]>,
  key: (doc: D) => number,
  {
    from,
    to,
    order = 'asc',
    keep = () => true,
    enough,
  }: { from: number; to: number; order?: 'asc' | 'desc'; keep?: (doc: D) => boolean; enough: number },
): Promise<D[]> {
  const step = order === 'desc' ? -1 : 1;
  const docs: D[] = [];
  for (let bucket = from; docs.length < enough && bucket * step <= to * step; bucket += step) {
    docs.push(...(await read(bucket)).filter(keep).sort((x, y) => step * (key(x) - key(y))));
  }
  return docs.slice(0, enough);
}

/** Cursor of lists ordered by `_id` (a user's sessions). */
export function objectIdCursor(cursor: string | null | undefined): ObjectId | undefined {
  const key = decodeCursor(cursor, 'string');
  if (key === undefined) return undefined;
  if (!ObjectId.isValid(key)) throw new ValidationError('cursor: not a cursor returned by a previous page');
  return new ObjectId(key);
}
