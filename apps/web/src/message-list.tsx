/**
 * A session's messages, newest at the bottom, virtualised (@tanstack/react-virtual, rows measured
 * as they render): pages of 100 come newest first (`useMessages` with `order: 'desc'`), and
 * scrolling near the top loads the next older page while the message on screen stays where it was
 * (end anchoring). It opens at the newest message; new messages (sent here or live from other
 * clients) scroll into view only when the reader was already at the bottom.
 *
 * `target` (a message uuid, from a search result) loads older pages until that message is there,
 * scrolls to it and marks it, with the words of `q` in `<mark>`.
 *
 * Keyboard: the list is one Tab stop, the Details button of the current message; arrow keys, Page
 * Up/Down, Home and End move between messages (roving focus), so the composer stays a few Tabs away.
 */
import { type Message, useMessages, useMessageStream, usePendingMessages, useStopMessage } from '@mnemo/react';
import { useVirtualizer } from '@tanstack/react-virtual';
import { type KeyboardEvent, memo, type Ref, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { Markdown } from './markdown';
import { EditMessage, MessageDetails, MessageMeta, useDeleteWithUndo, useRegenerateWithUndo } from './message-details';
import { Empty, ErrorBox, Loading } from './ui';
import './conversation.css';

const PAGE_SIZE = 100;
const ROLES = ['user', 'assistant', 'system'];
/** Closer than this to the top (px), the next older page loads. */
const LOAD_OLDER_WITHIN = 800;
/** Closer than this to the bottom (px) counts as "at the bottom": new messages scroll into view. */
const AT_END_WITHIN = 80;
/** Room above the first message for "Loading older messages…" / "Start of the conversation". */
const TOP_ROOM = 44;

/** A first guess at a row's height before it is measured (closer guesses mean less movement). */
function estimateHeight(message: Message | undefined): number {
  if (!message) return 80;
  const text = message.content;
  let lines = 0;
  for (const line of text.split('\n')) lines += 1 + Math.floor(line.length / 80);
  const fences = text.split('```').length - 1;
  return 62 + Math.min(lines, 200) * 21 + fences * 12;
}

/** Stable callbacks for the rows (so a row re-renders only when its own props change). */
interface RowActions {
  toggle(uuid: string): void;
  keyDown(event: KeyboardEvent<HTMLButtonElement>, uuid: string): void;
  edit(uuid: string): void;
  endEdit(uuid: string): void;
  remove(message: Message): void;
  regenerate(message: Message): void;
}

export function MessageList({ sessionId, target, q }: { sessionId: string; target?: string; q?: string }) {
  const messages = useMessages(sessionId, { order: 'desc', live: true, limit: PAGE_SIZE });
  const pending = usePendingMessages(sessionId);
  const { data, hasNextPage, isFetchingNextPage, fetchNextPage } = messages;

  // Oldest first (each page is newest first, each next page older).
  const items = useMemo(() => {
    const seen = new Set<string>();
    const all: Message[] = [];
    for (const page of data?.pages ?? []) for (const m of page.items) if (!seen.has(m.uuid) && seen.add(m.uuid)) all.push(m);
    return all.reverse();
  }, [data]);
  const indexOf = useMemo(() => new Map(items.map((m, i) => [m.uuid, i])), [items]);
  const total = Math.max(data?.pages[0]?.total ?? 0, items.length);

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => estimateHeight(items[i]),
    getItemKey: (i) => items[i]?.uuid ?? i,
    anchorTo: 'end',
    followOnAppend: true,
    scrollEndThreshold: AT_END_WITHIN,
    overscan: 4,
    paddingStart: TOP_ROOM,
    paddingEnd: 8,
  });

  // Roving focus: one message's Details button is the Tab stop.
  const [active, setActive] = useState<string>();
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const [editing, setEditing] = useState<string>();

  const loadOlder = () => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  };

  // Where to open: the target message once it is loaded, else the newest.
  const targetIndex = target ? (indexOf.get(target) ?? -1) : -1;
  const targetMissing = target !== undefined && targetIndex < 0 && data !== undefined && !hasNextPage;
  const opened = useRef(false);
  const shownTarget = useRef<string | undefined>(undefined);
  useLayoutEffect(() => {
    if (target && targetIndex >= 0 && shownTarget.current !== target) {
      shownTarget.current = target;
      opened.current = true;
      setActive(target);
      virtualizer.scrollToIndex(targetIndex, { align: 'center' });
      return;
    }
    if (opened.current || items.length === 0 || (target && !targetMissing)) return;
    opened.current = true;
    virtualizer.scrollToEnd();
  }, [target, targetIndex, targetMissing, items.length, virtualizer]);
  // A target not loaded yet: fetch older pages until it is (or there are none).
  useEffect(() => {
    if (target && targetIndex < 0 && data && hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [target, targetIndex, data, hasNextPage, isFetchingNextPage, fetchNextPage]);
  // Too few messages to scroll: nothing would ever ask for the older ones.
  useEffect(() => {
    const el = scrollRef.current;
    if (el && opened.current && hasNextPage && !isFetchingNextPage && el.scrollHeight <= el.clientHeight) void fetchNextPage();
  }, [items.length, hasNextPage, isFetchingNextPage, fetchNextPage]);

  const [atEnd, setAtEnd] = useState(true);
  const onScroll = () => {
    const el = scrollRef.current;
    if (!el || !opened.current) return;
    if (el.scrollTop < LOAD_OLDER_WITHIN) loadOlder();
    const end = el.scrollHeight - el.scrollTop - el.clientHeight <= AT_END_WITHIN;
    if (end !== atEnd) setAtEnd(end);
  };

  const focusRequest = useRef<string | undefined>(undefined);
  const [, setFocusTick] = useState(0);
  const focusMessage = (uuid: string) => {
    const index = indexOf.get(uuid);
    if (index === undefined) return;
    setActive(uuid);
    focusRequest.current = uuid;
    virtualizer.scrollToIndex(index, { align: 'auto' });
    setFocusTick((n) => n + 1);
  };
  useEffect(() => {
    const wanted = focusRequest.current;
    if (!wanted) return;
    if (wanted === COMPOSER) {
      focusRequest.current = undefined;
      document.getElementById('composer-text')?.focus();
      return;
    }
    const button = scrollRef.current?.querySelector<HTMLButtonElement>(`[data-details-for="${CSS.escape(wanted)}"]`);
    if (button) {
      focusRequest.current = undefined;
      button.focus();
    }
  });

  const deleteWithUndo = useDeleteWithUndo();
  const regenerateWithUndo = useRegenerateWithUndo();
  const latest = useRef({ items, indexOf, focusMessage, loadOlder, deleteWithUndo, regenerateWithUndo });
  latest.current = { items, indexOf, focusMessage, loadOlder, deleteWithUndo, regenerateWithUndo };
  const actions = useMemo<RowActions>(
    () => ({
      toggle: (uuid) =>
        setOpen((current) => {
          const next = new Set(current);
          if (!next.delete(uuid)) next.add(uuid);
          return next;
        }),
      keyDown(event, uuid) {
        const { items, indexOf, focusMessage, loadOlder } = latest.current;
        const index = indexOf.get(uuid) ?? 0;
        const steps: Record<string, number> = { ArrowUp: -1, ArrowDown: 1, PageUp: -10, PageDown: 10 };
        let to: number;
        if (event.key in steps) to = index + steps[event.key]!;
        else if (event.key === 'Home') to = 0;
        else if (event.key === 'End') to = items.length - 1;
        else return;
        event.preventDefault();
        if (to < 0) loadOlder();
        const message = items[Math.max(0, Math.min(items.length - 1, to))];
        if (message) focusMessage(message.uuid);
      },
      edit: (uuid) => setEditing(uuid),
      endEdit(uuid) {
        setEditing(undefined);
        latest.current.focusMessage(uuid);
      },
      remove(message) {
        const { items, indexOf, focusMessage, deleteWithUndo } = latest.current;
        const index = indexOf.get(message.uuid) ?? -1;
        const neighbour = items[index + 1] ?? items[index - 1];
        if (neighbour) focusMessage(neighbour.uuid);
        else requestComposerFocus();
        deleteWithUndo(message);
      },
      regenerate(message) {
        void latest.current.regenerateWithUndo(message);
        requestComposerFocus();
      },
    }),
    [],
  );
  const requestComposerFocus = () => {
    focusRequest.current = COMPOSER;
    setFocusTick((n) => n + 1);
  };

  const virtualItems = virtualizer.getVirtualItems();
  // The Tab stop: the active message when it is rendered, else the lowest one on screen.
  const activeIndex = active !== undefined ? indexOf.get(active) : undefined;
  const rendered = (i: number | undefined) => i !== undefined && virtualItems.some((v) => v.index === i);
  let tabIndex = activeIndex;
  if (!rendered(tabIndex)) {
    const top = virtualizer.scrollOffset ?? 0;
    const bottom = top + (virtualizer.scrollRect?.height ?? 0);
    const onScreen = virtualItems.filter((v) => v.end > top && v.start < bottom);
    tabIndex = (onScreen.at(-1) ?? virtualItems.at(-1))?.index;
  }

  return (
    <div className="message-scroller-wrap">
      <p id="messages-keys" className="sr-only">
        Up and Down arrow keys move between messages, Page Up and Page Down by ten, Home and End to the first and last loaded.
      </p>
      <div ref={scrollRef} className="messages" onScroll={onScroll}>
        {messages.isPending ? (
          <Loading what="messages" />
        ) : messages.isError ? (
          <ErrorBox error={messages.error} title="Could not load the messages" />
        ) : items.length === 0 ? (
          <Empty>No messages yet. Say something below.</Empty>
        ) : (
          <>
            <div className="history-edge">
              {isFetchingNextPage ? (
                <span role="status">Loading older messages…</span>
              ) : hasNextPage ? (
                <button type="button" className="link" onClick={loadOlder}>
                  Load older messages
                </button>
              ) : (
                <span className="muted small">Start of the conversation</span>
              )}
            </div>
            <ol
              className="message-rows"
              aria-label="Messages"
              aria-busy={isFetchingNextPage || undefined}
              data-loaded={items.length}
              style={{ height: virtualizer.getTotalSize() }}
            >
              {virtualItems.map((v) => {
                const message = items[v.index]!;
                const marked = message.uuid === target;
                return (
                  <MessageRow
                    key={v.key}
                    measure={virtualizer.measureElement}
                    index={v.index}
                    start={v.start}
                    message={message}
                    position={total - (items.length - 1 - v.index)}
                    total={total}
                    after={items.length - 1 - v.index}
                    pending={pending.has(message.uuid)}
                    open={open.has(message.uuid)}
                    editing={editing === message.uuid}
                    tabbable={v.index === tabIndex}
                    marked={marked}
                    q={marked ? q : undefined}
                    actions={actions}
                  />
                );
              })}
            </ol>
          </>
        )}
      </div>
      {targetMissing && (
        <p className="notice" role="status">
          The linked message is not in this session any more.
        </p>
      )}
      {!atEnd && items.length > 0 && (
        <button type="button" className="jump-latest" onClick={() => virtualizer.scrollToEnd({ behavior: 'smooth' })}>
          ↓ Latest
        </button>
      )}
    </div>
  );
}

const COMPOSER = '\u0000composer';

const MessageRow = memo(function MessageRow({
  measure,
  index,
  start,
  message,
  position,
  total,
  after,
  pending,
  open,
  editing,
  tabbable,
  marked,
  q,
  actions,
}: {
  measure: Ref<HTMLLIElement>;
  index: number;
  start: number;
  message: Message;
  position: number;
  total: number;
  after: number;
  pending: boolean;
  open: boolean;
  editing: boolean;
  tabbable: boolean;
  marked: boolean;
  q: string | undefined;
  actions: RowActions;
}) {
  const lineId = `line-${message.uuid}`;
  const detailsId = `details-${message.uuid}`;
  return (
    <li
      ref={measure}
      data-index={index}
      data-uuid={message.uuid}
      className={`message role-${ROLES.includes(message.role) ? message.role : 'other'}`}
      data-pending={pending || undefined}
      aria-current={marked || undefined}
      aria-labelledby={lineId}
      aria-posinset={position}
      aria-setsize={total}
      style={{ transform: `translateY(${start}px)` }}
    >
      <div className="bubble">
        <MessageMeta
          message={message}
          pending={pending}
          id={lineId}
          detailsId={detailsId}
          open={open}
          tabbable={tabbable}
          onToggle={() => actions.toggle(message.uuid)}
          onKeyDown={(event) => actions.keyDown(event, message.uuid)}
        />
        {editing ? (
          <EditMessage message={message} onDone={(focus) => actions.endEdit(focus ?? message.uuid)} />
        ) : message.status === 'streaming' && !pending ? (
          <StreamingReply message={message} q={q} tabbable={tabbable} />
        ) : (
          <Markdown className="content" content={message.content} q={q} tabbable={tabbable} />
        )}
        {open && (
          <MessageDetails
            id={detailsId}
            message={message}
            after={after}
            onEdit={() => actions.edit(message.uuid)}
            onDelete={() => actions.remove(message)}
            onRegenerate={() => actions.regenerate(message)}
          />
        )}
      </div>
    </li>
  );
});

/**
 * A reply still being written (here, in another tab, or by a backend's model): its text follows
 * the message's stream as it grows — after a reload too, from what is stored — and Stop ends it
 * for every reader and its writer (`message.stop`), keeping the text it has.
 */
function StreamingReply({ message, q, tabbable }: { message: Message; q: string | undefined; tabbable: boolean }) {
  const stream = useMessageStream(message.sessionId, message.uuid);
  const stop = useStopMessage();
  const live = stream.message ?? message;
  return (
    <>
      <Markdown className="content" content={live.content} q={q} tabbable={tabbable} />
      {live.status === 'streaming' && (
        <button
          type="button"
          className="stop-reply"
          disabled={stop.isPending}
          onClick={() => stop.mutate({ sessionId: message.sessionId, uuid: message.uuid })}
        >
          Stop
        </button>
      )}
    </>
  );
}
