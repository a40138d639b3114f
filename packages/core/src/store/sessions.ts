/**
 * Where the services read session documents, and how they keep what they read exact.
 *
 * On a shared database (MONGODB_URI: several server instances may write) every read is a query.
 * On a single-writer store (the local database, which one Mnemo process owns: index.ts,
 * CoreConfig.singleWriter) every session document is also held in memory, loaded at start and
 * replaced after each write by the document the write returned (`stored`; `reload` re-reads those a
 * write did not return). Reads by id are then free, and every session list is a walk of in-memory
 * indexes in its sort order — all sessions and each user's, by creation (`listNo`) and by activity
 * (`lastActiveAt`, `listNo`) — filtered in memory (the metadata filter by search/filter.ts's
 * `compileFilter`, MongoDB's semantics), so a page costs O(page) however many sessions match, and
 * its total one pass over the sessions it covers. On FerretDB the same lists sort and filter every
 * matching session in FerretDB itself (seconds at 100,000 sessions). The database stays the
 * durable copy: every write still goes there first.
 */
import type { Filter } from 'mongodb';
import type { z } from 'zod';
import { type Collections, live, type SessionDoc } from '../db';
import { ValidationError } from '../errors';
import type { Listing } from '../listing';
import { decodeCursor, encodeCursor, toPage } from '../paging';
import type { ListSessionsInput } from '../schemas';
import { compileFilter, isEmptyFilter } from '../search/filter';
import { createHeads } from './heads';
import { type Serialize, sessionKey } from '../serialize';

export type SessionQuery = z.output<typeof ListSessionsInput>;

export interface SessionPageDocs {
  docs: SessionDoc[];
  nextCursor: string | null;
  total?: number;
}

export interface SessionStore {
  /** Whether every session is held in memory (single-writer). */
  readonly inMemory: boolean;
  /** The session's document, live or soft-deleted; null when there is none. */
  get(sessionId: string): Promise<SessionDoc | null>;
  /** The session's document while it is live; null otherwise. */
  live(sessionId: string): Promise<SessionDoc | null>;
  /** A user's live sessions, or all of them (soft-deleted too) with `withDeleted`. */
  ofUser(userId: string, options?: { withDeleted?: boolean }): Promise<SessionDoc[]>;
  /** A page of a session list, with its total when asked for. */
  list(q: SessionQuery): Promise<SessionPageDocs>;
  /**
   * An append of `count` messages holding `termLength` search terms to a live session, applied to
   * its head in memory only (heads.ts; under the session's lock): the document as it now is. Null
   * where the append must be written through: no such live session, or nothing in memory.
   */
  advance(sessionId: string, count: number, termLength: number, now: Date, oldest?: Date): Promise<SessionDoc | null>;
  /** Before any other write of a session's document or messages (under its lock): its head written, if it lags. */
  settle(sessionId: string): Promise<void>;
  /** Every session's head written (exports, imports, retention). */
  settleAll(): Promise<void>;
  /** After a write of one session (its head settled): its document as now stored; null once hard-deleted. */
  stored(sessionId: string, doc: SessionDoc | null): void;
  /** After purge hard-deleted the sessions soft-deleted at `cutoff` or before. */
  purged(cutoff: Date): void;
  /** After writes whose resulting documents are not at hand (imports): read these sessions again, each under its lock. */
  reload(sessionIds: Iterable<string>): Promise<void>;
  /** Repairs the heads a crash left, then starts reading every session into memory (single-writer; start-up, after migrations). */
  load(): Promise<void>;
  /** Resolves once every session is in memory (at once where nothing is held). */
  loaded(): Promise<void>;
  /** What the memory holds that differs from the database, once every head is written (tests). */
  verify(): Promise<string[]>;
  /** Writes what lags and stops the periodic writes. */
  close(): Promise<void>;
}

/** Keys of a session in each sort; cursors carry the last item's. */
const sortKeys = (sort: SessionQuery['sort'], d: SessionDoc): number[] =>
  sort === 'created' ? [d.listNo!] : [d.lastActiveAt.getTime(), d.listNo!];

const orderOf = (q: SessionQuery) => q.order ?? (q.sort === 'activity' ? 'desc' : 'asc');

/** A list of all sessions by creation with no filter: paged by list number, a bucket at a time (listing.ts). */
const isPlain = (q: SessionQuery) =>
  q.userId === undefined &&
  isEmptyFilter(q.metadata) &&
  !q.createdAfter &&
  !q.createdBefore &&
  !q.updatedAfter &&
  !q.updatedBefore &&
  q.sort === 'created';

/**
 * The keys of the last session of the previous page: the plain list's cursor is its list number,
 * every other list's the JSON of its sort keys.
 */
function cursorKeys(q: SessionQuery): number[] | undefined {
  if (isPlain(q)) {
    const listNo = decodeCursor(q.cursor, 'number');
    return listNo === undefined ? undefined : [listNo];
  }
  const cursor = decodeCursor(q.cursor, 'string');
  if (cursor === undefined) return undefined;
  let keys: unknown;
  try {
    keys = JSON.parse(cursor);
  } catch {
    // refused below
  }
  if (!Array.isArray(keys) || keys.length !== (q.sort === 'created' ? 1 : 2) || !keys.every(Number.isFinite)) {
    throw new ValidationError('cursor: not a cursor returned by a previous page of this list');
  }
  return keys as number[];
}

const encodeKeys = (q: SessionQuery, keys: number[]) => (isPlain(q) ? encodeCursor(keys[0]!) : encodeCursor(JSON.stringify(keys)));

export interface SessionStoreOptions {
  singleWriter: boolean;
  /** How long a single writer lets a session's stored head lag its appends (heads.ts). */
  flushHeadsMs: number;
  log: (message: string, error?: unknown) => void;
}

export function createSessionStore(c: Collections, listing: Listing, serialize: Serialize, options: SessionStoreOptions): SessionStore {
  const queries = createQueries(c, listing);
  return options.singleWriter ? createReplica(c, serialize, queries, options) : queries;
}

/** Every read a query (several instances may write). */
function createQueries(c: Collections, listing: Listing): SessionStore {
  return {
    inMemory: false,
    get: (sessionId) => c.sessions.findOne({ sessionId }), // sessions_sessionId
    live: (sessionId) => c.sessions.findOne({ sessionId, ...live }), // sessions_sessionId
    ofUser: (userId, { withDeleted = false } = {}) => c.sessions.find(withDeleted ? { userId } : { userId, ...live }).toArray(), // sessions_user
    advance: async () => null,
    settle: async () => {},
    settleAll: async () => {},
    stored() {},
    purged() {},
    reload: async () => {},
    load: async () => {},
    loaded: async () => {},
    verify: async () => [],
    close: async () => {},

    /**
     * Unfiltered lists by creation read the creation-order buckets (listing.ts), a bounded read at
     * any size; anything else is one query whose equality part (a user, or `live`) FerretDB pushes
     * down, sorted and limited by the database (MongoDB: sessions_user_created, sessions_user_activity,
     * sessions_activity); FerretDB sorts every matching session itself.
     */
    async list(q) {
      const order = orderOf(q);
      const range = (from?: Date | null, to?: Date | null) =>
        from || to ? { ...(from && { $gte: from }), ...(to && { $lte: to }) } : undefined;
      const created = range(q.createdAfter, q.createdBefore);
      const updated = range(q.updatedAfter, q.updatedBefore);
      // Keys cannot collide: a validated metadata filter has only `metadata.*`, `$and` and `$or` keys.
      const filter: Filter<SessionDoc> = {
        ...(q.userId !== undefined ? { userId: q.userId, ...live } : { live: true }),
        ...(q.metadata as Filter<SessionDoc>),
        ...(created && { createdAt: created }),
        ...(updated && { updatedAt: updated }),
      };
      // `count`, not countDocuments: FerretDB pushes the count command's filter down, not the aggregation
      // countDocuments sends (the deprecation is about sharded clusters mid-migration).
      const total = async () => (q.withTotal ? { total: await c.sessions.count(filter) } : {});
      if (isPlain(q)) {
        const read = (listBucket: number) => c.sessions.find({ listBucket, live: true }).toArray(); // sessions_list
        const page = await listing.page('sessions', { ...q, order }, read, (d) => d);
        return { docs: page.items, nextCursor: page.nextCursor, ...(await total()) };
      }
      const dir = order === 'asc' ? 1 : -1;
      const keys = cursorKeys(q);
      // The keyset condition joins the filter's own `$and` (a metadata filter may have `$or` at the top).
      const query = keys === undefined ? filter : { ...filter, $and: [...(filter.$and ?? []), keysetFilter(q.sort, keys, dir)] };
      const docs = await c.sessions
        .find(query)
        .sort(q.sort === 'activity' ? { lastActiveAt: dir, listNo: dir } : { listNo: dir })
        .limit(q.limit + 1)
        .toArray();
      const page = toPage(
        docs,
        q.limit,
        (d) => JSON.stringify(sortKeys(q.sort, d)),
        (d) => d,
      );
      return { docs: page.items, nextCursor: page.nextCursor, ...(await total()) };
    },
  };
}

/** Sessions after the cursor's keys in the sort (strictly, in direction `dir`). */
function keysetFilter(sort: SessionQuery['sort'], keys: number[], dir: 1 | -1): Filter<SessionDoc> {
  const beyond = dir === 1 ? '$gt' : '$lt';
  if (sort === 'created') return { listNo: { [beyond]: keys[0] } };
  const at = new Date(keys[0]!);
  return { $or: [{ lastActiveAt: { [beyond]: at } }, { lastActiveAt: at, listNo: { [beyond]: keys[1] } }] };
}

/** Compares key tuples. */
function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}

/** Documents kept in ascending order of their keys (binary search; a move is an array splice). */
class SortedDocs {
  readonly docs: SessionDoc[] = [];
  constructor(readonly keyOf: (d: SessionDoc) => number[]) {}

  /** The first position whose keys are greater than `keys` (or ≥ with `inclusive`). */
  after(keys: number[], inclusive = false): number {
    let lo = 0;
    let hi = this.docs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const order = compareKeys(this.keyOf(this.docs[mid]!), keys);
      if (order > 0 || (inclusive && order === 0)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  add(doc: SessionDoc): void {
    this.docs.splice(this.after(this.keyOf(doc)), 0, doc);
  }

  remove(doc: SessionDoc): void {
    for (let i = this.after(this.keyOf(doc), true); i < this.docs.length; i++) {
      if (this.docs[i] === doc) {
        this.docs.splice(i, 1);
        return;
      }
      if (compareKeys(this.keyOf(this.docs[i]!), this.keyOf(doc)) !== 0) break;
    }
  }
}

const byCreation = (d: SessionDoc) => [d.listNo!];
const byActivity = (d: SessionDoc) => [d.lastActiveAt.getTime(), d.listNo!];

interface Orders {
  created: SortedDocs;
  activity: SortedDocs;
}
const newOrders = (): Orders => ({ created: new SortedDocs(byCreation), activity: new SortedDocs(byActivity) });

/**
 * Every session in memory (single writer). Every write of a session document happens under the
 * session's lock (serialize.ts) and stores its result before letting go, so the order in which
 * results arrive here is the order of the writes.
 *
 * The sessions are read in the background after start-up (FerretDB decodes ~160 µs a document:
 * ~16 s for 100,000 sessions); until then reads are queries, appends are written through, and what
 * writes store meanwhile wins over what the reading brings.
 */
function createReplica(
  c: Collections,
  serialize: Serialize,
  queries: SessionStore,
  { flushHeadsMs, log }: SessionStoreOptions,
): SessionStore {
  const all = new Map<string, SessionDoc>();
  const everyone = newOrders();
  const perUser = new Map<string, Orders>();
  /** Listed: live and numbered (a session created by its first message gets its number just after, on a shared database). */
  const listed = (d: SessionDoc) => d.deletedAt === null && d.listNo !== undefined;
  const ordersOf = (d: SessionDoc): Orders[] => {
    if (d.userId === null) return [everyone];
    let mine = perUser.get(d.userId);
    if (!mine) perUser.set(d.userId, (mine = newOrders()));
    return [everyone, mine];
  };

  function put(sessionId: string, doc: SessionDoc | null): void {
    const old = all.get(sessionId);
    if (old && listed(old)) {
      for (const orders of ordersOf(old)) {
        orders.created.remove(old);
        orders.activity.remove(old);
      }
    }
    if (!doc) {
      all.delete(sessionId);
      return;
    }
    all.set(sessionId, doc);
    if (listed(doc)) {
      for (const orders of ordersOf(doc)) {
        orders.created.add(doc);
        orders.activity.add(doc);
      }
    }
  }

  const heads = createHeads(c, serialize, { current: (sessionId) => all.get(sessionId), put }, { flushMs: flushHeadsMs, log });
  /** Whether every session is in memory; until then, the sessions written meanwhile. */
  let ready = false;
  const touched = new Set<string>();
  let loading: Promise<void> = Promise.resolve();
  let closed = false;
  const store = (sessionId: string, doc: SessionDoc | null) => {
    if (!ready) touched.add(sessionId);
    put(sessionId, doc);
  };

  /** Reads every session into memory, again after a failure; those written meanwhile are kept as written. */
  async function readAll(): Promise<void> {
    for (let attempt = 1; !closed; attempt++) {
      try {
        for await (const doc of c.sessions.find({})) {
          if (closed) return;
          if (!touched.has(doc.sessionId)) put(doc.sessionId, doc);
        }
        ready = true;
        touched.clear();
        return;
      } catch (error) {
        if (closed) return;
        if (attempt === 1) log('could not read the sessions into memory; retrying (queries answer meanwhile)', error);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  return {
    inMemory: true,
    get: async (sessionId) => (ready ? (all.get(sessionId) ?? null) : queries.get(sessionId)),
    live: async (sessionId) => {
      if (!ready) return queries.live(sessionId);
      const doc = all.get(sessionId);
      return doc && doc.deletedAt === null ? doc : null;
    },
    async ofUser(userId, options = {}) {
      if (!ready) return queries.ofUser(userId, options);
      if (!options.withDeleted) return [...(perUser.get(userId)?.created.docs ?? [])];
      return [...all.values()].filter((d) => d.userId === userId);
    },
    async advance(sessionId, count, termLength, now, oldest) {
      const doc = ready ? all.get(sessionId) : undefined;
      return doc && doc.deletedAt === null ? heads.advance(doc, count, termLength, now, oldest) : null;
    },
    settle: heads.settle,
    loaded: () => loading,
    async settleAll() {
      await loading;
      await heads.settleAll();
    },
    async close() {
      closed = true;
      await loading;
      await heads.close();
    },
    stored(sessionId, doc) {
      if (heads.isDirty(sessionId)) throw new Error(`session ${JSON.stringify(sessionId)} was written before its head was settled`);
      store(sessionId, doc);
    },
    purged(cutoff) {
      for (const [sessionId, doc] of all) if (doc.deletedAt !== null && doc.deletedAt <= cutoff) put(sessionId, null);
    },
    async reload(sessionIds) {
      for (const sessionId of new Set(sessionIds)) {
        await serialize(sessionKey(sessionId), async () => {
          await heads.settle(sessionId);
          store(sessionId, await c.sessions.findOne({ sessionId })); // sessions_sessionId
        });
      }
    },
    async load() {
      // Loading again (init on a running core) starts afresh from a database with nothing lagging.
      await loading;
      await heads.settleAll();
      ready = false;
      touched.clear();
      for (const sessionId of [...all.keys()]) put(sessionId, null);
      // The heads a crash left behind are repaired before anything is served; the rest is read in the background.
      const repaired = await heads.recover();
      if (repaired.length > 0) log(`repaired the heads of ${repaired.length} sessions appended to before an unclean stop`);
      for (const doc of repaired) store(doc.sessionId, doc);
      loading = readAll();
    },

    async list(q) {
      if (!ready) return queries.list(q);
      const order = orderOf(q);
      const index = q.userId === undefined ? everyone[q.sort] : perUser.get(q.userId)?.[q.sort];
      if (!index) return { docs: [], nextCursor: null, ...(q.withTotal && { total: 0 }) };
      const keys = cursorKeys(q);
      const matches = matcher(q);
      const docs: SessionDoc[] = [];
      const { docs: sorted } = index;
      if (order === 'asc') {
        for (let i = keys ? index.after(keys) : 0; i < sorted.length && docs.length <= q.limit; i++) {
          if (!matches || matches(sorted[i]!)) docs.push(sorted[i]!);
        }
      } else {
        for (let i = (keys ? index.after(keys, true) : sorted.length) - 1; i >= 0 && docs.length <= q.limit; i--) {
          if (!matches || matches(sorted[i]!)) docs.push(sorted[i]!);
        }
      }
      const more = docs.length > q.limit;
      if (more) docs.pop();
      const total = q.withTotal ? (matches ? sorted.reduce((n, d) => (matches(d) ? n + 1 : n), 0) : sorted.length) : undefined;
      return {
        docs,
        nextCursor: more ? encodeKeys(q, sortKeys(q.sort, docs.at(-1)!)) : null,
        ...(total !== undefined && { total }),
      };
    },

    async verify() {
      await loading;
      await heads.settleAll();
      const problems: string[] = [];
      const stored = new Map<string, SessionDoc>();
      for await (const doc of c.sessions.find({})) stored.set(doc.sessionId, doc);
      for (const sessionId of new Set([...all.keys(), ...stored.keys()])) {
        // Fields in any order (an append in memory adds them in its own), values exactly.
        const canonical = (doc: SessionDoc | undefined) =>
          JSON.stringify(doc ? Object.fromEntries(Object.entries(doc).sort(([a], [b]) => (a < b ? -1 : 1))) : null);
        const mine = canonical(all.get(sessionId));
        const theirs = canonical(stored.get(sessionId));
        if (mine !== theirs) problems.push(`session ${JSON.stringify(sessionId)}: in memory ${mine}, stored ${theirs}`);
      }
      const check = (name: string, index: SortedDocs, docs: SessionDoc[]) => {
        const expected = docs.filter(listed).sort((a, b) => compareKeys(index.keyOf(a), index.keyOf(b)));
        if (expected.length !== index.docs.length || expected.some((d, i) => d !== index.docs[i]))
          problems.push(`index ${name} is out of order`);
      };
      for (const sort of ['created', 'activity'] as const) {
        check(`all by ${sort}`, everyone[sort], [...all.values()]);
        for (const [userId, orders] of perUser)
          check(
            `${userId} by ${sort}`,
            orders[sort],
            [...all.values()].filter((d) => d.userId === userId),
          );
      }
      return problems;
    },
  };
}

/** The list's filters other than the user (metadata, dates) as one predicate; undefined when there are none. */
function matcher(q: SessionQuery): ((d: SessionDoc) => boolean) | undefined {
  const tests: ((d: SessionDoc) => boolean)[] = [];
  if (!isEmptyFilter(q.metadata)) tests.push(compileFilter(q.metadata!));
  const within = (from: Date | null | undefined, to: Date | null | undefined, at: (d: SessionDoc) => Date) => {
    if (from) tests.push((d) => at(d) >= from);
    if (to) tests.push((d) => at(d) <= to);
  };
  within(q.createdAfter, q.createdBefore, (d) => d.createdAt);
  within(q.updatedAfter, q.updatedBefore, (d) => d.updatedAt);
  return tests.length === 0 ? undefined : (d) => tests.every((t) => t(d));
}
