/**
 * Memory search over a session's live messages: BM25 text relevance, optionally blended with
 * embedding similarity, narrowed by a validated metadata filter and a creation-date range, and
 * optionally re-ranked by maximal marginal relevance.
 *
 * One implementation (`searchIn`) searches a *scope*: a list of live sessions. Session search is a
 * scope of one session; user search (issue 12) is the scope of all of a live user's live sessions
 * (sessions_user), ranked as one corpus: BM25's N and avgdl come from the sum of the sessions'
 * `termDocs` / `termLength`, and df is counted over the candidates of all of them, so a term common
 * in one session and rare in the others weighs what it weighs in the union. Without text, each
 * session's newest `limit` matches are merged newest first. Every read is per session (the
 * queries below, once per session of the scope): cost is the sum of the sessions' costs.
 *
 * The text index lives beside the messages, in `message_search` (db.ts, SearchDoc: same `_id`, so
 * message reads never carry it). `memory.add` stores for each message its stemmed terms in order,
 * repeats kept (`terms`, search/tokenize.ts: term frequencies and length derive from it), and adds
 * to the session's `termDocs` / `termLength` counters in the same upsert that reserves the
 * messages' `seq`; embeddings are stored there too, in the background. BM25's statistics are then: N = termDocs,
 * avgdl = termLength / termDocs (both count soft-deleted messages too, like Lucene before a merge:
 * they only nudge the weights), df = candidates holding the term (with a filter: among the
 * messages that pass it). Messages stored before this existed have no `terms` and are not found by
 * text (they still are by filters and dates).
 *
 * Queries, indexes and cost (n = live messages in the session, Σdf = how many of them hold a query
 * term, N_all = messages in the whole collection):
 * - text: `{sessionId, deletedAt: null, terms: {$in: queryTerms}}` on message_search's search_terms
 *   ({sessionId, deletedAt, terms}, multikey). MongoDB reads only the index keys of the query terms
 *   and fetches those Σdf search documents: cost grows with how common the query terms are (stop
 *   words are never indexed), not with n. Scoring and top-k run in memory over the Σdf candidates;
 *   then the top `limit` messages are read by `_id`, one equality query each. With a metadata filter
 *   or dates, the ids of the session's messages that pass them are read first (messages_session_created).
 * - no text (filter or dates only), newest first: messages_session_created
 *   ({sessionId, deletedAt, createdAt: -1, seq: -1}); MongoDB walks it newest first and stops after
 *   `limit` matches: O(messages scanned until then) ≤ O(n).
 * - embeddings configured: one embeddings request for the query, plus every live embedded search
 *   document of the session (search_terms) scored by cosine: O(n · dimensions), brute force, since
 *   neither MongoDB Community nor FerretDB has a vector index (Atlas `$vectorSearch` is the
 *   scale-out answer).
 * - FerretDB v1 on PostgreSQL (the default local database) pushes down only the `sessionId`
 *   equality of these queries (answered by a GIN twin, README "The local database"); it evaluates
 *   the `$in` on terms, the filter and the sort itself over the session's search documents or
 *   messages: O(n), independent of the rest of the store. On its SQLite fallback every query is a scan
 *   of the whole messages collection, O(N_all). Measured in bench/search.bench.ts and bench/scale.bench.ts.
 */
import type { Filter, ObjectId } from 'mongodb';
import type { z } from 'zod';
import { bucketOf, type Collections, live, type MessageDoc, type SearchDoc, type SessionDoc } from '../db';
import { sessionNotFound, userNotFound } from '../errors';
import { toMessage } from '../mappers';
import { type MemorySearchResult, SearchMemoryInput, SearchUserInput } from '../schemas';
import { type Serialize, sessionKey } from '../serialize';
import type { BucketStore } from '../store/buckets';
import type { SessionStore } from '../store/sessions';
import { headOf, inRanges, isBranched, pathTo, treeOf } from '../tree';
import type { UserStore } from '../store/users';
import { parse } from '../validate';
import { cosine, createEmbeddingsClient, createMutex, type EmbeddingsConfig, UPDATE_BATCH } from './embeddings';
import { tokenize } from './tokenize';

/** BM25 parameters (the usual defaults). */
const K1 = 1.2;
const B = 0.75;
const MAX_QUERY_TERMS = 64;
/**
 * With embeddings, relevance = TEXT_WEIGHT · bm25 / (best bm25 among the candidates)
 * + (1 − TEXT_WEIGHT) · max(0, cosine(query, message)): in [0, 1].
 */
const TEXT_WEIGHT = 0.5;

export type Log = (message: string, error?: unknown) => void;

export interface SearchServiceOptions {
  embeddings?: EmbeddingsConfig;
  log: Log;
}

interface Hit {
  doc: SearchDoc;
  score: number;
}

/** Sessions' BM25 statistics, as kept on the session document. */
interface CorpusStats {
  termDocs?: number;
  termLength?: number;
}

/** What a search asks, whatever it covers (schemas.ts: SearchMemoryInput, SearchUserInput). */
type Query = Omit<z.output<typeof SearchMemoryInput>, 'sessionId'>;

/** The live sessions a search covers, with their BM25 statistics: one session, or all of a user's. */
type Scope = Pick<SessionDoc, 'sessionId' | 'termDocs' | 'termLength' | 'lines' | 'headSeq' | 'lastSeq'>[];

/** The statistics of the union of the sessions: BM25 over a user's sessions ranks as over one corpus. */
function unionStats(scope: Scope): CorpusStats {
  return scope.reduce((sum, s) => ({ termDocs: sum.termDocs + (s.termDocs ?? 0), termLength: sum.termLength + (s.termLength ?? 0) }), {
    termDocs: 0,
    termLength: 0,
  });
}

/** `read` for each session of the scope (one equality query on `sessionId` each, which FerretDB pushes down), concatenated. */
async function perSession<T>(scope: Scope, read: (sessionId: string) => Promise<T[]>): Promise<T[]> {
  return (await Promise.all(scope.map(({ sessionId }) => read(sessionId)))).flat();
}

/** Newest first, as messages_session_created orders a session's messages; across sessions, ties by session id. */
const newestFirst = (a: MessageDoc, b: MessageDoc) =>
  b.createdAt.getTime() - a.createdAt.getTime() || (a.sessionId === b.sessionId ? b.seq - a.seq : a.sessionId < b.sessionId ? -1 : 1);

/** BM25 of each candidate (all hold at least one query term), df counted among the candidates. */
export function bm25(candidates: Pick<SearchDoc, 'terms'>[], queryTerms: string[], stats: CorpusStats): number[] {
  const query = new Set(queryTerms);
  // tf of the query terms in each candidate; its `terms` keep repeats, so its length is its BM25 length.
  const counts = candidates.map(({ terms = [] }) => {
    const tf = new Map<string, number>();
    for (const term of terms) if (query.has(term)) tf.set(term, (tf.get(term) ?? 0) + 1);
    return tf;
  });
  const df = new Map<string, number>();
  for (const tf of counts) for (const term of tf.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const n = Math.max(stats.termDocs ?? 0, candidates.length, 1);
  const avgdl = (stats.termLength ?? 0) / n || 1;
  const idf = new Map([...df].map(([term, f]) => [term, Math.log(1 + (n - f + 0.5) / (f + 0.5))]));
  return counts.map((tf, i) => {
    const length = candidates[i]!.terms?.length ?? 0;
    let score = 0;
    for (const [term, f] of tf) score += (idf.get(term)! * f * (K1 + 1)) / (f + K1 * (1 - B + (B * length) / avgdl));
    return score;
  });
}

function termCosine(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0;
  for (const [term, f] of a) dot += f * (b.get(term) ?? 0);
  if (dot === 0) return 0;
  const norm = (v: Map<string, number>) => Math.sqrt([...v.values()].reduce((s, f) => s + f * f, 0));
  return dot / (norm(a) * norm(b));
}

/**
 * Maximal marginal relevance: repeatedly picks the hit maximising
 * λ · relevance − (1 − λ) · (its highest similarity to a hit already picked), relevance scaled to
 * [0, 1] over the pool. Similarity is the cosine of the embeddings when both messages have one,
 * else the cosine of their term-frequency vectors.
 */
export function maximalMarginalRelevance<H extends Hit>(pool: H[], limit: number, lambda: number): H[] {
  const best = Math.max(...pool.map((h) => h.score), 0) || 1;
  const vectors = new Map<Hit, Map<string, number>>();
  const termsOf = (hit: Hit) => {
    let vector = vectors.get(hit);
    if (!vector) {
      vector = new Map<string, number>();
      for (const term of hit.doc.terms) vector.set(term, (vector.get(term) ?? 0) + 1);
      vectors.set(hit, vector);
    }
    return vector;
  };
  const similarity = (a: Hit, b: Hit) =>
    a.doc.embedding && b.doc.embedding ? cosine(a.doc.embedding, b.doc.embedding) : termCosine(termsOf(a), termsOf(b));
  const picked: H[] = [];
  const rest = [...pool];
  while (picked.length < limit && rest.length > 0) {
    let bestIndex = 0;
    let bestValue = -Infinity;
    rest.forEach((hit, i) => {
      const redundancy = picked.length === 0 ? 0 : Math.max(...picked.map((p) => similarity(hit, p)));
      const value = (lambda * hit.score) / best - (1 - lambda) * redundancy;
      if (value > bestValue) {
        bestValue = value;
        bestIndex = i;
      }
    });
    picked.push(rest.splice(bestIndex, 1)[0]!);
  }
  return picked;
}

/** Best first; ties: the newer message first (ObjectIds grow with time). */
const byRelevance = (a: Hit, b: Hit) => b.score - a.score || (a.doc._id.toHexString() < b.doc._id.toHexString() ? 1 : -1);

export function createSearchService(
  c: Collections,
  serialize: Serialize,
  { sessions, users, buckets }: { sessions: SessionStore; users: UserStore; buckets: BucketStore },
  { embeddings, log }: SearchServiceOptions,
) {
  const pending = new Set<Promise<unknown>>();
  const background = (task: () => Promise<unknown>) => {
    const promise: Promise<unknown> = task()
      .catch((error: unknown) => log('search: background task failed', error))
      .finally(() => pending.delete(promise));
    pending.add(promise);
  };
  const embedder = embeddings ? createEmbeddingsClient(embeddings) : undefined;
  const oneWriteAtATime = createMutex();

  /** Computes and stores the embeddings of freshly added messages (background; failures are logged). */
  async function embedMessages(sessionId: string, docs: MessageDoc[]): Promise<void> {
    const todo = docs.filter((d) => d.content.trim() !== '');
    if (todo.length === 0 || !embedder) return;
    let vectors: number[][];
    try {
      vectors = await embedder.embed(todo.map((d) => d.content));
    } catch (error) {
      log(`search: embedding ${todo.length} messages of session ${JSON.stringify(sessionId)} failed`, error);
      return;
    }
    const ops = todo.map((d, i) => ({ updateOne: { filter: { _id: d._id }, update: { $set: { embedding: vectors[i]! } } } })); // _id
    // Under the session's lock: FerretDB applies an update as read-modify-write of the whole document.
    await serialize(sessionKey(sessionId), async () => {
      for (let i = 0; i < ops.length; i += UPDATE_BATCH) {
        const chunk = ops.slice(i, i + UPDATE_BATCH);
        await oneWriteAtATime(() => c.search.bulkWrite(chunk, { ordered: false }));
      }
    });
  }

  /** Embedding similarity of every live embedded search document of the scope's sessions (`allowed` ones only). */
  async function vectorScores(scope: Scope, text: string, allowed: ((doc: SearchDoc) => boolean) | undefined) {
    const query = await embedder!.embed([text]).then(
      (vectors) => vectors[0],
      (error: unknown) => log('search: embedding the query failed; ranking by text alone', error),
    );
    if (!query) return undefined;
    const embedded = await perSession(scope, (sessionId) => c.search.find({ sessionId, ...live, embedding: { $exists: true } }).toArray()); // search_session
    return embedded.filter((d) => !allowed || allowed(d)).map((doc) => ({ doc, similarity: Math.max(0, cosine(query, doc.embedding!)) }));
  }

  async function textSearch(
    scope: Scope,
    q: Query,
    text: string,
    filter: Filter<MessageDoc>,
    searched: (sessionId: string, id: string) => boolean,
  ) {
    const terms = [...new Set(tokenize(text))].slice(0, MAX_QUERY_TERMS);
    const mmr = q.searchType === 'mmr';
    // A metadata filter or dates: the ids of the sessions' messages that pass them.
    const passing =
      Object.keys(filter).length === 0
        ? undefined
        : new Set(
            (
              await perSession(scope, (sessionId) =>
                c.messages.find({ ...filter, sessionId, ...live }, { projection: { _id: 1 } }).toArray(),
              )
            ).map((d) => d._id.toHexString()),
          ); // messages_session_created
    const allowed = (doc: SearchDoc) => searched(doc.sessionId, doc._id.toHexString()) && (!passing || passing.has(doc._id.toHexString()));
    const candidates = (
      terms.length === 0
        ? []
        : await perSession(scope, (sessionId) =>
            c.search // search_terms on MongoDB (only the keys of the query terms), search_session on FerretDB
              .find({ sessionId, ...live, terms: { $in: terms } }, { projection: mmr ? {} : { embedding: 0 } })
              .toArray(),
          )
    ).filter(allowed);
    // Statistics and document frequencies of the union of the sessions: scores compare across them.
    const scores = bm25(candidates, terms, unionStats(scope));
    let hits: Hit[] = candidates.map((doc, i) => ({ doc, score: scores[i]! }));

    const vectors = embedder && (await vectorScores(scope, text, allowed));
    if (vectors) {
      // Blend: text scaled by the best text score, plus cosine; messages found only by meaning join.
      const bestText = Math.max(0, ...scores) || 1;
      const similarity = new Map(vectors.map((v) => [v.doc._id.toHexString(), v.similarity]));
      hits = hits.map(({ doc, score }) => ({
        doc,
        score: (TEXT_WEIGHT * score) / bestText + (1 - TEXT_WEIGHT) * (similarity.get(doc._id.toHexString()) ?? 0),
      }));
      const found = new Set(candidates.map((d) => d._id.toHexString()));
      hits.push(
        ...vectors.filter((v) => !found.has(v.doc._id.toHexString())).map((v) => ({ doc: v.doc, score: (1 - TEXT_WEIGHT) * v.similarity })),
      );
    }

    hits.sort(byRelevance);
    const pool = hits.slice(0, mmr ? Math.max(2 * q.limit, 10) : q.limit);
    return mmr ? maximalMarginalRelevance(pool, q.limit, q.mmrLambda) : pool;
  }

  /** The messages of `hits`, in order, by `_id` (one equality query each, which FerretDB pushes down). */
  async function results(
    hits: { id: ObjectId; score: number; embedding?: number[] }[],
    withEmbedding: boolean,
  ): Promise<MemorySearchResult[]> {
    const docs = await Promise.all(hits.map(({ id }) => c.messages.findOne({ _id: id, ...live }))); // _id
    return hits.flatMap(({ score, embedding }, i) => {
      const doc = docs[i];
      return doc ? [{ message: toMessage(doc), dist: score, ...(withEmbedding && embedding && { embedding }) }] : [];
    });
  }

  /**
   * The one search: over the live messages of the scope's sessions (one session, or a user's). With
   * text: best first by `dist`, BM25 over the union of the sessions; without: newest first (`dist` 0).
   */
  async function searchIn(scope: Scope, q: Query): Promise<MemorySearchResult[]> {
    if (scope.length === 0) return [];
    // Sessions with branches are searched along their active path unless all branches are asked for (tree.ts).
    const paths = new Map(q.allBranches ? [] : scope.filter(isBranched).map((s) => [s.sessionId, pathTo(treeOf(s), headOf(s))] as const));
    const onPath = (d: Pick<MessageDoc, 'sessionId' | 'seq'>) => {
      const path = paths.get(d.sessionId);
      return !path || inRanges(path, d.seq);
    };
    const dates =
      q.startDate || q.endDate ? { createdAt: { ...(q.startDate && { $gte: q.startDate }), ...(q.endDate && { $lte: q.endDate }) } } : {};
    // Keys cannot collide: a validated metadata filter has only `metadata.*`, `$and` and `$or` keys.
    const filter = { ...q.metadata, ...dates } as Filter<MessageDoc>;
    const mmr = q.searchType === 'mmr';
    const text = q.text?.trim();
    if (text) {
      // The ids of the path's messages, read a bucket at a time (search documents carry no `seq`).
      const pathIds = new Set<string>();
      for (const [sessionId, path] of paths) {
        for (const [from, to] of path)
          for (let bucket = bucketOf(from); bucket <= bucketOf(to); bucket++)
            for (const d of await buckets.read(sessionId, bucket)) if (d.seq >= from && d.seq <= to) pathIds.add(d._id.toHexString());
      }
      const hits = await textSearch(scope, q, text, filter, (sessionId, id) => !paths.has(sessionId) || pathIds.has(id));
      return results(
        hits.map(({ doc, score }) => ({ id: doc._id, score, embedding: doc.embedding })),
        mmr,
      );
    }
    // Each session's newest `limit` matches, merged: the newest `limit` of them all.
    const docs = (
      await perSession(scope, (sessionId) =>
        c.messages // messages_session_created: newest first, stops after `limit` matches
          .find({ ...filter, sessionId, ...live })
          .sort({ createdAt: -1, seq: -1 })
          // Along a path, off-path matches are dropped below: the session's matches are read whole.
          .limit(paths.has(sessionId) ? 0 : q.limit)
          .toArray(),
      )
    )
      .filter(onPath)
      .sort(newestFirst)
      .slice(0, q.limit);
    // MMR asks for embeddings: they are beside the messages.
    const vectors = mmr ? await Promise.all(docs.map((d) => c.search.findOne({ _id: d._id }, { projection: { embedding: 1 } }))) : [];
    return docs.map((doc, i) => ({ message: toMessage(doc), dist: 0, ...(vectors[i]?.embedding && { embedding: vectors[i].embedding }) }));
  }

  return {
    /**
     * Searches a live session's live messages (NOT_FOUND for an unknown or deleted session).
     * With text: best first by `dist`; without: newest first (`dist` 0). At least one of text,
     * a non-empty metadata filter or a date bound is required (VALIDATION otherwise).
     */
    async search(input: SearchMemoryInput): Promise<MemorySearchResult[]> {
      const { sessionId, ...q } = parse(SearchMemoryInput, input);
      const session = await sessions.live(sessionId);
      if (!session) throw sessionNotFound(sessionId);
      return searchIn([session], q);
    },

    /**
     * Searches the live messages of all of a live user's live sessions, ranked as one corpus (NOT_FOUND
     * for an unknown or deleted user; a user without sessions finds nothing). Same query, ranking and
     * rules as `search`; each result's message names its session (`message.sessionId`).
     */
    async searchUser(input: SearchUserInput): Promise<MemorySearchResult[]> {
      const { userId, ...q } = parse(SearchUserInput, input);
      const [user, scope] = await Promise.all([users.live(userId), sessions.ofUser(userId)]);
      if (!user) throw userNotFound(userId);
      return searchIn(scope, q);
    },

    /** Queues the embeddings of messages whose text is new and final (called by memory under the session's lock). */
    queueEmbeddings(sessionId: string, docs: MessageDoc[]): void {
      if (embedder && docs.length > 0) background(() => embedMessages(sessionId, docs));
    },

    /** Resolves once all background work (embeddings) has finished. */
    async idle(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
