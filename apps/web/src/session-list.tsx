import { allItems, type SessionPage, useMemory, useSession, useSessions, useUserSessions } from '@mnemo/react';
import { type Ref, useEffect, useImperativeHandle, useRef } from 'react';
import './navigator.css';
import { formatDate, formatRelative, useNow } from './time';
import { Empty, ErrorBox, LoadMore, Loading } from './ui';

type ListQuery = ReturnType<typeof useSessions>;
/** A row of the list: a session with its last message (`withLastMessage`; the pinned one's while it loads: none). */
type Row = Omit<SessionPage['items'][number], 'lastMessage'> & { lastMessage?: SessionPage['items'][number]['lastMessage'] };

/** The navigator's query: most recent activity (creation or last message) first, each with its last message, kept live. */
const LIST = { sort: 'activity', order: 'desc', withLastMessage: true, live: true, limit: 25 } as const;
/**
 * How many pages a text filter may load by itself. The server has no text filter on session lists,
 * so the filter runs over the loaded rows; while it is active the list keeps loading pages (newest
 * activity first), so a match is never hidden behind "Load more" — up to this many pages (25 × 20 =
 * 500 sessions), after which "Load more" goes on by hand.
 */
const FILTER_PAGES = 20;

export interface SessionListHandle {
  /**
   * Focuses the row that followed `sessionId` before it left the list (a delete), else the first
   * row; false when there is no row to focus.
   */
  focusAfterRemoval(sessionId: string): boolean;
  /** Focuses the open session's row; false when it is not shown. */
  focusSelected(): boolean;
  /** Focuses a session's row; false when it is not shown. */
  focusRow(sessionId: string): boolean;
}

interface Props {
  selected: string | undefined;
  onSelect: (sessionId: string) => void;
  /** The text filter: rows whose id, title, user or last message contain every word. */
  filter: string;
  ref?: Ref<SessionListHandle>;
}

/** Sessions, all or one user's, most recently active first, with infinite scroll. */
export function SessionList({ userId, ...props }: Props & { userId: string | undefined }) {
  return userId === undefined ? <AllSessions {...props} /> : <UserSessions key={userId} userId={userId} {...props} />;
}

function AllSessions(props: Props) {
  return <SessionListView query={useSessions(LIST)} empty="No sessions yet: create one above." {...props} />;
}

function UserSessions({ userId, ...props }: Props & { userId: string }) {
  const query = useUserSessions(userId, LIST) as ListQuery;
  return <SessionListView query={query} userId={userId} empty={`${userId} has no sessions yet.`} {...props} />;
}

/** A session's title, when its metadata has one (`metadata.title`, a string); the id is shown either way. */
function titleOf(session: Row): string | undefined {
  const title = session.metadata.title;
  return typeof title === 'string' && title.trim() ? title.trim() : undefined;
}

/** The last message, on one line (the row's CSS ellipsises it). */
function previewOf(session: Row): string | undefined {
  const content = session.lastMessage?.content;
  return content ? content.replace(/\s+/g, ' ').trim().slice(0, 200) : undefined;
}

function matches(session: Row, words: string[]): boolean {
  const text = [session.sessionId, titleOf(session), session.userId, previewOf(session)].filter(Boolean).join('\n').toLowerCase();
  return words.every((word) => text.includes(word));
}

function SessionListView({
  query,
  userId,
  empty,
  selected,
  onSelect,
  filter,
  ref,
}: Props & { query: ListQuery; userId?: string; empty: string }) {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  const loaded = dedupe(query.data ? allItems(query.data) : []);
  const rows = words.length > 0 ? loaded.filter((s) => matches(s, words)) : loaded;
  const ids = rows.map((s) => s.sessionId);
  const selectedShown = selected !== undefined && ids.includes(selected);

  // The open session, when the loaded pages do not hold it (it is on page 2, or not loaded yet): pinned
  // above the list, so it is always in sight, with its last message like the others. Only when it
  // belongs here (this user's, matching the text filter): a filter that leaves it out means what it says.
  const outside = selected !== undefined && !query.isPending && !selectedShown ? selected : undefined;
  const open = useSession(outside);
  const last = useMemory(outside, { lastn: 1, select: (memory) => memory.messages[0] ?? null });
  const candidate: Row | undefined = open.data && { ...open.data, ...(last.isSuccess && { lastMessage: last.data }) };
  const pinned =
    outside && candidate && (userId === undefined || candidate.userId === userId) && matches(candidate, words) ? candidate : undefined;

  // A text filter keeps loading pages until every session was looked at (see FILTER_PAGES).
  const pages = query.data?.pages.length ?? 0;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = query;
  const searching = words.length > 0 && hasNextPage && pages < FILTER_PAGES;
  useEffect(() => {
    if (searching && !isFetchingNextPage) void fetchNextPage();
  }, [searching, isFetchingNextPage, fetchNextPage, pages]);

  const scroller = useRef<HTMLDivElement>(null);
  const pin = useRef<HTMLUListElement>(null);
  const button = (sessionId: string) =>
    [...(scroller.current?.querySelectorAll<HTMLButtonElement>('button[data-session-id]') ?? [])].find(
      (b) => b.dataset.sessionId === sessionId,
    );

  // What followed each row that left the list (a delete removes it at once, before the server answers):
  // where focus goes after the delete.
  const order = useRef<string[]>([]);
  const nextOf = useRef(new Map<string, string | undefined>());
  const key = ids.join('\n');
  useEffect(() => {
    const now = new Set(ids);
    order.current.forEach((id, i) => {
      if (now.has(id)) return;
      const after = order.current.slice(i + 1).find((x) => now.has(x));
      nextOf.current.set(id, after ?? order.current.slice(0, i).findLast((x) => now.has(x)));
    });
    order.current = ids;
    // `key` stands for `ids`.
  }, [key]);

  useImperativeHandle(ref, () => ({
    focusAfterRemoval(sessionId) {
      const target = button(nextOf.current.get(sessionId) ?? order.current[0] ?? '');
      target?.focus();
      return target !== undefined;
    },
    focusSelected() {
      const target = (selected && button(selected)) || pin.current?.querySelector('button');
      target?.focus();
      return Boolean(target);
    },
    focusRow(sessionId) {
      const target = button(sessionId);
      target?.focus();
      return target !== undefined;
    },
  }));

  // The open session's row scrolls into view once when it is opened (or first shows up), not on every
  // update after (that would snatch the list from someone scrolling it). By hand rather than
  // scrollIntoView: that would also scroll the page, or the closed drawer into view.
  const scrolledTo = useRef<string>(undefined);
  useEffect(() => {
    if (!selected || !selectedShown || scrolledTo.current === selected) return;
    scrolledTo.current = selected;
    const row = button(selected);
    const box = scroller.current;
    if (!row || !box) return;
    const [r, b] = [row.getBoundingClientRect(), box.getBoundingClientRect()];
    if (r.top < b.top || r.bottom > b.bottom) box.scrollTop += r.top - b.top - (b.height - r.height) / 2;
  });

  const now = useNow();
  if (query.isPending) return <Loading what="sessions" />;
  if (query.isError) return <ErrorBox error={query.error} title="Could not load sessions" />;
  return (
    <nav aria-label="Sessions" className="session-list">
      {pinned && (
        <div className="pinned">
          <p className="pinned-label" id="pinned-label">
            Open session
          </p>
          <ul ref={pin} aria-labelledby="pinned-label">
            <SessionItem session={pinned} selected onSelect={onSelect} now={now} />
          </ul>
        </div>
      )}
      {words.length > 0 && (
        <p className="filter-status" role="status">
          {searching ? 'Looking through older sessions…' : `${rows.length} ${rows.length === 1 ? 'session matches' : 'sessions match'}`}
        </p>
      )}
      <div ref={scroller} className="session-scroll">
        <ul className="session-rows" aria-label={words.length > 0 ? 'Matching sessions' : 'Sessions, most recent first'}>
          {rows.map((session) => (
            <SessionItem
              key={session.sessionId}
              session={session}
              selected={session.sessionId === selected}
              onSelect={onSelect}
              now={now}
            />
          ))}
        </ul>
        {rows.length === 0 && !searching && <Empty>{words.length > 0 ? 'No loaded session matches.' : empty}</Empty>}
        <LoadMore
          hasNextPage={query.hasNextPage && !searching}
          isFetchingNextPage={query.isFetchingNextPage}
          fetchNextPage={query.fetchNextPage}
          pages={pages}
          what="sessions"
        />
      </div>
    </nav>
  );
}

/** A session moved by a live update can show up on two pages for a moment: each is listed once. */
function dedupe(items: Row[]): Row[] {
  const seen = new Set<string>();
  return items.filter((s) => !seen.has(s.sessionId) && seen.add(s.sessionId));
}

function SessionItem({
  session,
  selected,
  onSelect,
  now,
}: {
  session: Row;
  selected: boolean;
  onSelect: (id: string) => void;
  now: number;
}) {
  const title = titleOf(session);
  const preview = previewOf(session);
  const active = session.lastActiveAt;
  return (
    <li>
      <button
        type="button"
        className={selected ? 'session selected' : 'session'}
        aria-current={selected ? 'page' : undefined}
        data-session-id={session.sessionId}
        onClick={() => onSelect(session.sessionId)}
      >
        <span className="session-line">
          {title && <span className="session-title">{title}</span>}
          <span className="session-id">{session.sessionId}</span>
          <time className="session-time" dateTime={active.toISOString()} title={formatDate(active)}>
            {formatRelative(active, now)}
          </time>
        </span>
        <span className="session-line">
          <span className="session-user">{session.userId ?? 'no user'}</span>
          <span className="session-preview">
            {preview ??
              (session.lastMessage === undefined
                ? `${session.messageCount} ${session.messageCount === 1 ? 'message' : 'messages'}`
                : 'no messages')}
          </span>
        </span>
      </button>
    </li>
  );
}
