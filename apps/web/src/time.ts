/** How the UI says when: relative, short, full, or a date with its time. */
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

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayAndClock = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

/** A short time for the message line: "14:05" today, "12 Mar, 14:05" this year, else "12 Mar 2024". */
export function shortTime(when: Date, now = new Date()): string {
  if (when.toDateString() === now.toDateString()) return clock.format(when);
  return (when.getFullYear() === now.getFullYear() ? dayAndClock : fullDate).format(when);
}

/** The full date and time (a `title`, or a details panel). */
export const fullTime = (when: Date) => full.format(when);

/** A date with its time, medium length ("Nov 26, 2026, 8:17 AM"). */
export function formatDate(date: Date): string {
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
