import { ChatView } from './chat-view';
import { NewSessionForm } from './new-session-form';
import type { Route } from './route';
import { SessionList } from './session-list';
import { Empty } from './ui';
import { UserSelect } from './user-select';

export function SessionsPage({
  route,
  navigate,
  viewer,
}: {
  route: Extract<Route, { page: 'sessions' }>;
  navigate: (route: Route) => void;
  /** Signed in with a user token: only this user's sessions, no user choice. */
  viewer?: string;
}) {
  const { sessionId } = route;
  const userId = viewer ?? route.userId;
  const open = (id: string | undefined) => navigate({ page: 'sessions', sessionId: id, userId });
  return (
    <div className="layout">
      <aside className="sidebar">
        {viewer ? (
          <p className="filter muted">Your sessions, {viewer}</p>
        ) : (
          <div className="filter">
            <label htmlFor="filter-user">Show sessions of</label>
            <UserSelect
              id="filter-user"
              value={userId}
              onChange={(u) => navigate({ page: 'sessions', sessionId, userId: u })}
              noneLabel="All users"
            />
          </div>
        )}
        <NewSessionForm key={userId ?? ''} defaultUserId={userId} fixedUser={viewer !== undefined} onCreated={open} />
        <SessionList userId={userId} selected={sessionId} onSelect={open} />
      </aside>
      <main className="main" id="main" tabIndex={-1}>
        {sessionId ? (
          <ChatView key={sessionId} sessionId={sessionId} onDeleted={() => open(undefined)} />
        ) : (
          <Empty>Pick a session on the left, or create one.</Empty>
        )}
      </main>
    </div>
  );
}
