import { isClientError, type Message, useSearchMemory, useSearchUser } from '@mnemo/react';
import { matchedWords } from '@mnemo/core/terms';
import { type FormEvent, type KeyboardEvent, type ReactNode, useEffect, useId, useRef, useState, useSyncExternalStore } from 'react';
import { parseHash, toHash } from './route';
import { formatDate, formatRelative } from './time';
import { ErrorBox, parseJsonObject } from './ui';
import './search.css';

/** How many results a search shows (the server allows up to 100). */
const LIMIT = 20;

/**
 * Search within the open session (mounted in the chat header): its results float over the
 * conversation (full width on a phone); choosing one links to the message (`?message=<uuid>&q=<text>`).
 */
export function SessionSearch({ sessionId }: { sessionId: string }) {
  const state = useSearchState();
  const { submitted } = state;
  const query = useSearchMemory(submitted && { sessionId, ...searchInput(submitted) });
  return (
    <SearchWidget
      className="search-session"
      label="Search this session"
      placeholder="Search this session"
      floating
      state={state}
      query={query}
      describe={(m) => <span className="role">{m.role}</span>}
    />
  );
}

/**
 * Search across all of a user's sessions (mounted in the sidebar). Without a user there is nothing
 * to search across: it says how to get one rather than hiding.
 */
export function UserSearch({ userId }: { userId: string | undefined }) {
  if (userId === undefined)
    return (
      <section className="search search-user" aria-label="Search sessions">
        <p className="muted small search-hint">Pick a user to search across their sessions.</p>
      </section>
    );
  return <UserSearchBox key={userId} userId={userId} />;
}

function UserSearchBox({ userId }: { userId: string }) {
  const state = useSearchState();
  const { submitted } = state;
  const query = useSearchUser(submitted && { userId, ...searchInput(submitted) });
  return (
    <SearchWidget
      className="search-user"
      label={`Search ${userId}’s sessions`}
      placeholder="Words in any of their sessions"
      visibleLabel
      compactTimes
      state={state}
      query={query}
      describe={(m) => (
        <>
          <span className="search-session-id">{m.sessionId}</span>
          <span className="role">{m.role}</span>
        </>
      )}
    />
  );
}

/** A search as the user submitted it: the text, and the metadata filter in force at the time. */
interface Submitted {
  text: string;
  metadata?: Record<string, unknown>;
}

const searchInput = ({ text, metadata }: Submitted) => ({ text: text || undefined, ...(metadata && { metadata }), limit: LIMIT });

function useSearchState() {
  const [draft, setDraft] = useState('');
  const [submitted, setSubmitted] = useState<Submitted>();
  const [open, setOpen] = useState(false);
  return { draft, setDraft, submitted, setSubmitted, open, setOpen };
}

type SearchState = ReturnType<typeof useSearchState>;
interface SearchQuery {
  data?: { message: Message; dist: number }[];
  isPending: boolean;
  isError: boolean;
  error: unknown;
}

function SearchWidget({
  className,
  label,
  placeholder,
  visibleLabel = false,
  floating = false,
  compactTimes = false,
  state,
  query,
  describe,
}: {
  className: string;
  label: string;
  placeholder: string;
  /** The label is shown (in the sidebar), not only read out (in the compact chat header). */
  visibleLabel?: boolean;
  /** The results float over the page (and close on a click elsewhere or when one is chosen). */
  floating?: boolean;
  /** Times as "5 min. ago" (the full date in a tooltip), where room is short. */
  compactTimes?: boolean;
  state: SearchState;
  query: SearchQuery;
  /** What a result says before its time and score (its role; its session in a user search). */
  describe: (message: Message) => ReactNode;
}) {
  const { draft, setDraft, submitted, setSubmitted, open, setOpen } = state;
  const [filter, setFilter] = useSharedFilter();
  const [filterProblem, setFilterProblem] = useState<string>();
  const [filtersOpen, setFiltersOpen] = useState(false);
  const id = useId();
  const root = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const ids = {
    input: `${id}-q`,
    filter: `${id}-filter`,
    filterHelp: `${id}-filter-help`,
    results: `${id}-results`,
    filterError: `${id}-filter-error`,
    error: `${id}-error`,
  };
  const parsedFilter = parseJsonObject(filter);
  const filterOn = 'value' in parsedFilter && Object.keys(parsedFilter.value).length > 0;
  // The server refused the filter (a 4xx while one was applied): show it next to the error, marked invalid.
  const filterRefused = query.isError && isClientError(query.error) && submitted?.metadata !== undefined;

  useEffect(() => {
    if (filterRefused) setFiltersOpen(true);
  }, [filterRefused]);

  // A floating panel closes on a click anywhere else.
  useEffect(() => {
    if (!floating || !open) return;
    const onPointerDown = (event: PointerEvent) => {
      if (!root.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [floating, open, setOpen]);

  const search = (event?: FormEvent) => {
    event?.preventDefault();
    const parsed = parseJsonObject(filter);
    if ('problem' in parsed) {
      setFiltersOpen(true);
      return setFilterProblem(parsed.problem);
    }
    setFilterProblem(undefined);
    const text = draft.trim();
    const metadata = Object.keys(parsed.value).length > 0 ? parsed.value : undefined;
    if (!text && !metadata) return; // nothing asked: nothing to do
    setSubmitted({ text, ...(metadata && { metadata }) });
    setOpen(true);
  };

  const close = () => {
    setOpen(false);
    input.current?.focus();
  };

  const links = () => [...(root.current?.querySelectorAll<HTMLAnchorElement>('a.search-result') ?? [])];
  /** Arrow keys move through the results (and back up to the box); Escape closes them. */
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.nativeEvent.isComposing) return; // (Escape then cancels an IME composition, nothing else)
    if (event.key === 'Escape' && open) {
      event.preventDefault(); // (in a search box, Escape would also clear the text)
      return close();
    }
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(event.key)) return;
    const all = links();
    const at = all.indexOf(document.activeElement as HTMLAnchorElement);
    const inBox = document.activeElement === input.current;
    if (!inBox && at === -1) return; // the filter textarea, buttons: keys keep their usual meaning
    if (inBox && (event.key !== 'ArrowDown' || all.length === 0)) {
      if (event.key === 'ArrowDown' && submitted && !open) setOpen(true);
      return;
    }
    event.preventDefault();
    if (event.key === 'Home') return all[0]?.focus();
    if (event.key === 'End') return all.at(-1)?.focus();
    const next = at + (event.key === 'ArrowDown' ? 1 : -1);
    if (next < 0) input.current?.focus();
    else all[Math.min(next, all.length - 1)]?.focus();
  };

  return (
    // Keys bubble here from the box and the result links.
    <div ref={root} className={`search ${className}${floating ? ' floating' : ''}`} onKeyDown={onKeyDown}>
      <form role="search" aria-label={label} onSubmit={search}>
        <label htmlFor={ids.input} className={visibleLabel ? undefined : 'sr-only'}>
          {label}
        </label>
        <div className="search-row">
          <input
            id={ids.input}
            ref={input}
            type="search"
            value={draft}
            placeholder={placeholder}
            autoComplete="off"
            aria-controls={open ? ids.results : undefined}
            onChange={(e) => setDraft(e.target.value)}
          />
          <button type="submit">Search</button>
        </div>
        <details className="search-filters" open={filtersOpen} onToggle={(e) => setFiltersOpen(e.currentTarget.open)}>
          <summary>Filters{filterOn ? ' (on)' : ''}</summary>
          <label htmlFor={ids.filter}>Metadata filter (JSON)</label>
          <textarea
            id={ids.filter}
            rows={3}
            value={filter}
            spellCheck={false}
            placeholder='{"metadata.topic": "tea"}'
            aria-invalid={filterProblem !== undefined || filterRefused || undefined}
            aria-describedby={filterProblem ? ids.filterError : filterRefused ? `${ids.error} ${ids.filterHelp}` : ids.filterHelp}
            onChange={(e) => setFilter(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) search(e);
            }}
          />
          <p id={ids.filterHelp} className="muted small">
            Fields start with <code>metadata.</code>; operators <code>$eq $ne $gt $gte $lt $lte $in $nin $exists $and $or</code>. Applies to
            both searches; Ctrl+Enter searches.
          </p>
          {filterProblem && (
            <p id={ids.filterError} className="error" role="alert">
              {filterProblem}
            </p>
          )}
        </details>
      </form>
      {/* Always in the page, so screen readers announce each change of it ("3 results"). */}
      <p role="status" className="sr-only">
        {open && submitted ? statusText(submitted, query) : ''}
      </p>
      {open && submitted && (
        <Results
          id={ids.results}
          errorId={ids.error}
          label={`Results: ${label}`}
          submitted={submitted}
          query={query}
          describe={describe}
          compactTimes={compactTimes}
          onChoose={floating ? () => setOpen(false) : undefined}
          onClose={close}
        />
      )}
    </div>
  );
}

function Results({
  id,
  errorId,
  label,
  submitted,
  query,
  describe,
  compactTimes,
  onChoose,
  onClose,
}: {
  id: string;
  errorId: string;
  label: string;
  submitted: Submitted;
  query: SearchQuery;
  describe: (message: Message) => ReactNode;
  compactTimes: boolean;
  onChoose?: () => void;
  onClose: () => void;
}) {
  const results = query.data;
  return (
    <section id={id} className="search-results" aria-label={label}>
      <div className="search-results-head">
        {/* What the status region (above) announces, shown. */}
        <p className="small" aria-hidden>
          {statusText(submitted, query)}
        </p>
        <button type="button" className="link" onClick={onClose}>
          Close
        </button>
      </div>
      {query.isError && (
        <div id={errorId}>
          <ErrorBox error={query.error} title="The search failed" />
        </div>
      )}
      {results && results.length > 0 && (
        <ul>
          {results.map(({ message, dist }) => (
            <li key={message.uuid}>
              <a className="search-result" href={messageHref(message, submitted.text)} onClick={onChoose}>
                <span className="search-result-meta small">
                  {describe(message)}
                  <time dateTime={message.createdAt.toISOString()} title={compactTimes ? formatDate(message.createdAt) : undefined}>
                    {compactTimes ? formatRelative(message.createdAt) : formatDate(message.createdAt)}
                  </time>
                  {submitted.text && <span className="score">score {dist.toFixed(2)}</span>}
                </span>
                <span className="snippet">
                  <Highlighted text={snippet(message.content, submitted.text)} query={submitted.text} />
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** "3 results for “tea” (filtered)", "No results …", "Searching…". */
function statusText(submitted: Submitted, query: SearchQuery): string {
  if (query.isPending) return 'Searching…';
  if (query.isError || !query.data) return 'The search failed';
  const n = query.data.length;
  const count = n === 0 ? 'No results' : n === 1 ? '1 result' : `${n} results`;
  const about = submitted.text ? ` for “${submitted.text}”` : '';
  return `${count}${about}${submitted.metadata ? ' (filtered)' : ''}${n === LIMIT ? `: the best ${LIMIT}` : ''}`;
}

/** The link to a message: its session, scrolled to it, the search terms highlighted (the route keeps the user filter). */
function messageHref(message: Message, text: string): string {
  const current = parseHash(window.location.hash);
  const userId = current.page === 'sessions' ? current.userId : undefined;
  return toHash({ page: 'sessions', sessionId: message.sessionId, userId, message: message.uuid, ...(text && { q: text }) });
}

// The metadata filter is shared by both searches (the session's and the user's), for the page's lifetime.
let sharedFilter = '';
const filterListeners = new Set<() => void>();
const setSharedFilter = (text: string) => {
  sharedFilter = text;
  for (const listener of filterListeners) listener();
};
const subscribeFilter = (listener: () => void) => {
  filterListeners.add(listener);
  return () => filterListeners.delete(listener);
};
function useSharedFilter(): [string, (text: string) => void] {
  return [useSyncExternalStore(subscribeFilter, () => sharedFilter), setSharedFilter];
}

// ---- Highlighting ------------------------------------------------------------------------------

/** `text` with every word the search matches by marked (`<mark>`): the server's own rule (`@mnemo/core/terms`). */
export function Highlighted({ text, query }: { text: string; query: string }) {
  const ranges = matchedWords(text, query);
  if (ranges.length === 0) return <>{text}</>;
  const parts: ReactNode[] = [];
  let last = 0;
  for (const [start, end] of ranges) {
    parts.push(text.slice(last, start), <mark key={start}>{text.slice(start, end)}</mark>);
    last = end;
  }
  parts.push(text.slice(last));
  return <>{parts}</>;
}

const SNIPPET = 180;

/** A short excerpt of a message around its first matching word (whitespace collapsed, cuts marked with …). */
export function snippet(content: string, query: string): string {
  const text = content.replace(/\s+/g, ' ').trim();
  if (text.length <= SNIPPET) return text;
  const first = matchedWords(text, query)[0]?.[0] ?? 0;
  let start = Math.max(0, first - 50);
  if (start > 0) start = text.indexOf(' ', start) + 1 || start; // not in the middle of a word
  let end = Math.min(text.length, start + SNIPPET);
  if (end < text.length) end = text.lastIndexOf(' ', end) > start ? text.lastIndexOf(' ', end) : end;
  return `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`;
}
