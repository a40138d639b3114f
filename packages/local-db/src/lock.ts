/**
 * One Mnemo per data dir: the local database has a single writer by construction (FerretDB v1
 * applies an update as a read-modify-write without a lock, so only one process's per-session
 * queues keep it correct), and Mnemo uses that to keep exact state in memory (core's store/). A
 * second server, or a CLI command that writes, on the same data dir therefore refuses to start.
 *
 * The lock is `<dataDir>/mnemo.lock`, created exclusively, holding the owner's pid and the time
 * its process started (Linux: from /proc, so a pid reused after a reboot is not mistaken for the
 * owner). A lock whose owner is gone (killed, crashed) is taken over. Within one process the lock
 * is shared (moving a SQLite store runs two servers on one data dir): it goes with its last holder.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalDbError } from './process';

/** When process `pid` started (clock ticks since boot; Linux), or '' where that cannot be known. */
function startTime(pid: number): string {
  try {
    return (
      readFileSync(`/proc/${pid}/stat`, 'utf8')
        .replace(/^.*\) /s, '')
        .split(' ')[19] ?? ''
    );
  } catch {
    return '';
  }
}

function isRunning(pid: number, started: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return started === '' || startTime(pid) === '' || startTime(pid) === started;
}

/** How many holders of this process each lock file has. */
const holders = new Map<string, number>();

/** Takes the data dir's lock for this process; returns its release. LocalDbError when another live process holds it. */
export function lockDataDir(dir: string): () => void {
  const file = join(dir, 'mnemo.lock');
  const mine = `${process.pid} ${startTime(process.pid)}\n`;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    const left = holders.get(file)! - 1;
    if (left > 0) return void holders.set(file, left);
    holders.delete(file);
    try {
      if (readFileSync(file, 'utf8') === mine) rmSync(file);
    } catch {
      // already gone
    }
  };
  if (holders.has(file)) {
    holders.set(file, holders.get(file)! + 1);
    return release;
  }
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx' });
      holders.set(file, 1);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
    }
    const [pid = '', started = ''] = readFileSync(file, 'utf8').trim().split(' ');
    if (isRunning(Number(pid), started)) {
      throw new LocalDbError(
        `Another Mnemo (pid ${pid}) is using the data dir ${dir}: its database has one writer. ` +
          'Stop that one first, or give this one another MNEMO_DATA_DIR.',
      );
    }
    rmSync(file, { force: true }); // its owner is gone
  }
}
