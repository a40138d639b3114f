/**
 * Conversation trees as "lines" of contiguous sequence numbers (docs/architecture.md, "Conversation trees").
 *
 * A session's messages are numbered 1, 2, 3… in the order they are added. A session without branches is
 * one line: each message follows the one numbered before it. Adding under a message that is not the
 * head starts a new line at the next number, under that parent; the session document keeps the list of
 * those lines (`SessionDoc.lines`, one entry per branch, in number order) and, when the head is not
 * the newest message, the head's number (`headSeq`). Within a line each message follows the one before
 * it, so the structure of the whole tree is that short list, and:
 *
 * - a message's parent is the number before it, or its line's parent when it starts a line;
 * - the active path (root to head) is a few ranges of numbers, one per line it crosses, in ascending
 *   order (a child is always numbered after its parent), so the path reads the buckets of those ranges
 *   only and pages by `seq` with the same keyset cursors as a line;
 * - a subtree is the rest of the message's line plus every line that hangs below it.
 *
 * Everything here is arithmetic on that list; which messages are live is asked of the caller.
 */
import type { SessionDoc } from './db';

/** A line: its first message's number and its parent's number (0: a root). */
export interface Line {
  start: number;
  parent: number;
}

/** An inclusive range of message numbers. */
export type Range = readonly [from: number, to: number];

export interface Tree {
  /** Every line, the first (from 1, a root) included, by `start`. */
  lines: Line[];
  /** The highest number handed out. */
  lastSeq: number;
  /** Lines by their parent's number. */
  byParent: Map<number, number[]>;
  /** The path last asked for (pathTo). */
  path?: { head: number; ranges: Range[] };
}

/**
 * Whether the session has branches, or a head set before its newest message (otherwise every read takes the path
 * of a plain line, as before trees).
 */
export const isBranched = (d: Pick<SessionDoc, 'lines' | 'headSeq'>): boolean => (d.lines?.length ?? 0) > 0 || d.headSeq !== undefined;

/** Trees by the session document they were made from (a single writer's documents change by replacement). */
const trees = new WeakMap<object, Tree>();

export function treeOf(d: Pick<SessionDoc, 'lines' | 'lastSeq'>): Tree {
  const known = trees.get(d);
  if (known) return known;
  const tree = makeTree(d);
  trees.set(d, tree);
  return tree;
}

function makeTree(d: Pick<SessionDoc, 'lines' | 'lastSeq'>): Tree {
  const lines = [{ start: 1, parent: 0 }, ...(d.lines ?? [])];
  const byParent = new Map<number, number[]>();
  for (const line of lines) byParent.set(line.parent, [...(byParent.get(line.parent) ?? []), line.start]);
  return { lines, lastSeq: d.lastSeq, byParent };
}

/** The head's number: the newest message unless `headSeq` says otherwise. */
export const headOf = (d: Pick<SessionDoc, 'headSeq' | 'lastSeq'>): number => d.headSeq ?? d.lastSeq;

/** Index in `t.lines` of the line holding `seq` (binary search: the last line starting at or before it). */
function lineIndex(t: Tree, seq: number): number {
  let lo = 0;
  let hi = t.lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (t.lines[mid]!.start <= seq) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The last number of line `i` (the next line's start minus one, or the last number handed out). */
const lineEnd = (t: Tree, i: number): number => (t.lines[i + 1]?.start ?? t.lastSeq + 1) - 1;

/** The number of a message's parent (0: it is a root). */
export function parentOf(t: Tree, seq: number): number {
  const line = t.lines[lineIndex(t, seq)]!;
  return line.start === seq ? line.parent : seq - 1;
}

/** The numbers of a message's children (0: the roots), ascending. */
export function childrenOf(t: Tree, seq: number): number[] {
  const starts = (t.byParent.get(seq) ?? []).filter((s) => s <= t.lastSeq);
  if (seq === 0) return starts;
  const next = seq + 1;
  const continues = next <= lineEnd(t, lineIndex(t, seq));
  return continues ? [next, ...starts] : starts;
}

/** The path from the root to `head`, as ascending ranges (empty for 0); the last one asked is kept with the tree. */
export function pathTo(t: Tree, head: number): Range[] {
  if (t.path?.head === head) return t.path.ranges;
  const ranges: Range[] = [];
  for (let seq = head; seq > 0; ) {
    const line = t.lines[lineIndex(t, seq)]!;
    ranges.push([line.start, seq]);
    seq = line.parent;
  }
  ranges.reverse();
  t.path = { head, ranges };
  return ranges;
}

/** Whether `seq` lies in one of `ranges` (ascending and disjoint: a binary search). */
export function inRanges(ranges: readonly Range[], seq: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [from, to] = ranges[mid]!;
    if (seq < from) hi = mid - 1;
    else if (seq > to) lo = mid + 1;
    else return true;
  }
  return false;
}

/** The ranges of `ranges` (ascending and disjoint) that overlap `from`…`to` (a binary search for the first one). */
export function rangesOverlapping(ranges: readonly Range[], from: number, to: number): readonly Range[] {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]![1] < from) lo = mid + 1;
    else hi = mid;
  }
  let end = lo;
  while (end < ranges.length && ranges[end]![0] <= to) end++;
  return ranges.slice(lo, end);
}

/** The message `root` and everything below it, as ascending ranges. */
export function subtreeOf(t: Tree, root: number): Range[] {
  const i = lineIndex(t, root);
  const ranges: Range[] = [[root, lineEnd(t, i)]];
  // Lines are numbered after their parents: one pass in number order finds every line below.
  for (let j = i + 1; j < t.lines.length; j++) {
    if (inRanges(ranges, t.lines[j]!.parent)) ranges.push([t.lines[j]!.start, lineEnd(t, j)]);
  }
  return ranges.filter(([from, to]) => from <= to).sort((a, b) => a[0] - b[0]);
}
