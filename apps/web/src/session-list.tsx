import { allItems, type Session, useSessions, useUserSessions } from '@mnemo/react';
import { Empty, ErrorBox, LoadMore, Loading } from './ui';

type ListQuery = ReturnType<typeof useSessions>;

interface Props {
  selected: string | undefined;
  onSelect: (sessionId: string) => void;
}

/** Sessions, all or one user's, with infinite scroll. */
export function SessionList({ userId, ...props }: Props & { userId: string | undefined }) {
  return userId === undefined ? <AllSessions {...props} /> : <UserSessions key={userId} userId={userId} {...props} />;
}

function AllSessions(props: Props) {
  return <SessionListView query={useSessions({ limit: 25, live: true })} empty="No sessions yet: create one above." {...props} />;
}

function UserSessions({ userId, ...props }: Props & { userId: string }) {
  const query = useUserSessions(userId, { limit: 25, live: true }) as ListQuery;
  return <SessionListView query={query} empty={`${userId} has no sessions yet.`} {...props} />;
}

function SessionListView({ query, empty, selected, onSelect }: Props & { query: ListQuery; empty: string }) {
  if (query.isPending) return <Loading what="sessions" />;
  if (query.isError) return <ErrorBox error={query.error} title="Could not load sessions" />;
  const sessions = allItems(query.data);
  return (
    <nav aria-label="Sessions" className="session-list">
      {sessions.length === 0 ? (
        <Empty>{empty}</Empty>
      ) : (
        <ul>
          {sessions.map((session) => (
            <SessionItem key={session.sessionId} session={session} selected={session.sessionId === selected} onSelect={onSelect} />
          ))}
        </ul>
      )}
      <LoadMore {...query} pages={query.data.pages.length} what="sessions" />
    </nav>
  );
}

function SessionItem({ session, selected, onSelect }: { session: Session; selected: boolean; onSelect: (id: string) => void }) {
  return (
    <li>
      <button
        type="button"
        className={selected ? 'session selected' : 'session'}
        aria-current={selected ? 'page' : undefined}
        onClick={() => onSelect(session.sessionId)}
      >
        <span className="session-id">{session.sessionId}</span>
        <span className="muted small">{session.userId ?? 'no user'}</span>
      </button>
    </li>
  );
}
