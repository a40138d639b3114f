import { useCallback, useEffect, useState } from 'react';

/** The app's state that survives a reload lives in the URL hash: `#/sessions/<id>?user=<userId>`, `#/users`. */
export type Route = { page: 'sessions'; sessionId?: string; userId?: string } | { page: 'users' };

export function parseHash(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const [page, ...rest] = path.split('/');
  if (page === 'users') return { page: 'users' };
  const sessionId = rest.length > 0 ? decodeURIComponent(rest.join('/')) : undefined;
  const userId = new URLSearchParams(query).get('user') ?? undefined;
  return { page: 'sessions', ...(sessionId && { sessionId }), ...(userId && { userId }) };
}

export function toHash(route: Route): string {
  if (route.page === 'users') return '#/users';
  const path = route.sessionId ? `#/sessions/${encodeURIComponent(route.sessionId)}` : '#/sessions';
  return route.userId ? `${path}?${new URLSearchParams({ user: route.userId })}` : path;
}

export function useRoute(): [Route, (route: Route) => void] {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  const navigate = useCallback((next: Route) => {
    window.location.hash = toHash(next);
  }, []);
  return [route, navigate];
}
