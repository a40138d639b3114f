import { MnemoProvider } from '@mnemo/react';
import { useState } from 'react';
import { useRoute } from './route';
import { SessionsPage } from './sessions-page';
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
  return (
    // A new key starts from a clean cache (answers cached under the old key are dropped).
    <MnemoProvider key={apiKey} url={window.location.origin} apiKey={apiKey || undefined}>
      <div className="app">
        <header className="topbar">
          <h1>Mnemo</h1>
          <nav aria-label="Pages">
            <a href="#/sessions" aria-current={route.page === 'sessions' ? 'page' : undefined}>
              Sessions
            </a>
            {!viewer.userId && (
              <a href="#/users" aria-current={route.page === 'users' ? 'page' : undefined}>
                Users
              </a>
            )}
          </nav>
          <ApiKey value={apiKey} onSave={saveKey} />
        </header>
        {route.page === 'users' && !viewer.userId ? (
          <UsersPage navigate={navigate} />
        ) : (
          <SessionsPage route={route.page === 'sessions' ? route : { page: 'sessions' }} navigate={navigate} viewer={viewer.userId} />
        )}
      </div>
    </MnemoProvider>
  );
}

function ApiKey({ value, onSave }: { value: string; onSave: (key: string) => void }) {
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState(value);
  if (!open)
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
        type="password"
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        placeholder="only if the server needs one"
      />
      <button type="submit">Save</button>
    </form>
  );
}
