/**
 * Progress of a long CLI job (export, import) on stderr, so stdout stays the job's output. On a terminal: one
 * line rewritten in place a few times a second. Not a terminal (piped, redirected, CI): nothing, unless forced
 * (`--progress`), then a plain line every few seconds. `--quiet` turns it off everywhere.
 *
 *   export: 12,345 of 20,000 messages (62%), 3 sessions, 2 users · 3,120 messages/s · 12 s elapsed, about 3 s left
 */

export interface ProgressOptions {
  /** Where lines go (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** 'auto' (a terminal only), 'always' (--progress), 'never' (--quiet). */
  mode?: 'auto' | 'always' | 'never';
  now?: () => number;
}

export interface ProgressState {
  /** Done so far, in `unit`s. */
  done: number;
  /** The total in `unit`s, when known. */
  total?: number;
  /** Of a total measured in bytes rather than units (an import's file): how far through it. */
  fraction?: number;
  unit: string;
  /** More to say after the count, e.g. "3 sessions, 2 users". */
  detail?: string;
}

const number = new Intl.NumberFormat('en-US');

/** 75 → "1 min 15 s", 8 → "8 s". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

/** The line for `state`, `elapsedMs` after the start. */
export function progressLine(label: string, state: ProgressState, elapsedMs: number): string {
  const { done, total, unit, detail } = state;
  const fraction = state.fraction ?? (total ? Math.min(1, done / total) : undefined);
  const parts = [
    `${label}: ${number.format(done)}${total !== undefined ? ` of ${number.format(total)}` : ''} ${unit}` +
      (fraction !== undefined ? ` (${Math.floor(fraction * 100)}%)` : '') +
      (detail ? `, ${detail}` : ''),
  ];
  const seconds = elapsedMs / 1000;
  if (seconds >= 1 && done > 0) parts.push(`${number.format(Math.round(done / seconds))} ${unit}/s`);
  // Time left from the rate so far: only once there is a rate worth extrapolating.
  const left = fraction !== undefined && fraction > 0.01 && seconds >= 2 ? (seconds * (1 - fraction)) / fraction : undefined;
  parts.push(`${duration(seconds)} elapsed${left !== undefined ? `, about ${duration(left)} left` : ''}`);
  return parts.join(' · ');
}

export function createProgress(label: string, { stream = process.stderr, mode = 'auto', now = Date.now }: ProgressOptions = {}) {
  const tty = Boolean(stream.isTTY);
  const on = mode === 'always' || (mode === 'auto' && tty);
  const every = tty ? 250 : 5000;
  const started = now();
  let last = -Infinity;
  let state: ProgressState | undefined;
  const write = (final: boolean) => {
    if (!state) return;
    const line = progressLine(label, state, now() - started);
    stream.write(tty ? `\r\x1b[K${line}${final ? '\n' : ''}` : `${line}\n`);
  };
  return {
    /** Reports the state; printed when it is time to (a terminal: 4 times a second; otherwise every 5 s). */
    update(next: ProgressState): void {
      state = next;
      if (!on || now() - last < every) return;
      last = now();
      write(false);
    },
    /** Prints the last state once more (and ends the terminal's line). */
    done(): void {
      if (on && state) write(true);
    },
  };
}
