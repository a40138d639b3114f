import { MnemoProvider } from '@mnemo/react';
import { type MouseEvent, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ProblemBanner, useQueryProblem } from './connection';
import { useRoute } from './route';
import './layout.css';
import { SESSIONS_DRAWER, SessionsPage } from './sessions-page';
import { ToastProvider } from './toast';
import { UsersPage } from './users-page';

const API_KEY_STORAGE = 'mnemo.apiKey';

/**
 * Whose UI this is, read from the key: a user token (`scope: "user"`, issued by an app backend)
 * sees only that user's sessions and no admin pages (the server enforces it; this only avoids
 * showing what it would refuse). Anything else is an admin key, or none.
 */
export function viewerOf(apiKey: string): { userId?: string } {
  try {
    const payload = JSON.parse(atob(apiKey.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { scope?: unknown; sub?: unknown };
    return payload.scope === 'user' && typeof payload.sub === 'string' ? { userId: payload.sub } : {};
  } catch {
    return {};
  }
}

/** The UI is served by the Mnemo server itself, so the API lives at the page's own origin. */
export function App() {
  const [apiKey, setApiKey] = useState(() => localStorage.getItem(API_KEY_STORAGE) ?? '');
  const [route, navigate] = useRoute();
  const viewer = viewerOf(apiKey);
  const saveKey = (key: string) => {
    if (key) localStorage.setItem(API_KEY_STORAGE, key);
    else localStorage.removeItem(API_KEY_STORAGE);
    setApiKey(key);
  };
  const sessionsPage = route.page === 'sessions' || viewer.userId !== undefined;
  // The sessions sidebar, as a drawer on a phone: the top bar's "Sessions" button opens it.
  const [drawerOpen, setDrawerOpen] = useState(false);
  const drawerButton = useRef<HTMLButtonElement>(null);
  const setDrawer = useCallback((open: boolean, returnFocus = false) => {
    setDrawerOpen(open);
    if (!open && returnFocus) drawerButton.current?.focus();
  }, []);
  const drawer = useMemo(() => ({ open: drawerOpen, setOpen: setDrawer }), [drawerOpen, setDrawer]);
  return (
    // A new key starts from a clean cache (answers cached under the old key are dropped).
    <MnemoProvider key={apiKey} url={window.location.origin} apiKey={apiKey || undefined}>
      <ToastProvider>
        <div className="app">
          <a className="skip-link" href="#main" onClick={skipToContent}>
            Skip to main content
          </a>
          <header className={sessionsPage ? 'topbar with-drawer' : 'topbar'}>
            {sessionsPage && (
              <button
                ref={drawerButton}
                type="button"
                className="drawer-toggle"
                aria-expanded={drawerOpen}
                aria-controls={SESSIONS_DRAWER}
                onClick={() => setDrawer(!drawerOpen, drawerOpen)}
              >
                <span className="drawer-icon" aria-hidden />
                Sessions
              </button>
            )}
            <h1>Mnemo</h1>
            <nav aria-label="Pages">
              <a href="#/sessions" className="nav-sessions" aria-current={route.page === 'sessions' ? 'page' : undefined}>
                Sessions
              </a>
              {!viewer.userId && (
                <a href="#/users" onClick={() => setDrawerOpen(false)} aria-current={route.page === 'users' ? 'page' : undefined}>
                  Users
                </a>
              )}
            </nav>
            <ApiKey value={apiKey} onSave={saveKey} />
          </header>
          <ProblemBanner hasKey={apiKey !== ''} />
          {route.page === 'users' && !viewer.userId ? (
            <UsersPage navigate={navigate} />
          ) : (
            <SessionsPage
              route={route.page === 'sessions' ? route : { page: 'sessions' }}
              navigate={navigate}
              viewer={viewer.userId}
              drawer={drawer}
            />
          )}
        </div>
      </ToastProvider>
    </MnemoProvider>
  );
}

/**
 * The skip link: to the message box when a chat is open (what one comes for), else to the page's main
 * region. (The hash holds the route, so the link moves focus itself instead of changing the hash.)
 */
function skipToContent(event: MouseEvent) {
  event.preventDefault();
  (document.getElementById('composer-text') ?? document.getElementById('main'))?.focus();
}

/** The API key form; it opens by itself, with the input focused, when the server answers 401. */
function ApiKey({ value, onSave }: { value: string; onSave: (key: string) => void }) {
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState(value);
  const asked = useQueryProblem() === 'unauthorized';
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (asked) input.current?.focus();
  }, [asked]);
  if (!open && !asked)
    return (
      <button type="button" className="link api-key" onClick={() => setOpen(true)}>
        API key{value ? ' ✓' : ''}
      </button>
    );
  return (
    <form
      className="api-key"
      onSubmit={(e) => {
        e.preventDefault();
        onSave(draft.trim());
        setOpen(false);
      }}
    >
      <label htmlFor="api-key">API key</label>
      <input
        id="api-key"
        ref={input}
        type="password"
        aria-describedby={asked ? 'problem-text' : undefined}
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        placeholder="only if the server needs one"
      />
      <button type="submit">Save</button>
    </form>
  );
}
