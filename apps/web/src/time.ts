import { useEffect, useState } from 'react';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
const dayAndMonth = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const fullDate = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });

/**
 * How long ago, short: "just now", "5 min. ago", "3 hr. ago", "yesterday", "4 days ago"; from a week
 * on, the date ("12 Mar", with the year when it is not this year's). The full date and time belong
 * in a `title` beside it.
 */
export function formatRelative(date: Date, now: number = Date.now()): string {
  const ago = now - date.getTime();
  if (ago < MINUTE) return 'just now';
  if (ago < HOUR) return relative.format(-Math.floor(ago / MINUTE), 'minute');
  if (ago < DAY) return relative.format(-Math.floor(ago / HOUR), 'hour');
  if (ago < 7 * DAY) return relative.format(-Math.floor(ago / DAY), 'day');
  return (date.getFullYear() === new Date(now).getFullYear() ? dayAndMonth : fullDate).format(date);
}

/** The current time, refreshed every `every` ms (relative times stay true while the page stays open). */
export function useNow(every = MINUTE): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(timer);
  }, [every]);
  return now;
}
