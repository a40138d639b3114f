/**
 * Progressive session summaries, as Zep v0.27 makes them (message_summarizer.go), from any
 * OpenAI-compatible chat model (llm.ts; the prompt is prompt.ts).
 *
 * The rule: once a session's messages after its latest summary (all of them, with none) reach the
 * memory window, a background job folds the older ones, all but the newest window/2, into that
 * summary; the new summary records the newest message it covers (`recentMessageUuid`, `recentSeq`)
 * and its token count. An input longer than the model's context is summarised in pieces, each
 * piece folded into the summary of the pieces before it.
 *
 * Never in a write's way: `notify` (called after an append is stored) decides from memory whether
 * the session may be due (`lastSeq` against the `recentSeq` it last saw: deleted messages count, so
 * it may ask too early, never too late); everything else runs after the write has answered. A job
 * is first recorded in `summary_jobs` (what a restart resumes: `init` starts every recorded job),
 * then claimed with a lease in the database (one instance runs it; a crashed instance's lease runs
 * out after `leaseMs`), and removed once done unless it was requested again meanwhile (`version`).
 * In one process a session's jobs run one at a time, and at most `concurrency` jobs run at once.
 * A job whose model calls fail (after ky's retries) is logged once with the session id and left
 * recorded, its lease released: the previous summary stays readable, and the first append after
 * `retryAfterFailureMs`, or a restart, tries again. While a job runs, the appends that ask for it
 * again only note so in memory: it runs once more when done, recorded again first.
 */
import { randomUUID } from 'node:crypto';
import { ObjectId } from 'mongodb';
import { bucketOf, type Collections, live, type MessageDoc, type SessionDoc, type SummaryDoc } from '../db';
import { sessionNotFound } from '../errors';
import type { Publish } from '../events';
import { decodeCursor, toPage, walkBuckets } from '../paging';
import { ListSummariesInput, SearchSummariesInput, type Summary, type SummarySearchResult } from '../schemas';
import { bm25 } from '../search/search';
import { tokenize } from '../search/tokenize';
import { type Serialize, sessionKey } from '../serialize';
import type { Store } from '../store';
import { countTokens } from '../tokens';
import { parse } from '../validate';
import { createLlmClient, type LlmConfig } from './llm';
import { PROMPT_OVERHEAD_TOKENS, summaryPrompt, transcriptLine } from './prompt';

export interface SummariesConfig extends LlmConfig {
  /** How long a claimed job is this instance's before another may take it over; default 10 min. */
  leaseMs?: number;
  /** Jobs running at once in this process; default 2. */
  concurrency?: number;
  /** After a job failed, how long the session's appends do not start another (a restart does); default 1 min. */
  retryAfterFailureMs?: number;
}

export interface SummariesOptions {
  /** Tells subscribers of each new summary (events.ts). */
  publish: Publish;
  /** Zep's `memory.message_window`: the summarizer's trigger and, halved, what it leaves unsummarised. */
  messageWindow: number;
  log: (message: string, error?: unknown) => void;
}

export function toSummary(d: SummaryDoc): Summary {
  return {
    uuid: d.uuid,
    sessionId: d.sessionId,
    content: d.content,
    recentMessageUuid: d.recentMessageUuid,
    recentSeq: d.recentSeq,
    tokenCount: d.tokenCount,
    metadata: d.metadata ?? {},
    createdAt: d.createdAt,
  };
}

/** Pieces of `lines`, in order, each of at most `budget` tokens; a line longer than that is cut into pieces of its own. */
export function piecesOf(lines: string[], budget: number): string[][] {
  const pieces: string[][] = [];
  let piece: string[] = [];
  let used = 0;
  const push = (line: string, tokens: number) => {
    if (used + tokens > budget && piece.length > 0) {
      pieces.push(piece);
      piece = [];
      used = 0;
    }
    piece.push(line);
    used += tokens;
  };
  for (const line of lines) {
    const tokens = countTokens(line) + 1;
    if (tokens <= budget) {
      push(line, tokens);
      continue;
    }
    // Cut by characters, in proportion to the tokens (a little under, so each cut fits).
    const step = Math.max(1, Math.floor((line.length * budget * 0.9) / tokens));
    for (let i = 0; i < line.length; i += step) {
      const cut = line.slice(i, i + step);
      push(cut, countTokens(cut) + 1);
    }
  }
  if (piece.length > 0) pieces.push(piece);
  return pieces;
}

/**
 * Reads of summaries (always: what was stored stays listable) and, when a model is `config`ured,
 * the jobs that make them; unconfigured, `notify` does nothing.
 */
export function createSummaries(
  c: Collections,
  serialize: Serialize,
  store: Pick<Store, 'sessions' | 'buckets'>,
  config: SummariesConfig | undefined,
  { messageWindow, log, publish }: SummariesOptions,
) {
  const {
    leaseMs = 10 * 60_000,
    concurrency = 2,
    retryAfterFailureMs = 60_000,
    contextTokens = 8192,
    maxSummaryTokens = 512,
  } = config ?? {};
  const llm = config && createLlmClient(config);
  const owner = randomUUID();
  const keep = Math.floor(messageWindow / 2);
  /** The `recentSeq` of each session's latest summary as last seen here (0: none); a hint, read again by each job. */
  const seen = new Map<string, number>();
  /**
   * A single writer's copy of each session's latest summary (get-memory then reads no database, as
   * without summaries): exact because every write of summaries passes through this process. Keyed by
   * session id and valid for the session document it was read for (`uuid`: a session forgotten and
   * made anew is another one); a session's deletion and retention call `invalidate`. `writes` counts changes per session, so that a read that raced a write is not kept.
   */
  const latestCache = store.sessions.inMemory ? new Map<string, { uuid: string; doc: SummaryDoc | null }>() : undefined;
  const writes = new Map<string, number>();
  const changed = (sessionId: string) => {
    writes.set(sessionId, (writes.get(sessionId) ?? 0) + 1);
    latestCache?.delete(sessionId);
  };
  /** Sessions whose last job failed, until when their next one waits. */
  const resting = new Map<string, number>();
  const running = new Set<string>();
  const again = new Set<string>();
  const waiting: (() => void)[] = [];
  let active = 0;
  const pending = new Set<Promise<unknown>>();
  const closing = new AbortController();

  const background = (task: () => Promise<unknown>) => {
    const promise: Promise<unknown> = task()
      .catch((error: unknown) => log('summaries: background task failed', error))
      .finally(() => pending.delete(promise));
    pending.add(promise);
  };

  async function slot<T>(task: () => Promise<T>): Promise<T> {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  }

  async function latestDoc(sessionId: string): Promise<SummaryDoc | null> {
    const doc = await c.summaries.findOne({ latestOf: sessionId, ...live }); // summaries_latest
    seen.set(sessionId, doc?.recentSeq ?? 0);
    return doc;
  }

  /** The session's complete live messages after `afterSeq`, oldest first, up to the first one still streaming. */
  async function messagesAfter(sessionId: string, afterSeq: number, lastSeq: number): Promise<MessageDoc[]> {
    const docs = await walkBuckets(
      (bucket) => store.buckets.read(sessionId, bucket),
      (d) => d.seq,
      {
        from: bucketOf(afterSeq + 1),
        to: bucketOf(lastSeq),
        keep: (d) => d.seq > afterSeq,
        enough: Number.MAX_SAFE_INTEGER,
      },
    );
    const streaming = docs.findIndex((d) => d.status === 'streaming');
    return streaming === -1 ? docs : docs.slice(0, streaming);
  }

  /** Folds `lines` into `summary`, a piece that fits the model's context at a time. */
  async function fold(summary: string, lines: string[]): Promise<string> {
    for (;;) {
      const budget = contextTokens - maxSummaryTokens - PROMPT_OVERHEAD_TOKENS - countTokens(summary);
      if (budget < 64) throw new Error(`summaries: a context of ${contextTokens} tokens leaves no room for the conversation`);
      const [piece, ...rest] = piecesOf(lines, budget);
      if (!piece) return summary;
      summary = await llm!.complete(summaryPrompt(summary, piece), closing.signal);
      lines = rest.flat();
    }
  }

  /** One summary of the session if it is due; whether it made one. */
  async function summarize(sessionId: string): Promise<boolean> {
    const session = await store.sessions.live(sessionId);
    if (!session) return false;
    const previous = await latestDoc(sessionId);
    const after = await messagesAfter(sessionId, previous?.recentSeq ?? 0, session.lastSeq);
    if (after.length < messageWindow) {
      // Not due (deleted or streaming messages): appends need not ask again until as many more are added.
      seen.set(sessionId, session.lastSeq - after.length);
      return false;
    }
    const covered = after.slice(0, after.length - keep);
    const content = await fold(
      previous?.content ?? '',
      covered.map((d) => transcriptLine(d.role, d.content)),
    );
    const recent = covered.at(-1)!;
    return serialize(sessionKey(sessionId), async () => {
      // The session may have been deleted, or its summaries by retention, while the model was writing.
      const session = await store.sessions.live(sessionId);
      if (!session) return false;
      const latest = await latestDoc(sessionId);
      if ((latest?.recentSeq ?? 0) !== (previous?.recentSeq ?? 0)) return false;
      const now = new Date();
      const doc: SummaryDoc = {
        _id: new ObjectId(),
        uuid: randomUUID(),
        sessionId,
        content,
        recentMessageUuid: recent.uuid,
        recentSeq: recent.seq,
        latestOf: sessionId,
        tokenCount: countTokens(content),
        metadata: {},
        createdAt: now,
        deletedAt: null,
      };
      changed(sessionId);
      await c.summaries.updateMany({ latestOf: sessionId }, { $unset: { latestOf: '' } }); // summaries_latest
      await c.summaries.insertOne(doc);
      changed(sessionId);
      latestCache?.set(sessionId, { uuid: session.uuid, doc });
      seen.set(sessionId, doc.recentSeq);
      publish({ type: 'summary', sessionId, summary: toSummary(doc) });
      return true;
    });
  }

  /** Records that the session's summary is due (what a restart resumes). */
  async function record(sessionId: string): Promise<void> {
    await c.summaryJobs.updateOne(
      { _id: sessionId },
      { $set: { requestedAt: new Date() }, $inc: { version: 1 }, $setOnInsert: { leaseUntil: null, owner: null } },
      { upsert: true },
    );
  }

  /**
   * Runs the session's job (if this instance can claim it) until nothing more is due; `recorded`:
   * its record is in the database already (a resumed job). A request while it runs here is noted in
   * memory (no database write per append) and makes it run once more, recorded again first.
   */
  async function run(sessionId: string, { recorded }: { recorded: boolean }): Promise<void> {
    if (running.has(sessionId)) {
      again.add(sessionId);
      return;
    }
    running.add(sessionId);
    try {
      let recordFirst = !recorded;
      do {
        again.delete(sessionId);
        if (closing.signal.aborted) return;
        if (recordFirst) await record(sessionId);
        recordFirst = false;
        const now = new Date();
        const claimed = await c.summaryJobs.findOneAndUpdate(
          { _id: sessionId, $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }, { owner }] },
          { $set: { leaseUntil: new Date(now.getTime() + leaseMs), owner } },
          { returnDocument: 'after' },
        );
        if (!claimed) return; // done already, or another instance holds it
        try {
          // One summary per turn of the slots, so that a busy session does not keep the others waiting;
          // when it made one, the loop looks once more (more may be due already).
          if (await slot(() => summarize(sessionId))) again.add(sessionId);
        } catch (error) {
          await c.summaryJobs.updateOne({ _id: sessionId, owner }, { $set: { leaseUntil: null, owner: null } });
          // Not again at every append while the model fails: after a pause (the record stays for a restart).
          resting.set(sessionId, Date.now() + retryAfterFailureMs);
          if (!closing.signal.aborted)
            log(`summaries: summarising session ${JSON.stringify(sessionId)} failed; its previous summary stays`, error);
          return;
        }
        if (again.has(sessionId)) continue; // the record stays: it is claimed again at once
        // Done, unless it was requested again meanwhile by another instance (then the loop takes it once more).
        const done = await c.summaryJobs.deleteOne({ _id: sessionId, version: claimed.version });
        if (done.deletedCount === 0) again.add(sessionId);
        else recordFirst = true; // the record is gone: a request noted here meanwhile is recorded again first
      } while (again.has(sessionId));
    } finally {
      running.delete(sessionId);
    }
  }

  return {
    /**
     * After an append to `sessionId` was stored (its last message is now number `lastSeq`): queues
     * a summary job when the session may be due. Synchronous and cheap; the rest runs in the background.
     */
    notify(sessionId: string, lastSeq: number): void {
      if (!llm || closing.signal.aborted) return;
      if ((resting.get(sessionId) ?? 0) > Date.now()) return;
      resting.delete(sessionId);
      const known = seen.get(sessionId);
      if (known !== undefined && lastSeq - known < messageWindow) return;
      background(async () => {
        const summarised = known ?? (await latestDoc(sessionId))?.recentSeq ?? 0;
        if (lastSeq - summarised >= messageWindow) await run(sessionId, { recorded: false });
      });
    },

    /** Starts every recorded job (those a restart interrupted). */
    async resume(): Promise<void> {
      if (!llm) return;
      const jobs = await c.summaryJobs.find({}, { projection: { _id: 1 } }).toArray();
      for (const { _id } of jobs) background(() => run(_id, { recorded: true }));
    },

    /** The latest live summary of a live session, or null (a single writer answers from memory once it has read it). */
    async latest(session: Pick<SessionDoc, 'sessionId' | 'uuid'>): Promise<SummaryDoc | null> {
      const { sessionId, uuid } = session;
      const hit = latestCache?.get(sessionId);
      if (hit && hit.uuid === uuid) return hit.doc;
      const before = writes.get(sessionId) ?? 0;
      const doc = await latestDoc(sessionId);
      if (latestCache && (writes.get(sessionId) ?? 0) === before) latestCache.set(sessionId, { uuid, doc });
      return doc;
    },

    /**
     * The session's summaries changed elsewhere (deleted with it, by retention, imported): a single
     * writer forgets its copy of the latest, and the next append asks again whether one is due.
     */
    invalidate(sessionId: string): void {
      changed(sessionId);
      seen.delete(sessionId);
    },

    /** A live session's live summaries, newest first (NOT_FOUND for an unknown or deleted session). */
    async list(input: ListSummariesInput) {
      const { sessionId, limit, cursor } = parse(ListSummariesInput, input);
      const before = decodeCursor(cursor, 'number');
      if (!(await store.sessions.live(sessionId))) throw sessionNotFound(sessionId);
      const docs = await c.summaries // summaries_session
        .find({ sessionId, ...live, ...(before !== undefined && { recentSeq: { $lt: before } }) })
        .sort({ recentSeq: -1 })
        .limit(limit + 1)
        .toArray();
      return toPage(docs, limit, (d) => d.recentSeq, toSummary);
    },

    /** Text search over a live session's live summaries, best first (BM25 over them); NOT_FOUND for an unknown session. */
    async search(input: SearchSummariesInput): Promise<SummarySearchResult[]> {
      const { sessionId, text, limit } = parse(SearchSummariesInput, input);
      if (!(await store.sessions.live(sessionId))) throw sessionNotFound(sessionId);
      const terms = [...new Set(tokenize(text))];
      const docs = await c.summaries.find({ sessionId, ...live }).toArray(); // summaries_session
      const indexed = docs.map((d) => ({ doc: d, terms: tokenize(d.content) }));
      const candidates = indexed.filter((d) => d.terms.some((t) => terms.includes(t)));
      const stats = { termDocs: indexed.length, termLength: indexed.reduce((sum, d) => sum + d.terms.length, 0) };
      const scores = bm25(candidates, terms, stats);
      return candidates
        .map((d, i) => ({ summary: toSummary(d.doc), dist: scores[i]! }))
        .sort((a, b) => b.dist - a.dist || b.summary.recentSeq - a.summary.recentSeq)
        .slice(0, limit);
    },

    /** Resolves once no job is running or queued here. */
    async idle(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },

    /** Stops: aborts the model calls under way and releases this instance's leases (the jobs stay recorded for the next start). */
    async close(): Promise<void> {
      closing.abort();
      while (pending.size > 0) await Promise.allSettled([...pending]);
      if (llm) await c.summaryJobs.updateMany({ owner }, { $set: { leaseUntil: null, owner: null } });
    },
  };
}

export type Summaries = ReturnType<typeof createSummaries>;
