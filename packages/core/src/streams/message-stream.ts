/**
 * Reading a message as a stream (`message.stream`): what it holds so far, then each change as a
 * delta, then how it ended. A reply stored while a model streams it (`status: 'streaming'`,
 * `message.update({ append })` or its parts replaced) can so be followed by any number of readers,
 * joined late or reconnecting, with no store of its own: the offsets are the message's stored
 * `rev` and text length (db.ts, MessageDoc), so a reader resumes exactly where it was, nothing
 * twice, after a dropped connection or a restarted server alike.
 *
 * In-process, like events.ts: a reader follows the writes of the server instance it is connected
 * to (one instance, or sticky routing of a session's clients). Writes made elsewhere reach it only
 * when it reconnects; till then it would end as `interrupted` once the message is idle for
 * STREAM_IDLE_MS.
 */
import { type Collections, live, type MessageDoc } from '../db';
import { messageNotFound } from '../errors';
import type { EventBus } from '../events';
import { statusOf, toMessage } from '../mappers';
import { type Message, type MessageStreamEvent, MessageStreamInput, STREAM_IDLE_MS, type StreamEndStatus } from '../schemas';
import { parse } from '../validate';

/** A stream event and its id, `<rev>.<length>`: what a reader resumes from. */
export interface StreamItem {
  id: string;
  event: MessageStreamEvent;
}

/** A message as an update left it, with its API shape (computed once for every reader). */
interface Change {
  doc: MessageDoc;
  message: Message;
}

/** What a reader has: the message at `rev`, its text `length` characters long (UTF-16 code units, as JavaScript counts). */
interface Offset {
  rev: number;
  length: number;
}

const revOf = (d: MessageDoc) => d.rev ?? 0;
const idOf = (d: MessageDoc) => `${revOf(d)}.${d.content.length}`;

/**
 * What brings a reader at `sent` up to `doc`: nothing (it is there), the appended rest of the text
 * (only appends happened since: `baseRev` ≤ its rev), or the whole message.
 */
function delta({ doc, message }: Change, sent: Offset | undefined): MessageStreamEvent | undefined {
  if (sent && revOf(doc) === sent.rev && doc.content.length === sent.length) return undefined;
  if (sent && (doc.baseRev ?? 0) <= sent.rev && revOf(doc) >= sent.rev && sent.length <= doc.content.length) {
    const text = doc.content.slice(sent.length);
    return text ? { type: 'append', text } : undefined;
  }
  return { type: 'message', message };
}

/** Where a reader says it is: the id of its last event, or `from` characters of a message only ever appended to. */
function offsetOf(lastEventId: string | null | undefined, from: number | undefined): Offset | undefined {
  if (lastEventId) {
    const [rev, length] = lastEventId.split('.').map(Number);
    return { rev: rev!, length: length! };
  }
  return from === undefined ? undefined : { rev: 0, length: from };
}

export function createMessageStreams(c: Collections, events: EventBus) {
  /** The readers of each message, by `sessionId` and `uuid`. */
  const readers = new Map<string, Set<(change: Change) => void>>();
  const keyOf = (sessionId: string, uuid: string) => `${sessionId}\u0000${uuid}`;

  return {
    /** Called by every message update, in order, under the session's lock (memory.ts). */
    changed(doc: MessageDoc, message: Message): void {
      const set = readers.get(keyOf(doc.sessionId, doc.uuid));
      if (set) for (const reader of set) reader({ doc, message });
    },

    /**
     * The message as a stream (see the top of this file): from the reader's offset (MessageStreamInput)
     * to its end, or until `signal` aborts or the server closes. NOT_FOUND when the message is not
     * there, or once it is deleted; an AbortError when the server closes.
     */
    async *stream(input: MessageStreamInput, { signal }: { signal?: AbortSignal } = {}): AsyncGenerator<StreamItem> {
      const { sessionId, uuid, lastEventId, from } = parse(MessageStreamInput, input);
      const key = keyOf(sessionId, uuid);
      // Only the newest change matters: each holds the whole message, and the delta is computed from what was sent.
      let newest: Change | undefined;
      /** The newest change not yet taken, if any. */
      const take = () => {
        const change = newest;
        newest = undefined;
        return change;
      };
      let gone = false;
      let wake: (() => void) | undefined;
      const reader = (change: Change) => {
        newest = change;
        wake?.();
      };
      const set = readers.get(key) ?? new Set();
      readers.set(key, set.add(reader));
      const unwatch = events.watch((e) => {
        const deleted =
          (e.type === 'deleted' && e.sessionId === sessionId && e.uuids.includes(uuid)) ||
          (e.type === 'session-deleted' && e.sessionId === sessionId);
        if (deleted) {
          gone = true;
          wake?.();
        }
      });
      const stop = () => wake?.();
      const stopped = () => signal?.aborted || events.closed;
      signal?.addEventListener('abort', stop);
      const offClose = events.onClose(stop);
      try {
        // Listening first, then reading: a change made meanwhile is newer than what was read, and wins.
        const doc = await c.messages.findOne({ uuid, sessionId, ...live }); // messages_id
        if (!doc) throw messageNotFound(sessionId, uuid);
        const early = take();
        let current: Change = early && revOf(early.doc) > revOf(doc) ? early : { doc, message: toMessage(doc) };
        let sent = offsetOf(lastEventId, from);
        for (;;) {
          const event = delta(current, sent);
          if (event) yield { id: idOf(current.doc), event };
          sent = { rev: revOf(current.doc), length: current.doc.content.length };
          const status = statusOf(current.doc);
          if (status !== 'streaming') {
            yield { id: idOf(current.doc), event: { type: 'end', status: status as StreamEndStatus } };
            return;
          }
          // Until a change, a deletion, the end of the reader, or the moment it reads as interrupted.
          while (newest === undefined && !gone && !stopped()) {
            const idle = current.doc.updatedAt.getTime() + STREAM_IDLE_MS - Date.now();
            if (idle < 0) break;
            let timer: ReturnType<typeof setTimeout> | undefined;
            await new Promise<void>((resolve) => {
              wake = resolve;
              timer = setTimeout(resolve, idle + 1);
            });
            clearTimeout(timer);
            wake = undefined;
          }
          if (gone) throw messageNotFound(sessionId, uuid);
          // The server closing breaks the stream off (an AbortError, which tRPC ends the response on without
          // a 'return' event) rather than ending it: the reader reconnects and resumes, e.g. from the restarted server.
          if (events.closed) throw new DOMException('the server is closing', 'AbortError');
          if (stopped()) return;
          const next = take();
          if (next && revOf(next.doc) > revOf(current.doc)) current = next;
        }
      } finally {
        set.delete(reader);
        if (set.size === 0 && readers.get(key) === set) readers.delete(key);
        unwatch();
        offClose();
        signal?.removeEventListener('abort', stop);
      }
    },
  };
}

export type MessageStreams = ReturnType<typeof createMessageStreams>;
