/**
 * Export and import (issue 12): the whole store, or one user, as JSON Lines.
 *
 * Format (version 1): a header line `{"type":"mnemo-export","version":1}`, then one record per line,
 * each with a `type`: every live user ("user", in list order), then every live session ("session",
 * in list order), each followed by its live messages ("message", by `seq`) and then its live
 * summaries ("summary", oldest first: by `recentSeq`; summaries/). Keys come in a fixed
 * order and dates are ISO 8601, so exporting the same data twice gives the same bytes. Soft-deleted
 * records are left out. With a user, only that user, its sessions and their messages.
 *
 * Export reads a bucket at a time (db.ts, BUCKET_SIZE: users and sessions by `listBucket`, messages
 * by `bucket`), equality queries FerretDB pushes down, and waits for the output to drain: memory
 * stays constant whatever the size of the store.
 *
 * Import writes documents as Mnemo's own writes do (list numbers from the listing counter, message
 * buckets, search terms in message_search, the session's `lastSeq`, `messageCount` and BM25
 * statistics), keeping ids, `seq` and timestamps as exported, in batches of up to 1,000 records.
 * It is idempotent: a live user (by `userId`), session (by `sessionId`) or message (by session and
 * `uuid`) or summary (by session and `uuid`) already present is skipped, so an interrupted import can
 * simply be run again. A
 * soft-deleted record with the same id is replaced (as adding a user over a soft-deleted one does).
 * Imported summaries are written as the summarizer writes them: the session's newest one (highest
 * `recentSeq`) carries `latestOf`, and the summarizer forgets what it knew of the session.
 * A line that cannot be imported stops the import with an error naming it: the lines before it are
 * imported, nothing of it or after it.
 */
import type { Writable } from 'node:stream';
import { MongoBulkWriteError, ObjectId } from 'mongodb';
import { z } from 'zod';
import { bucketKey, bucketOf, type Collections, live, type MessageDoc, revive, type SessionDoc, type SummaryDoc, type UserDoc } from './db';
import { userNotFound, ValidationError } from './errors';
import type { Listing } from './listing';
import { AddSessionInput, Id, MESSAGE_STATUSES, MessageId, Metadata, NewMessage, Parts, Text } from './schemas';
import { type Serialize, sessionKey } from './serialize';
import type { Store } from './store';
import { tokenize } from './search/tokenize';
import { type ZepImportOptions, zepRecords } from './transfer-zep';
import { describeZodError, parse } from './validate';
import { inRanges, isBranched, pathTo, treeOf } from './tree';

export const EXPORT_FORMAT = 'mnemo-export';
export const EXPORT_VERSION = 1;

// ---- records -----------------------------------------------------------------------------------

const IsoDate = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .refine((d) => d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999, 'must be a date between the years 1 and 9999');

const HeaderRecord = z.strictObject({ type: z.literal(EXPORT_FORMAT), version: z.literal(EXPORT_VERSION) });
const UserRecord = z.strictObject({
  type: z.literal('user'),
  userId: Id,
  uuid: Id,
  email: Text.max(320).nullable(),
  firstName: Text.max(256).nullable(),
  lastName: Text.max(256).nullable(),
  metadata: Metadata,
  createdAt: IsoDate,
  updatedAt: IsoDate,
});
const SessionRecord = z.strictObject({
  type: z.literal('session'),
  sessionId: Id,
  uuid: Id,
  userId: Id.nullable(),
  metadata: Metadata,
  retentionDays: AddSessionInput.shape.retentionDays,
  createdAt: IsoDate,
  updatedAt: IsoDate,
  lastMessageAt: IsoDate.nullable(),
  lastActiveAt: IsoDate,
  /**
   * Only for a session with branches (tree.ts): its lines as `[start, parent]` (parent 0: a root), by
   * `start`, and its head's `seq` when the head is not the newest message. Messages keep their `seq`,
   * so these numbers mean the same after an import.
   */
  tree: z
    .strictObject({
      lines: z
        .array(z.tuple([z.number().int().min(2).max(Number.MAX_SAFE_INTEGER), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)]))
        .max(100_000)
        .refine((lines) => lines.every(([start, parent], i) => parent < start && (i === 0 || start > lines[i - 1]![0])), {
          message: 'lines must ascend by start, each under a message numbered before it',
        }),
      headSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(),
    })
    .optional(),
});
const MessageRecord = z.strictObject({
  type: z.literal('message'),
  sessionId: Id,
  uuid: MessageId,
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  role: NewMessage.shape.role,
  content: Text,
  parts: Parts.nullable(),
  status: z.enum(MESSAGE_STATUSES),
  metadata: Metadata,
  tokenCount: z.number().int().min(0),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});
/** A message from a source without sequence numbers (Zep): it goes after the session's last. */
const AppendedMessageRecord = MessageRecord.extend({ seq: MessageRecord.shape.seq.optional() });
/** A progressive summary of the session's messages up to and including `recentSeq` (`recentMessageUuid`). */
const SummaryRecord = z.strictObject({
  type: z.literal('summary'),
  sessionId: Id,
  uuid: Id,
  content: Text,
  recentMessageUuid: MessageId,
  recentSeq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  tokenCount: z.number().int().min(0),
  metadata: Metadata,
  createdAt: IsoDate,
});
/** A summary from a source without sequence numbers (Zep): `recentSeq` is that of its session's message `recentMessageUuid`. */
const AppendedSummaryRecord = SummaryRecord.extend({ recentSeq: SummaryRecord.shape.recentSeq.optional() });

/** The records of an export, as written (one JSON object per line). */
export type ExportHeader = z.input<typeof HeaderRecord>;
export type UserRecord = z.input<typeof UserRecord>;
export type SessionRecord = z.input<typeof SessionRecord>;
export type MessageRecord = z.input<typeof MessageRecord>;
export type SummaryRecord = z.input<typeof SummaryRecord>;
export type ExportRecord = ExportHeader | UserRecord | SessionRecord | MessageRecord | SummaryRecord;

type UserIn = z.output<typeof UserRecord>;
type SessionIn = z.output<typeof SessionRecord>;
/** `parts` as the JSON text to store; `seq` absent: after the session's last message. */
type MessageIn = Omit<z.output<typeof AppendedMessageRecord>, 'parts'> & { parts: string | null };
/** `recentSeq` absent: that of the session's message `recentMessageUuid`. */
type SummaryIn = z.output<typeof AppendedSummaryRecord>;

/** A record to import, with where it came from (for errors). */
interface Item {
  /** "line 12", or what a Zep import names. */
  where: string;
  record: UserIn | SessionIn | MessageIn | SummaryIn;
  /** Roughly its size in memory (batches are bounded by it too). */
  weight: number;
}

/** An input that cannot be imported: `where` names the line (or the Zep record). */
export class ImportError extends ValidationError {
  override name = 'ImportError';
  constructor(
    readonly where: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${where}: ${problem}`, options);
  }
}

export interface TransferCounts {
  users: number;
  sessions: number;
  messages: number;
  summaries: number;
}
export interface ImportResult {
  /** Written by this import. */
  imported: TransferCounts;
  /** Already present (or repeated in the input), left as they were. */
  skipped: TransferCounts;
}
export interface ExportOptions {
  /** Only this user (NOT_FOUND when there is no live user with the id), its sessions and their messages. */
  userId?: string;
  /** Called with the counts written so far, every 64 KiB of output and at the end. */
  onProgress?: (written: TransferCounts) => void;
}
export interface ImportOptions {
  /** Called after each batch with the counts so far. */
  onProgress?: (progress: ImportResult) => void;
}

const iso = (d: Date) => d.toISOString();

function userRecord(d: UserDoc): UserRecord {
  return {
    type: 'user',
    userId: d.userId,
    uuid: d.uuid,
    email: d.email ?? null,
    firstName: d.firstName ?? null,
    lastName: d.lastName ?? null,
    metadata: d.metadata ?? {},
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  };
}

function sessionRecord(d: SessionDoc): SessionRecord {
  return {
    type: 'session',
    sessionId: d.sessionId,
    uuid: d.uuid,
    userId: d.userId ?? null,
    metadata: d.metadata ?? {},
    retentionDays: d.retentionDays ?? null,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
    lastMessageAt: d.lastMessageAt ? iso(d.lastMessageAt) : null,
    lastActiveAt: iso(d.lastActiveAt ?? d.createdAt),
    ...(isBranched(d) && {
      tree: { lines: (d.lines ?? []).map((l): [number, number] => [l.start, l.parent]), headSeq: d.headSeq ?? null },
    }),
  };
}

/** The stored state: `status` is 'streaming', 'complete' or 'stopped' (absent: complete); `interrupted` is computed on reading. */
function messageRecord(d: MessageDoc): MessageRecord {
  return {
    type: 'message',
    sessionId: d.sessionId,
    uuid: d.uuid,
    seq: d.seq,
    role: d.role,
    content: d.content,
    parts: d.parts !== undefined ? JSON.parse(d.parts) : null,
    status: d.status ?? 'complete',
    metadata: d.metadata ?? {},
    tokenCount: d.tokenCount,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  };
}

function summaryRecord(d: SummaryDoc): SummaryRecord {
  return {
    type: 'summary',
    sessionId: d.sessionId,
    uuid: d.uuid,
    content: d.content,
    recentMessageUuid: d.recentMessageUuid,
    recentSeq: d.recentSeq,
    tokenCount: d.tokenCount,
    metadata: d.metadata ?? {},
    createdAt: iso(d.createdAt),
  };
}

/** A read started now, awaited later: its failure is reported when awaited, never as unhandled. */
function early<T>(read: Promise<T>): Promise<T> {
  read.catch(() => {});
  return read;
}

// ---- parsing -----------------------------------------------------------------------------------

const MAX_LINE = 64 * 1024 * 1024;

/** The lines of a UTF-8 input, numbered from 1, read as the consumer asks for them. */
async function* numberedLines(input: AsyncIterable<string | Uint8Array>): AsyncGenerator<[number, string]> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let rest = '';
  let n = 0;
  const decode = (chunk?: Uint8Array) => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch (error) {
      throw new ImportError(`line ${n + 1}`, 'not valid UTF-8', { cause: error });
    }
  };
  for await (const chunk of input) {
    const parts = (rest + (typeof chunk === 'string' ? chunk : decode(chunk))).split('\n');
    rest = parts.pop()!;
    for (const line of parts) yield [++n, line.endsWith('\r') ? line.slice(0, -1) : line];
    if (rest.length > MAX_LINE) throw new ImportError(`line ${n + 1}`, `longer than ${MAX_LINE / 2 ** 20} MiB`);
  }
  rest += decode();
  if (rest !== '') yield [++n, rest];
}

/** Validates one record (a parsed line, or one a Zep import made); ImportError naming `where` if it is not one. */
function toItem(value: unknown, where: string, weight: number, { appended = false } = {}): Item | 'header' {
  const type = (value as { type?: unknown } | null)?.type;
  const schema =
    type === EXPORT_FORMAT
      ? HeaderRecord
      : type === 'user'
        ? UserRecord
        : type === 'session'
          ? SessionRecord
          : type === 'message'
            ? appended
              ? AppendedMessageRecord
              : MessageRecord
            : type === 'summary'
              ? appended
                ? AppendedSummaryRecord
                : SummaryRecord
              : undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ImportError(where, 'not a JSON object');
  if (!schema)
    throw new ImportError(where, `unknown record type ${JSON.stringify(type)} (expected "user", "session", "message" or "summary")`);
  const result = schema.safeParse(value);
  if (!result.success) throw new ImportError(where, `${String(type)} record: ${describeZodError(result.error)}`, { cause: result.error });
  const record = result.data;
  if (record.type === EXPORT_FORMAT) return 'header';
  if (record.type === 'message') {
    // Stored as given (the parsed line, not zod's copy of it): as the API stores parts.
    const parts = (value as { parts?: unknown }).parts;
    return { where, weight, record: { ...record, parts: parts === null || parts === undefined ? null : JSON.stringify(parts) } };
  }
  return { where, weight, record };
}

/** The records of an export file, validated, header first. */
async function* fileItems(input: AsyncIterable<string | Uint8Array>): AsyncGenerator<Item> {
  let header = false;
  for await (const [n, line] of numberedLines(input)) {
    if (line.trim() === '') continue;
    const where = `line ${n}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new ImportError(where, `not JSON (${(error as Error).message})`, { cause: error });
    }
    if (!header) {
      const { type, version } = (value ?? {}) as { type?: unknown; version?: unknown };
      if (type !== EXPORT_FORMAT)
        throw new ImportError(where, `not a Mnemo export: the first line must be {"type":"${EXPORT_FORMAT}","version":${EXPORT_VERSION}}`);
      if (version !== EXPORT_VERSION)
        throw new ImportError(where, `unsupported export version ${JSON.stringify(version)} (this Mnemo reads version ${EXPORT_VERSION})`);
    }
    const item = toItem(value, where, line.length);
    if (!header) header = true;
    else if (item === 'header') throw new ImportError(where, 'a second header: only the first line is one');
    else yield item;
  }
  if (!header) throw new ImportError('line 1', 'empty input: not a Mnemo export');
}

// ---- the service -------------------------------------------------------------------------------

export interface TransferOptions {
  /** Queues the embeddings of imported messages (search; a no-op without an embeddings provider). */
  queueEmbeddings?: (sessionId: string, docs: MessageDoc[]) => void;
  /** Resolves when queued embeddings are done: each batch waits for its own, so memory stays bounded. */
  idle?: () => Promise<void>;
  /** Called after summaries of the session were imported (the summarizer forgets what it knew of them). */
  onSummaries?: (sessionId: string) => void;
}

const BATCH_RECORDS = 1000;
/** Bucket reads an export keeps under way. */
const READ_AHEAD = 16;
/** Inserts of a batch's messages (and then of their search documents) sent at once, in chunks. */
const INSERT_CHUNKS = 4;
const BATCH_WEIGHT = 16 * 1024 * 1024;
/** Sessions this run created, remembered (up to this many) so their messages need no existence checks. */
const FRESH_MEMORY = 10_000;

export function createTransfer(
  c: Collections,
  serialize: Serialize,
  store: Store,
  listing: Listing,
  { queueEmbeddings, idle, onSummaries }: TransferOptions = {},
) {
  /** The live documents of a listed collection in list order, a bucket at a time (the next one read meanwhile). */
  async function* listed<D extends UserDoc | SessionDoc>(
    name: 'users' | 'sessions',
    read: (listBucket: number) => Promise<D[]>,
  ): AsyncGenerator<D> {
    const last = bucketOf((await c.meta.findOne({ _id: name }))?.last ?? 0);
    let next = early(read(0));
    for (let bucket = 0; bucket <= last; bucket++) {
      const docs = await next;
      if (bucket < last) next = early(read(bucket + 1));
      yield* docs.filter((d) => d.listNo !== undefined).sort((a, b) => a.listNo! - b.listNo!);
    }
  }

  /**
   * Each session, then its live messages by `seq`, a bucket at a time, then (`withSummaries`) its
   * live summaries, with up to READ_AHEAD reads (of this session and the next ones) under way
   * meanwhile: bounded memory, busy database.
   */
  async function* sessionsWithMessages(
    sessions: AsyncIterator<SessionDoc>,
    withSummaries: boolean,
  ): AsyncGenerator<SessionRecord | MessageRecord | SummaryRecord> {
    const queue: ({ session: SessionDoc } | { docs: Promise<MessageDoc[]> } | { summaries: Promise<SummaryDoc[]> })[] = [];
    let reads = 0;
    let current: { sessionId: string; next: number; last: number } | undefined;
    let done = false;
    for (;;) {
      while (reads < READ_AHEAD && !done) {
        if (!current || current.next > current.last) {
          const { value: session, done: end } = await sessions.next();
          if (end) {
            done = true;
            break;
          }
          current = { sessionId: session.sessionId, next: 0, last: bucketOf(session.lastSeq) };
          queue.push({ session });
        }
        const bucket = bucketKey(current.sessionId, current.next++);
        queue.push({ docs: early(c.messages.find({ bucket, ...live }).toArray()) }); // messages_bucket
        reads++;
        if (withSummaries && current.next > current.last) {
          queue.push({ summaries: early(c.summaries.find({ sessionId: current.sessionId, ...live }).toArray()) }); // summaries_session
          reads++;
        }
      }
      const item = queue.shift();
      if (!item) return;
      if ('session' in item) {
        yield sessionRecord(item.session);
      } else if ('summaries' in item) {
        reads--;
        const docs = await item.summaries;
        docs.sort((a, b) => a.recentSeq - b.recentSeq || a.createdAt.getTime() - b.createdAt.getTime() || a.uuid.localeCompare(b.uuid));
        for (const d of docs) yield summaryRecord(d);
      } else {
        reads--;
        for (const d of (await item.docs).sort((a, b) => a.seq - b.seq)) yield messageRecord(d);
      }
    }
  }

  /** A user's live sessions in list order, 100 at a time (keyset on `listNo`). */
  async function* sessionsOf(userId: string): AsyncGenerator<SessionDoc> {
    for (let after = -1; ; ) {
      const docs = await c.sessions
        .find({ userId, ...live, listNo: { $gt: after } })
        .sort({ listNo: 1 })
        .limit(100)
        .toArray(); // sessions_user
      yield* docs;
      if (docs.length < 100) return;
      after = docs.at(-1)!.listNo!;
    }
  }

  /** The records of an export, header first. */
  async function* records({ userId }: ExportOptions = {}): AsyncGenerator<ExportRecord> {
    yield { type: EXPORT_FORMAT, version: EXPORT_VERSION };
    await store.sessions.settleAll(); // sessions are read from the database below
    let sessions: AsyncIterable<SessionDoc>;
    if (userId !== undefined) {
      const user = await c.users.findOne({ userId: parse(Id, userId), ...live }); // users_userId
      if (!user) throw userNotFound(userId);
      yield userRecord(user);
      sessions = sessionsOf(userId);
    } else {
      for await (const user of listed('users', (listBucket) => c.users.find({ listBucket, live: true }).toArray())) yield userRecord(user); // users_list
      sessions = listed('sessions', (listBucket) => c.sessions.find({ listBucket, live: true }).toArray()); // sessions_list
    }
    // Without any summary stored (no model configured, the usual case) no session's summaries are read.
    const withSummaries = (await c.summaries.findOne({}, { projection: { _id: 1 } })) !== null;
    yield* sessionsWithMessages(sessions[Symbol.asyncIterator](), withSummaries);
  }

  /**
   * What an export with these options writes, from the stored counters (a session's `messageCount` is its live
   * messages): one read of the live sessions, none of the messages. For progress reports; data written during
   * an export can make it differ from the export's own counts.
   */
  async function totals({ userId }: Pick<ExportOptions, 'userId'> = {}): Promise<TransferCounts> {
    const sessions =
      userId === undefined
        ? c.sessions.find({ live: true }, { projection: { messageCount: 1 } }) // sessions_list
        : c.sessions.find({ userId, ...live }, { projection: { messageCount: 1, sessionId: 1 } }); // sessions_user
    const counts: TransferCounts = {
      users: userId === undefined ? await c.users.countDocuments({ live: true }) : 1, // users_list
      sessions: 0,
      messages: 0,
      // A deleted session's summaries are deleted with it: the live ones are those of live sessions.
      summaries: userId === undefined ? await c.summaries.countDocuments(live) : 0,
    };
    let ids: string[] = [];
    const countSummaries = async () => {
      if (ids.length > 0) counts.summaries += await c.summaries.countDocuments({ sessionId: { $in: ids }, ...live }); // summaries_session
      ids = [];
    };
    for await (const session of sessions) {
      counts.sessions++;
      counts.messages += session.messageCount ?? 0;
      if (userId !== undefined) ids.push(session.sessionId);
      if (ids.length >= 1000) await countSummaries();
    }
    await countSummaries();
    return counts;
  }

  /** Writes the export to `out` (left open), waiting whenever it asks to; resolves with what was written. */
  async function exportTo(out: Writable, options: ExportOptions = {}): Promise<TransferCounts> {
    const counts: TransferCounts = { users: 0, sessions: 0, messages: 0, summaries: 0 };
    let failure: Error | undefined;
    const onError = (error: Error) => (failure ??= error);
    out.on('error', onError);
    const write = async (text: string) => {
      if (failure) throw failure;
      if (!out.write(text)) await drained(out);
      if (failure) throw failure;
    };
    try {
      let chunk = '';
      for await (const record of records(options)) {
        if (record.type !== EXPORT_FORMAT) counts[record.type === 'summary' ? 'summaries' : (`${record.type}s` as const)]++;
        chunk += `${JSON.stringify(record)}\n`;
        if (chunk.length >= 64 * 1024) {
          await write(chunk);
          chunk = '';
          options.onProgress?.({ ...counts });
        }
      }
      if (chunk !== '') await write(chunk);
      options.onProgress?.({ ...counts });
      return counts;
    } finally {
      out.off('error', onError);
    }
  }

  // ---- import ----------------------------------------------------------------------------------

  /** What a batch knows of a session its messages go to. */
  interface SessionState {
    /** Created by this run (or replaced): only this run's messages can be in it. */
    fresh: boolean;
    /** Its highest `seq`, as of the start of the batch, plus what the batch appended. */
    lastSeq: number;
  }

  interface Plan {
    users: { doc: Omit<UserDoc, '_id' | 'listNo' | 'listBucket'>; replace: boolean }[];
    sessions: { doc: Omit<SessionDoc, '_id' | 'listNo' | 'listBucket'>; replace: boolean }[];
    messages: { where: string; doc: MessageDoc; terms: string[] }[];
    /** Written without `latestOf`: the newest of each session gets it once they are all written. */
    summaries: SummaryDoc[];
    /** Stale documents in the way of imported ones (soft-deleted messages with the same id or seq): removed first. */
    drop: ObjectId[];
    /** Soft-deleted summaries with the id of an imported one: removed first. */
    dropSummaries: ObjectId[];
    problem?: ImportError;
  }

  function newResult(): ImportResult {
    return {
      imported: { users: 0, sessions: 0, messages: 0, summaries: 0 },
      skipped: { users: 0, sessions: 0, messages: 0, summaries: 0 },
    };
  }

  /** Decides, record by record in input order, what to write; stops at the first record that cannot be imported. */
  async function plan(items: Item[], result: ImportResult, fresh: Set<string>): Promise<Plan> {
    const out: Plan = { users: [], sessions: [], messages: [], summaries: [], drop: [], dropSummaries: [] };
    const users = new Set<string>(); // live once this batch is written
    const sessions = new Map<string, SessionState | null>();
    const seen = new Set<string>(); // sessionId␟uuid of this batch's messages
    const seenSummaries = new Set<string>(); // sessionId␟uuid of this batch's summaries
    const seqs = new Map<string, string>(); // sessionId␟seq → where
    const buckets = new Map<string, Promise<MessageDoc[]>>();
    const bucketDocs = (sessionId: string, bucket: number) => {
      const key = bucketKey(sessionId, bucket);
      let docs = buckets.get(key);
      if (!docs) buckets.set(key, (docs = c.messages.find({ bucket: key }).toArray())); // messages_bucket (deleted ones too)
      return docs;
    };
    const sessionState = async (sessionId: string): Promise<SessionState | null> => {
      if (!sessions.has(sessionId)) {
        const doc = await c.sessions.findOne({ sessionId, ...live }, { projection: { lastSeq: 1 } }); // sessions_sessionId
        sessions.set(sessionId, doc && { fresh: fresh.has(sessionId), lastSeq: doc.lastSeq });
      }
      return sessions.get(sessionId)!;
    };

    for (const { where, record } of items) {
      const problem = (message: string) => (out.problem = new ImportError(where, message));
      if (record.type === 'user') {
        const existing = users.has(record.userId)
          ? { deletedAt: null }
          : await c.users.findOne({ userId: record.userId }, { projection: { deletedAt: 1 } }); // users_userId
        if (existing?.deletedAt === null) {
          result.skipped.users++;
          continue;
        }
        const { userId, uuid, email, firstName, lastName, metadata, createdAt, updatedAt } = record;
        const profile = {
          ...(email !== null && { email }),
          ...(firstName !== null && { firstName }),
          ...(lastName !== null && { lastName }),
        };
        out.users.push({ doc: { uuid, userId, ...profile, metadata, createdAt, updatedAt, ...revive }, replace: existing !== null });
        users.add(userId);
      } else if (record.type === 'session') {
        const { sessionId, userId } = record;
        const existing = sessions.get(sessionId)
          ? { deletedAt: null }
          : await c.sessions.findOne({ sessionId }, { projection: { deletedAt: 1, lastSeq: 1 } }); // sessions_sessionId
        if (existing?.deletedAt === null) {
          result.skipped.sessions++;
          await sessionState(sessionId);
          continue;
        }
        if (userId !== null && !users.has(userId)) {
          if (!(await c.users.findOne({ userId, ...live }, { projection: { _id: 1 } }))) {
            problem(
              `session ${JSON.stringify(sessionId)}: its user ${JSON.stringify(userId)} is neither in the database nor earlier in the input`,
            );
            break;
          }
          users.add(userId);
        }
        const { uuid, metadata, retentionDays, createdAt, updatedAt, lastMessageAt, lastActiveAt, tree } = record;
        out.sessions.push({
          doc: {
            uuid,
            sessionId,
            userId,
            metadata,
            ...(retentionDays != null && { retentionDays }),
            lastSeq: 0,
            messageCount: 0,
            createdAt,
            updatedAt,
            lastMessageAt,
            lastActiveAt,
            ...(tree && {
              ...(tree.lines.length > 0 && { lines: tree.lines.map(([start, parent]) => ({ start, parent })) }),
              ...(tree.headSeq !== null && { headSeq: tree.headSeq }),
              offPath: 0,
            }),
            ...revive,
          },
          replace: existing !== null,
        });
        sessions.set(sessionId, { fresh: true, lastSeq: 0 });
      } else if (record.type === 'summary') {
        const { sessionId, uuid, recentMessageUuid } = record;
        const state = await sessionState(sessionId);
        if (!state) {
          problem(`summary ${uuid}: its session ${JSON.stringify(sessionId)} is neither in the database nor earlier in the input`);
          break;
        }
        const id = `${sessionId}\u001f${uuid}`;
        if (seenSummaries.has(id)) {
          result.skipped.summaries++; // repeated in the input: the first one counts
          continue;
        }
        // Looked up even in a session this run created: summaries have no unique index to catch a repeat.
        const same = await c.summaries.findOne({ sessionId, uuid }, { projection: { deletedAt: 1 } }); // summaries_session
        if (same?.deletedAt === null) {
          seenSummaries.add(id);
          result.skipped.summaries++;
          continue;
        }
        if (same) out.dropSummaries.push(same._id);
        // From a source without numbers (Zep): the number of the message it names, in this batch or stored.
        const recentSeq =
          record.recentSeq ??
          out.messages.find((m) => m.doc.sessionId === sessionId && m.doc.uuid === recentMessageUuid)?.doc.seq ??
          (await c.messages.findOne({ uuid: recentMessageUuid, sessionId, ...live }, { projection: { seq: 1 } }))?.seq; // messages_id
        if (recentSeq === undefined) {
          problem(`summary ${uuid}: its recent message ${recentMessageUuid} is not a message of session ${JSON.stringify(sessionId)}`);
          break;
        }
        seenSummaries.add(id);
        const { content, tokenCount, metadata, createdAt } = record;
        out.summaries.push({
          _id: new ObjectId(),
          uuid,
          sessionId,
          content,
          recentMessageUuid,
          recentSeq,
          tokenCount,
          metadata,
          createdAt,
          deletedAt: null,
        });
      } else {
        const { sessionId, uuid } = record;
        const state = await sessionState(sessionId);
        if (!state) {
          problem(`message ${uuid}: its session ${JSON.stringify(sessionId)} is neither in the database nor earlier in the input`);
          break;
        }
        const id = `${sessionId}\u001f${uuid}`;
        if (seen.has(id)) {
          result.skipped.messages++; // repeated in the input: the first one counts
          continue;
        }
        let seq = record.seq;
        if (!state.fresh) {
          // Already here (a re-run), here under another seq, or in the way (soft-deleted)?
          const at = seq === undefined ? undefined : (await bucketDocs(sessionId, bucketOf(seq))).find((d) => d.seq === seq);
          const same = at?.uuid === uuid ? at : await c.messages.findOne({ uuid, sessionId }, { projection: { deletedAt: 1, seq: 1 } }); // messages_id
          if (same && same.deletedAt === null) {
            seen.add(id);
            result.skipped.messages++;
            continue;
          }
          if (at && at.deletedAt === null) {
            problem(`message ${uuid}: seq ${seq} of session ${JSON.stringify(sessionId)} is taken by another message (${at.uuid})`);
            break;
          }
          for (const stale of [same, at]) if (stale && !out.drop.some((d) => d.equals(stale._id))) out.drop.push(stale._id);
        }
        seq ??= state.lastSeq + 1;
        const seqKey = `${sessionId}\u001f${seq}`;
        if (seqs.has(seqKey)) {
          problem(
            `message ${uuid}: seq ${seq} of session ${JSON.stringify(sessionId)} is already used by the message on ${seqs.get(seqKey)}`,
          );
          break;
        }
        seen.add(id);
        seqs.set(seqKey, where);
        state.lastSeq = Math.max(state.lastSeq, seq);
        const { role, content, parts, status, metadata, tokenCount, createdAt, updatedAt } = record;
        out.messages.push({
          where,
          terms: tokenize(content),
          doc: {
            _id: new ObjectId(),
            uuid,
            sessionId,
            seq,
            bucket: bucketKey(sessionId, bucketOf(seq)),
            role,
            content,
            ...(parts !== null && { parts }),
            status,
            metadata,
            tokenCount,
            createdAt,
            updatedAt,
            deletedAt: null,
          },
        });
      }
    }
    return out;
  }

  /** Inserts the planned messages; ids or seqs taken meanwhile (or repeated across batches) are sorted out one by one. */
  async function insertMessages(
    planned: Plan['messages'],
    result: ImportResult,
  ): Promise<{ stored: Plan['messages']; problem?: ImportError }> {
    if (planned.length === 0) return { stored: [] };
    const failed = new Set<number>();
    await inChunks(planned, async (chunk, offset) => {
      try {
        await c.messages.insertMany(
          chunk.map((m) => m.doc),
          { ordered: false },
        );
      } catch (error) {
        const duplicates = error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : [];
        if (duplicates.length === 0 || duplicates.some((e) => e.code !== 11000)) throw error;
        for (const e of duplicates) failed.add(offset + e.index);
      }
    });
    let problem: ImportError | undefined;
    const stored = planned.filter((_, i) => !failed.has(i));
    for (const i of [...failed].sort((a, b) => a - b)) {
      const { doc, where } = planned[i]!;
      const { sessionId, uuid, seq } = doc;
      const same = await c.messages.findOne({ uuid, sessionId }); // messages_id
      const at = await c.messages.findOne({ sessionId, seq }); // messages_session_seq
      if (same?.deletedAt === null) {
        result.skipped.messages++;
        continue;
      }
      if (at && at.deletedAt === null) {
        problem ??= new ImportError(
          where,
          `message ${uuid}: seq ${seq} of session ${JSON.stringify(sessionId)} is taken by another message (${at.uuid})`,
        );
        continue;
      }
      for (const stale of [same, at])
        if (stale) await Promise.all([c.messages.deleteOne({ _id: stale._id }), c.search.deleteOne({ _id: stale._id })]);
      await c.messages.insertOne(doc);
      stored.push(planned[i]!);
    }
    return { stored, problem };
  }

  /**
   * Writes a planned batch (see writePlan); then what memory holds of the sessions it touched
   * (store/) is read again, whatever happened.
   */
  async function write(p: Plan, result: ImportResult, fresh: Set<string>): Promise<ImportError | undefined> {
    try {
      return await writePlan(p, result, fresh);
    } finally {
      const touched = new Set([
        ...p.sessions.map(({ doc }) => (doc as SessionDoc).sessionId),
        ...p.messages.map(({ doc }) => doc.sessionId),
      ]);
      for (const sessionId of touched) store.buckets.invalidate(sessionId);
      await store.sessions.reload(touched);
      await store.users.reload(p.users.map(({ doc }) => doc.userId));
    }
  }

  /** Writes a planned batch: users, then sessions, then messages (their parents are written by then). */
  async function writePlan(p: Plan, result: ImportResult, fresh: Set<string>): Promise<ImportError | undefined> {
    for (const list of [p.users, p.sessions]) {
      const name = list === p.users ? 'users' : 'sessions';
      if (list.length === 0) continue;
      const first = await listing.reserve(name, list.length); // list numbers in input order
      const inserts = [];
      for (const [i, { doc, replace }] of list.entries()) {
        const full = { ...doc, listNo: first + i, listBucket: bucketOf(first + i) };
        if (replace && 'sessionId' in doc) {
          // The soft-deleted session's messages go now (they would be purged), so ids and seqs are free.
          await c.messages.deleteMany({ sessionId: doc.sessionId }); // messages_session_seq
          await c.search.deleteMany({ sessionId: doc.sessionId }); // search_session
          await c.summaries.deleteMany({ sessionId: doc.sessionId }); // summaries_session
          onSummaries?.(doc.sessionId);
        }
        const key = 'sessionId' in doc ? { sessionId: doc.sessionId } : { userId: (doc as UserDoc).userId };
        const replaced =
          replace && (await (c[name] as typeof c.users).findOneAndReplace({ ...key, deletedAt: { $ne: null } } as never, full as never));
        if (!replaced) inserts.push({ ...full, _id: new ObjectId() });
      }
      if (inserts.length > 0) await (c[name] as typeof c.users).insertMany(inserts as never[], { ordered: true });
      result.imported[name] += list.length;
      if (name === 'sessions') {
        for (const { doc } of p.sessions) {
          fresh.add((doc as SessionDoc).sessionId);
          if (fresh.size > FRESH_MEMORY) fresh.delete(fresh.values().next().value!);
        }
      }
    }

    for (const id of p.drop) await Promise.all([c.messages.deleteOne({ _id: id }), c.search.deleteOne({ _id: id })]);
    const { stored, problem } = await insertMessages(p.messages, result);
    if (stored.length > 0) {
      await inChunks(stored, (chunk) =>
        c.search.insertMany(chunk.map(({ doc, terms }) => ({ _id: doc._id, sessionId: doc.sessionId, deletedAt: null, terms }))),
      );
      const bySession = new Map<string, Plan['messages']>();
      for (const m of stored) bySession.set(m.doc.sessionId, [...(bySession.get(m.doc.sessionId) ?? []), m]);
      for (const [sessionId, messages] of bySession) {
        const termLength = messages.reduce((sum, m) => sum + m.terms.length, 0);
        const lastSeq = Math.max(...messages.map((m) => m.doc.seq));
        const oldestMessageAt = new Date(Math.min(...messages.map((m) => m.doc.createdAt.getTime())));
        await serialize(sessionKey(sessionId), async () => {
          const session = await c.sessions.findOneAndUpdate(
            { sessionId }, // sessions_sessionId
            {
              $max: { lastSeq },
              $min: { oldestMessageAt },
              $inc: { messageCount: messages.length, termDocs: messages.length, termLength },
            },
            { returnDocument: 'after' },
          );
          if (session && isBranched(session)) {
            // The active path goes to the head, or (none stored: the newest) down the last line whatever its length.
            const path = pathTo(treeOf(session), session.headSeq ?? Number.MAX_SAFE_INTEGER);
            const off = messages.filter((m) => !inRanges(path, m.doc.seq)).length;
            if (off > 0) await c.sessions.updateOne({ sessionId }, { $inc: { offPath: off } }); // sessions_sessionId
          }
        });
        queueEmbeddings?.(
          sessionId,
          messages.map((m) => m.doc).filter((d) => d.status !== 'streaming'),
        );
      }
      result.imported.messages += stored.length;
      await idle?.();
    }
    await writeSummaries(p, result);
    return problem;
  }

  /**
   * Writes the planned summaries, then marks each touched session's newest live one (highest
   * `recentSeq`) as its latest, under the session's lock as the summarizer writes, and tells the
   * summarizer that they changed.
   */
  async function writeSummaries(p: Plan, result: ImportResult): Promise<void> {
    if (p.summaries.length === 0 && p.dropSummaries.length === 0) return;
    for (const _id of p.dropSummaries) await c.summaries.deleteOne({ _id });
    if (p.summaries.length > 0) await c.summaries.insertMany(p.summaries, { ordered: true });
    result.imported.summaries += p.summaries.length;
    for (const sessionId of new Set(p.summaries.map((d) => d.sessionId))) {
      await serialize(sessionKey(sessionId), async () => {
        const [newest] = await c.summaries
          .find({ sessionId, ...live })
          .sort({ recentSeq: -1, createdAt: -1 })
          .limit(1)
          .toArray(); // summaries_session
        if (!newest) return;
        await c.summaries.updateMany({ latestOf: sessionId, _id: { $ne: newest._id } }, { $unset: { latestOf: '' } }); // summaries_latest
        if (newest.latestOf !== sessionId) await c.summaries.updateOne({ _id: newest._id }, { $set: { latestOf: sessionId } }); // _id
      });
      onSummaries?.(sessionId);
    }
  }

  /** Imports validated records in batches; the next batch is read while one is written. */
  async function importItems(items: AsyncIterable<Item>, { onProgress }: ImportOptions = {}): Promise<ImportResult> {
    await store.sessions.settleAll(); // sessions are read from the database and written below
    const result = newResult();
    const fresh = new Set<string>();
    let writing: Promise<void> = Promise.resolve();
    const submit = async (batch: Item[]) => {
      await writing;
      writing = early(
        (async () => {
          if (batch.length === 0) return;
          const p = await plan(batch, result, fresh);
          const problem = await write(p, result, fresh);
          onProgress?.(result);
          if (p.problem ?? problem) throw p.problem ?? problem;
        })(),
      );
    };
    let batch: Item[] = [];
    let weight = 0;
    try {
      for await (const item of items) {
        batch.push(item);
        weight += item.weight;
        if (batch.length >= BATCH_RECORDS || weight >= BATCH_WEIGHT) {
          await submit(batch);
          batch = [];
          weight = 0;
        }
      }
    } catch (error) {
      // The input is bad from here on: what came before it is imported, then the error is reported.
      await submit(batch);
      await writing;
      throw error;
    }
    await submit(batch);
    await writing;
    return result;
  }

  function importRecords(source: AsyncIterable<{ where: string; record: unknown; weight?: number }>, options?: ImportOptions) {
    return importItems(
      (async function* () {
        for await (const { where, record, weight = 1024 } of source) {
          const item = toItem(record, where, weight, { appended: true });
          if (item !== 'header') yield item;
        }
      })(),
      options,
    );
  }

  return {
    /** The export's records, header first (see the top of this file). */
    records,
    /** Writes the export as JSON Lines to `out` (not ended), respecting its backpressure; resolves with the counts. */
    export: exportTo,
    /** What an export would write (users, sessions, messages), from stored counters: the total of a progress report. */
    totals,
    /** Reads an export (JSON Lines, UTF-8) from `input` and imports it; idempotent (see the top of this file). */
    import: (input: AsyncIterable<string | Uint8Array>, options?: ImportOptions) => importItems(fileItems(input), options),
    /**
     * Imports records made by another source (Zep, transfer-zep.ts): export records, each named by
     * `where` for errors, whose messages may leave out `seq` (they then go after the session's last).
     */
    importRecords,
    /** Imports the users, sessions and messages of a running Zep v0.x server over its REST API (transfer-zep.ts); idempotent. */
    importZep: (options: ZepImportOptions & ImportOptions) => importRecords(zepRecords(options), options),
  };
}

export type Transfer = ReturnType<typeof createTransfer>;

/** Runs `write` on INSERT_CHUNKS slices of `items` at once (with each slice's offset). */
async function inChunks<T>(items: T[], write: (chunk: T[], offset: number) => Promise<unknown>): Promise<void> {
  const size = Math.ceil(items.length / INSERT_CHUNKS);
  const chunks = Array.from({ length: Math.ceil(items.length / size) }, (_, i) => i * size);
  const results = await Promise.allSettled(chunks.map((offset) => write(items.slice(offset, offset + size), offset)));
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
}

/** Resolves when `out` can take more, rejects if it fails or closes first. */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (error?: Error) => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => done();
    const onError = (error: Error) => done(error);
    const onClose = () => done(new Error('the output was closed before the export finished'));
    out.once('drain', onDrain);
    out.once('error', onError);
    out.once('close', onClose);
  });
}
