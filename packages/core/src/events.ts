/**
 * Live updates: every write path in core publishes what it changed here, after it is stored, so
 * tRPC and REST writes alike reach subscribers (the tRPC subscriptions `message.onChange` and
 * `session.onChange`, served over SSE).
 *
 * In-process: a subscriber sees the writes of the server instance it is connected to. Several
 * instances behind one address need sticky routing of a session's clients, or a fan-out this bus
 * does not do yet (README, "Live updates").
 *
 * Resuming: every event has an id `<epoch>.<n>`; the last EVENT_LOG_SIZE events (EVENT_LOG_BYTES at most) are kept, so a
 * client that reconnects with the id of the last event it saw gets the ones it missed. When they are
 * gone (a long disconnection, a restarted server: another epoch) or it had none, it first gets
 * `{ type: 'reset' }`: re-read, what you hold may be stale.
 */
import { randomUUID } from 'node:crypto';
import type { Message, Session, Summary } from './schemas';

/** The session and all its messages were deleted: on both a session's and a session list's stream. */
export type SessionDeletedEvent = { type: 'session-deleted'; sessionId: string; userId: string | null };

export type MessageEvent =
  /** Messages added or changed: replace by `uuid`, or insert by `seq`. */
  | { type: 'messages'; sessionId: string; messages: Message[] }
  /** Messages deleted: one, or a truncation. */
  | { type: 'deleted'; sessionId: string; uuids: string[] }
  /** A new summary of the session (made in the background after the writes it covers). */
  | { type: 'summary'; sessionId: string; summary: Summary }
  | SessionDeletedEvent;

export type SessionEvent =
  /** A session created or changed (metadata, deleted and revived, new messages). */
  { type: 'session'; session: Session } | SessionDeletedEvent;

export type ResetEvent = { type: 'reset' };
export type CoreEvent = MessageEvent | SessionEvent;
export interface Tracked<E> {
  id: string;
  event: E | ResetEvent;
}

export const EVENT_LOG_SIZE = 10_000;
/** About this much text at most, whatever the events carry (a long reply streamed in many updates). */
export const EVENT_LOG_BYTES = 32 * 1024 * 1024;
/** Events waiting for a subscriber that does not read them; past that it is sent a reset instead. */
const QUEUE_LIMIT = 10_000;

export function createEventBus() {
  const epoch = randomUUID().slice(0, 8);
  let last = 0;
  const log: { n: number; event: CoreEvent; size: number }[] = [];
  let logBytes = 0;
  const listeners = new Set<(n: number, event: CoreEvent) => void>();
  /** Wakes each open subscription when the bus closes. */
  const onClose = new Set<() => void>();
  let closed = false;

  /** Events of the log after `lastEventId` that pass `wanted`, or undefined when they cannot be known. */
  function missed(lastEventId: string | null | undefined, wanted: (e: CoreEvent) => boolean) {
    const [from, n] = lastEventId?.split('.') ?? [];
    const seen = Number(n);
    if (from !== epoch || !Number.isInteger(seen) || seen > last) return undefined;
    if (seen < last && (log.length === 0 || log[0]!.n > seen + 1)) return undefined; // fell out of the log
    return log.filter((entry) => entry.n > seen && wanted(entry.event));
  }

  /** Events passing `wanted`, from after `lastEventId` (see above), until `signal` aborts or the bus closes. */
  async function* subscribe<E extends CoreEvent>(
    wanted: (e: CoreEvent) => e is E,
    { lastEventId, signal }: { lastEventId?: string | null; signal?: AbortSignal },
  ): AsyncGenerator<Tracked<E>> {
    const queue: Tracked<E>[] = [];
    let wake: (() => void) | undefined;
    const push = (item: Tracked<E>) => {
      if (queue.length >= QUEUE_LIMIT) queue.splice(0, queue.length, { id: item.id, event: { type: 'reset' } });
      else queue.push(item);
      wake?.();
    };
    const listener = (n: number, event: CoreEvent) => {
      if (wanted(event)) push({ id: `${epoch}.${n}`, event });
    };
    listeners.add(listener);
    const stop = () => wake?.();
    const stopped = () => signal?.aborted || closed;
    signal?.addEventListener('abort', stop);
    onClose.add(stop);
    try {
      const replay = missed(lastEventId, wanted);
      if (replay) for (const { n, event } of replay) yield { id: `${epoch}.${n}`, event: event as E };
      else yield { id: `${epoch}.${last}`, event: { type: 'reset' } };
      while (!stopped()) {
        const item = queue.shift();
        if (item) yield item;
        else await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      listeners.delete(listener);
      signal?.removeEventListener('abort', stop);
      onClose.delete(stop);
    }
  }

  return {
    publish(event: CoreEvent): void {
      const n = ++last;
      const size = JSON.stringify(event).length;
      log.push({ n, event, size });
      logBytes += size;
      while (log.length > EVENT_LOG_SIZE || (logBytes > EVENT_LOG_BYTES && log.length > 1)) logBytes -= log.shift()!.size;
      for (const listener of listeners) listener(n, event);
    },
    /** A session's message events. */
    messages(sessionId: string, options: { lastEventId?: string | null; signal?: AbortSignal } = {}) {
      return subscribe((e): e is MessageEvent => e.type !== 'session' && e.sessionId === sessionId, options);
    },
    /** Session events: one user's sessions, or all sessions when `userId` is undefined. */
    sessions(userId: string | undefined, options: { lastEventId?: string | null; signal?: AbortSignal } = {}) {
      const owner = (e: CoreEvent) => (e.type === 'session' ? e.session.userId : e.type === 'session-deleted' ? e.userId : undefined);
      return subscribe(
        (e): e is SessionEvent => (e.type === 'session' || e.type === 'session-deleted') && (userId === undefined || owner(e) === userId),
        options,
      );
    },
    /**
     * Calls `listener` with every event from now on, synchronously as it is published (no log, no
     * queue: for in-process readers that keep their own state, e.g. streams/message-stream.ts).
     * Returns the function that stops it.
     */
    watch(listener: (event: CoreEvent) => void): () => void {
      const each = (_n: number, event: CoreEvent) => listener(event);
      listeners.add(each);
      return () => listeners.delete(each);
    },
    /** Whether the bus was closed (server shutdown). */
    get closed() {
      return closed;
    },
    /** Calls `listener` once when the bus closes; returns the function that stops it. */
    onClose(listener: () => void): () => void {
      onClose.add(listener);
      return () => onClose.delete(listener);
    },
    /** Ends every subscription (server shutdown). */
    close(): void {
      closed = true;
      for (const stop of onClose) stop();
    },
  };
}

export type EventBus = ReturnType<typeof createEventBus>;
export type Publish = EventBus['publish'];
