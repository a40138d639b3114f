import { useSyncExternalStore } from 'react';

/** Where the layout turns into the phone one (sessions in a drawer): keep in step with the CSS (layout.css). */
export const PHONE_QUERY = '(max-width: 800px)';

/** Whether a CSS media query matches now; re-renders when that changes. */
export function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (onChange) => {
      const list = window.matchMedia(query);
      list.addEventListener('change', onChange);
      return () => list.removeEventListener('change', onChange);
    },
    () => window.matchMedia(query).matches,
  );
}

/** A narrow screen: the sessions sidebar is a drawer. */
export const usePhone = () => useMediaQuery(PHONE_QUERY);
