/**
 * Reads of a session's live messages a bucket at a time (db.ts, BUCKET_SIZE).
 *
 * On a single-writer store (index.ts, CoreConfig.singleWriter) the buckets read or written lately
 * are kept in memory, least recently used dropped first past `capacity` messages: the process is
 * the only writer, so what it holds is exact as long as every write of a session's messages tells
 * this store (`appended`, `changed`, or `invalidate` for anything else). Get-memory and the pages
 * of an active session then cost no database command. A read that was in flight while the session
 * was written is answered but not kept (it may predate the write). Elsewhere (MONGODB_URI: other
 * instances may write) every read goes to the database and the notices do nothing.
 */
import { BUCKET_SIZE, bucketKey, bucketOf, type Collections, live, type MessageDoc } from '../db';

export interface BucketStore {
  /** The live messages of bucket `bucket` of the session, in no particular order. */
  read(sessionId: string, bucket: number): Promise<MessageDoc[]>;
  /**
   * The bucket's live messages when this store holds them (a single writer's cache), else undefined: no
   * copy and no await, for reads that only filter them (never to be changed).
   */
  held(sessionId: string, bucket: number): readonly MessageDoc[] | undefined;
  /** Live messages just stored, all numbered above `previousLastSeq` (the session's last seq before them). */
  appended(sessionId: string, docs: MessageDoc[], previousLastSeq: number): void;
  /** A message changed in place, as it now is (soft-deleted ones leave). */
  changed(doc: MessageDoc): void;
  /** Any other write to the session's messages. */
  invalidate(sessionId: string): void;
  /**
   * A number that changes with every write of the session's messages told to this store, on a single
   * writer (what is computed from its messages may be kept while it stays); undefined elsewhere.
   */
  version(sessionId: string): number | undefined;
  /** The cached buckets that differ from the database (tests). */
  verify(): Promise<string[]>;
}

const readFromDb = (c: Collections, sessionId: string, bucket: number) =>
  c.messages.find({ bucket: bucketKey(sessionId, bucket), ...live }).toArray(); // messages_bucket

export function createBucketStore(c: Collections, { singleWriter, capacity }: { singleWriter: boolean; capacity: number }): BucketStore {
  if (!singleWriter) {
    return {
      read: (sessionId, bucket) => readFromDb(c, sessionId, bucket),
      held: () => undefined,
      appended() {},
      changed() {},
      invalidate() {},
      version: () => undefined,
      verify: async () => [],
    };
  }

  /** By bucket key, least recently used first (a Map keeps insertion order). */
  const cached = new Map<string, { sessionId: string; bucket: number; docs: MessageDoc[] }>();
  const keysOf = new Map<string, Set<string>>();
  /**
   * Bumped by every write of a session's messages: a read that saw it change is not kept. Kept for
   * every session written since start (a number each).
   */
  const version = new Map<string, number>();
  let size = 0;

  const touch = (sessionId: string) => version.set(sessionId, (version.get(sessionId) ?? 0) + 1);
  const drop = (key: string) => {
    const entry = cached.get(key);
    if (!entry) return;
    cached.delete(key);
    size -= entry.docs.length;
    const keys = keysOf.get(entry.sessionId)!;
    keys.delete(key);
    if (keys.size === 0) keysOf.delete(entry.sessionId);
  };
  const keep = (sessionId: string, bucket: number, docs: MessageDoc[]) => {
    const key = bucketKey(sessionId, bucket);
    drop(key);
    cached.set(key, { sessionId, bucket, docs });
    size += docs.length;
    let keys = keysOf.get(sessionId);
    if (!keys) keysOf.set(sessionId, (keys = new Set()));
    keys.add(key);
    for (const oldest of cached.keys()) {
      if (size <= capacity || oldest === key) break;
      drop(oldest);
    }
  };

  return {
    async read(sessionId, bucket) {
      const key = bucketKey(sessionId, bucket);
      const hit = cached.get(key);
      if (hit) {
        cached.delete(key);
        cached.set(key, hit);
        return [...hit.docs];
      }
      const before = version.get(sessionId) ?? 0;
      const docs = await readFromDb(c, sessionId, bucket);
      if ((version.get(sessionId) ?? 0) === before && !cached.has(key)) keep(sessionId, bucket, docs);
      return [...docs];
    },

    held(sessionId, bucket) {
      const key = bucketKey(sessionId, bucket);
      const hit = cached.get(key);
      if (!hit) return undefined;
      cached.delete(key);
      cached.set(key, hit);
      return hit.docs;
    },

    appended(sessionId, docs, previousLastSeq) {
      touch(sessionId);
      const byBucket = new Map<number, MessageDoc[]>();
      for (const d of docs) byBucket.set(bucketOf(d.seq), [...(byBucket.get(bucketOf(d.seq)) ?? []), d]);
      for (const [bucket, added] of byBucket) {
        const entry = cached.get(bucketKey(sessionId, bucket));
        if (entry) keep(sessionId, bucket, [...entry.docs, ...added]);
        // A bucket that starts after the previous last message holds only these.
        else if (Math.max(1, bucket * BUCKET_SIZE) > previousLastSeq) keep(sessionId, bucket, added);
      }
    },

    changed(doc) {
      touch(doc.sessionId);
      const key = bucketKey(doc.sessionId, bucketOf(doc.seq));
      const entry = cached.get(key);
      if (!entry) return;
      const others = entry.docs.filter((d) => !d._id.equals(doc._id));
      if (doc.deletedAt === null) keep(doc.sessionId, bucketOf(doc.seq), [...others, doc]);
      else keep(doc.sessionId, bucketOf(doc.seq), others);
    },

    invalidate(sessionId) {
      touch(sessionId);
      for (const key of [...(keysOf.get(sessionId) ?? [])]) drop(key);
    },

    version: (sessionId) => version.get(sessionId) ?? 0,

    async verify() {
      const problems: string[] = [];
      const canonical = (docs: MessageDoc[]) => JSON.stringify([...docs].sort((a, b) => a.seq - b.seq));
      for (const [key, { sessionId, bucket, docs }] of cached) {
        const stored = await readFromDb(c, sessionId, bucket);
        if (canonical(stored) !== canonical(docs))
          problems.push(`bucket ${JSON.stringify(key)}: cached ${canonical(docs)}, stored ${canonical(stored)}`);
      }
      return problems;
    },
  };
}
