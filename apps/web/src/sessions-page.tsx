import { ChatView } from './chat-view';
import { NewSessionForm } from './new-session-form';
import type { Route } from './route';
import { SessionList } from './session-list';
import { Empty } from './ui';
import { UserSelect } from './user-select';

export function SessionsPage({
  route,
  navigate,
}: {
  route: Extract<Route, { page: 'sessions' }>;
  navigate: (route: Route) => void;
}) {
  const { sessionId, userId } = route;
  const open = (id: string | undefined) => navigate({ page: 'sessions', sessionId: id, userId });
  return (
    <div className="layout">
      <aside className="sidebar">
        <div className="filter">
          <label htmlFor="filter-user">Show sessions of</label>
          <UserSelect id="filter-user" value={userId} onChange={(u) => navigate({ page: 'sessions', sessionId, userId: u })} noneLabel="All users" />
        </div>
        <NewSessionForm key={userId ?? ''} defaultUserId={userId} onCreated={open} />
        <SessionList userId={userId} selected={sessionId} onSelect={open} />
      </aside>
      <main className="main">
        {sessionId ? (
          <ChatView key={sessionId} sessionId={sessionId} onDeleted={() => open(undefined)} />
        ) : (
          <Empty>Pick a session on the left, or create one.</Empty>
        )}
      </main>
    </div>
  );
}
