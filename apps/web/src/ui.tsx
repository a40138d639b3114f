import { describeError, errorStatus, isMnemoError } from '@mnemo/react';
import { type ReactNode, useEffect, useRef } from 'react';

/** No answer from the server at all (it is down, or the network is): a request error without an HTTP status. */
export function isUnreachable(error: unknown): boolean {
  return isMnemoError(error) && errorStatus(error) === undefined;
}

/** A server (or network) error, shown as it is: never swallowed. */
export function ErrorBox({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  const status = errorStatus(error);
  return (
    <div className="error" role="alert">
      <strong>{title}</strong>
      {status !== undefined && <span className="status">HTTP {status}</span>}
      <div>
        {isUnreachable(error) ? `Mnemo is not reachable at ${window.location.origin} (${describeError(error)})` : describeError(error)}
      </div>
      {status === 401 && <div className="hint">This server needs an API key: set it with “API key” in the header.</div>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** Parses a JSON object typed by the user; empty text is `{}`. */
export function parseJsonObject(text: string): { value: Record<string, unknown> } | { problem: string } {
  if (text.trim() === '') return { value: {} };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return { problem: 'Metadata must be a JSON object, like {"topic": "tea"}' };
    return { value: value as Record<string, unknown> };
  } catch (error) {
    return { problem: `Not valid JSON: ${(error as Error).message}` };
  }
}

/** Calls `onVisible` whenever the returned element scrolls into view (infinite lists). */
export function useOnVisible<T extends Element>(onVisible: () => void, enabled: boolean, generation: number) {
  const ref = useRef<T>(null);
  const callback = useRef(onVisible);
  callback.current = onVisible;
  useEffect(() => {
    const element = ref.current;
    if (!element || !enabled || typeof IntersectionObserver === 'undefined') return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) callback.current();
    });
    observer.observe(element);
    return () => observer.disconnect();
    // Re-observing after each page fires again if the end of the list is still in view.
  }, [enabled, generation]);
  return ref;
}

/** The "more" footer of an infinite list: loads on scroll, with a button as well. */
export function LoadMore({
  hasNextPage,
  isFetchingNextPage,
  fetchNextPage,
  pages,
  what,
}: {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
  /** How many pages are loaded. */
  pages: number;
  what: string;
}) {
  const sentinel = useOnVisible<HTMLDivElement>(
    () => {
      if (!isFetchingNextPage) void fetchNextPage();
    },
    hasNextPage && !isFetchingNextPage,
    pages,
  );
  if (!hasNextPage) return null;
  return (
    <div ref={sentinel} className="load-more">
      <button type="button" className="link" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
        {isFetchingNextPage ? `Loading more ${what}…` : `Load more ${what}`}
      </button>
    </div>
  );
}
