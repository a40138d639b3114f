import { useCallback, useEffect, useState } from 'react';

/**
 * The app's state that survives a reload lives in the URL hash: `#/sessions/<id>?user=<userId>`, `#/users`.
 * A search result links to its message: `&message=<uuid>&q=<the search text>` (the chat scrolls to it,
 * terms highlighted).
 */
export type Route = { page: 'sessions'; sessionId?: string; userId?: string; message?: string; q?: string } | { page: 'users' };

export function parseHash(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const [page, ...rest] = path.split('/');
  if (page === 'users') return { page: 'users' };
  const sessionId = rest.length > 0 ? decodeURIComponent(rest.join('/')) : undefined;
  const params = new URLSearchParams(query);
  const [userId, message, q] = ['user', 'message', 'q'].map((name) => params.get(name) || undefined);
  return { page: 'sessions', ...(sessionId && { sessionId }), ...(userId && { userId }), ...(message && { message }), ...(q && { q }) };
}

export function toHash(route: Route): string {
  if (route.page === 'users') return '#/users';
  const path = route.sessionId ? `#/sessions/${encodeURIComponent(route.sessionId)}` : '#/sessions';
  const params = new URLSearchParams();
  if (route.userId) params.set('user', route.userId);
  if (route.message) params.set('message', route.message);
  if (route.q) params.set('q', route.q);
  return params.size > 0 ? `${path}?${params}` : path;
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
