/**
 * Text → index terms, used identically for messages and queries: Unicode-normalised, accents
 * folded, lower-cased, split on anything that is not a letter or digit (apostrophes inside words
 * are dropped, so "don't" → "dont" and "user's" → "user"), English stop words removed, and each
 * ASCII word reduced to its Porter stem.
 */
import { porterStem } from './stem';

/** Longer runs of letters are not words (ids, base64): they are cut to this length. */
export const MAX_TERM_LENGTH = 40;

// A small English stop-word list: words too common to rank by, and expensive to look up.
const STOP_WORDS = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have he her hers him his how i if in ' +
    'into is it its just me my no not of on or our ours she so than that the their them then there these they this ' +
    'those to too us very was we were what when where which who whom why will with would you your yours'
  ).split(' '),
);

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*/gu;

/**
 * A message is indexed by its first MAX_TERMS terms, read from at most MAX_INDEXED_CHARS of its
 * text: bounded work per message (~10 ms) and a bounded search document whatever its size.
 */
export const MAX_TERMS = 10_000;
export const MAX_INDEXED_CHARS = 128 * 1024;

/** The terms of `text`, in order, with repeats (the first MAX_TERMS of them). */
export function tokenize(text: string): string[] {
  const folded = text
    .slice(0, MAX_INDEXED_CHARS)
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
  const terms: string[] = [];
  for (const match of folded.matchAll(WORD)) {
    const term = termOf(match[0]);
    if (term === undefined) continue;
    terms.push(term);
    if (terms.length === MAX_TERMS) break;
  }
  return terms;
}

/** The term of one folded word; none for a stop word. */
function termOf(word: string): string | undefined {
  const plain = /['’]/.test(word) ? word.replace(/['’]s$/, '').replace(/['’]/g, '') : word;
  return STOP_WORDS.has(plain) ? undefined : porterStem(plain.slice(0, MAX_TERM_LENGTH));
}

// A word of unfolded text: combining marks belong to it (they are folded away with it).
const RAW_WORD = /[\p{L}\p{N}\p{M}]+(?:['’][\p{L}\p{N}\p{M}]+)*/gu;

/**
 * Where `text` has words a search for `query` matches by (same term: any case, accents, "brewing"
 * for "brew"), as `[start, end)` offsets in order: what a UI highlights. (Browser-safe: `@mnemo/core/terms`.)
 */
export function matchedWords(text: string, query: string): [number, number][] {
  const wanted = new Set(tokenize(query));
  if (wanted.size === 0) return [];
  const ranges: [number, number][] = [];
  for (const match of text.matchAll(RAW_WORD)) {
    const folded = match[0]
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase();
    const term = termOf(folded);
    if (term !== undefined && wanted.has(term)) ranges.push([match.index, match.index + match[0].length]);
  }
  return ranges;
}
