import { describeError, useRestoreSession } from '@mnemo/react';
import { useEffect, useRef, useState } from 'react';
import { ChatView } from './chat-view';
import { usePhone } from './media';
import { NewSessionForm } from './new-session-form';
import type { Route } from './route';
import { UserSearch } from './search';
import { SessionList, type SessionListHandle } from './session-list';
import { useToast } from './toast';
import { Empty } from './ui';
import { UserSelect } from './user-select';

/** The sessions sidebar's id: on a phone it is a drawer, opened by the top bar's "Sessions" button (its `aria-controls`). */
export const SESSIONS_DRAWER = 'sessions-drawer';

export interface Drawer {
  open: boolean;
  /** Opens or closes the drawer; `returnFocus`: closing gives focus back to the button that opens it. */
  setOpen: (open: boolean, returnFocus?: boolean) => void;
}

export function SessionsPage({
  route,
  navigate,
  viewer,
  drawer,
}: {
  route: Extract<Route, { page: 'sessions' }>;
  navigate: (route: Route) => void;
  /** Signed in with a user token: only this user's sessions, no user choice. */
  viewer?: string;
  /** The sidebar as a drawer (phone layout). */
  drawer: Drawer;
}) {
  const { sessionId } = route;
  const userId = viewer ?? route.userId;
  const phone = usePhone();
  const drawerShown = phone && drawer.open;
  const [filter, setFilter] = useState('');
  const open = (id: string | undefined) => navigate({ page: 'sessions', sessionId: id, userId });
  /** A session picked in the list (or just created): on a phone the drawer closes to show it. */
  const pick = (id: string) => {
    open(id);
    if (drawerShown) drawer.setOpen(false, true);
  };

  const list = useRef<SessionListHandle>(null);
  const sidebar = useRef<HTMLElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const toast = useToast();
  const restore = useRestoreSession();
  // After a delete, focus goes to the row that followed it in the list (else the list's heading), never
  // to <body>; on a phone the drawer opens for it: the next thing to do is pick another session.
  const [focusAfterDelete, setFocusAfterDelete] = useState<string>();
  const [focusRestored, setFocusRestored] = useState<string>();
  const onDeleted = (id: string) => {
    setFocusAfterDelete(id);
    if (phone) drawer.setOpen(true);
    open(undefined);
    toast({
      message: `Session “${id}” deleted`,
      action: {
        label: 'Undo',
        run: () => {
          // The toast (and its Undo button) goes: focus waits on the list's heading, then goes to the session's row.
          heading.current?.focus();
          restore.mutate(
            { sessionId: id },
            {
              onSuccess: () => {
                open(id);
                setFocusRestored(id);
              },
              onError: (error) => toast({ message: `Session “${id}” was not restored: ${describeError(error)}` }),
            },
          );
        },
      },
    });
  };
  useEffect(() => {
    if (focusAfterDelete === undefined) return;
    if (!list.current?.focusAfterRemoval(focusAfterDelete)) heading.current?.focus();
    setFocusAfterDelete(undefined);
  }, [focusAfterDelete]);
  useEffect(() => {
    if (focusRestored === undefined) return;
    list.current?.focusRow(focusRestored);
    setFocusRestored(undefined);
  }, [focusRestored]);
  // The drawer opening takes focus into it: to the open session's row, else the heading (not the
  // filter box: that would pop up a phone's keyboard).
  useEffect(() => {
    if (!drawerShown || sidebar.current?.contains(document.activeElement)) return;
    if (!list.current?.focusSelected()) heading.current?.focus();
  }, [drawerShown]);

  // Escape closes the open drawer, wherever focus is (in it, or on the button that opened it).
  const { setOpen } = drawer;
  useEffect(() => {
    if (!drawerShown) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && !event.defaultPrevented) setOpen(false, true);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [drawerShown, setOpen]);

  return (
    <div className={drawerShown ? 'layout drawer-open' : 'layout'}>
      <aside ref={sidebar} id={SESSIONS_DRAWER} className="sidebar" aria-labelledby="sessions-heading">
        <h2 ref={heading} id="sessions-heading" tabIndex={-1}>
          Sessions
        </h2>
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
        <div className="filter">
          <label htmlFor="filter-text">Filter the list</label>
          <input
            id="filter-text"
            type="search"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            placeholder="id, user or last message"
            autoComplete="off"
          />
        </div>
        <NewSessionForm key={userId ?? ''} defaultUserId={userId} fixedUser={viewer !== undefined} onCreated={pick} />
        <UserSearch userId={userId} />
        <SessionList ref={list} userId={userId} selected={sessionId} onSelect={pick} filter={filter} />
      </aside>
      {/* On a phone, the open drawer covers the page: a tap beside it closes it. */}
      {drawerShown && <div className="drawer-backdrop" aria-hidden onClick={() => drawer.setOpen(false, true)} />}
      <main className="main" id="main" tabIndex={-1} inert={drawerShown}>
        {sessionId ? (
          <ChatView key={sessionId} sessionId={sessionId} onDeleted={() => onDeleted(sessionId)} message={route.message} q={route.q} />
        ) : (
          <Empty>{phone ? 'Open “Sessions” above to pick a session, or create one.' : 'Pick a session on the left, or create one.'}</Empty>
        )}
      </main>
    </div>
  );
}
