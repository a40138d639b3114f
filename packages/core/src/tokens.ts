import { countTokens as encodeTokens } from 'gpt-tokenizer/encoding/cl100k_base';

/** Special tokens (`<|endoftext|>`, …) in a message are ordinary text: counted as such, never refused. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };
/** Its tokens, encoded with cl100k_base (gpt-tokenizer: the same counts as OpenAI's tiktoken, about 5× faster than js-tiktoken). */
const count = (text: string) => encodeTokens(text, AS_TEXT);

/** Encodes once, so that the encoder's tables are ready before the first request. */
export function loadTokenizer(): void {
  count('');
}

/** Text beyond this many characters is not encoded: its tokens are extrapolated from this much (≤ ~15 ms). */
export const TOKEN_SAMPLE_CHARS = 16 * 1024;
/** BPE is quadratic in the length of a run without spaces (an 8 KB one took 5 s): such runs are encoded in pieces. */
const LONG_RUN = /\S{33,}/g;
const PIECE = 16;
const RUN_SAMPLE = 1024;

/**
 * Tokens of a message as Zep counts them: `"<role>: <content>"` in OpenAI's cl100k_base encoding.
 * Bounded in time whatever the text: runs of over 32 non-space characters (base64, URLs, minified
 * JSON) are counted 16 characters at a time from their first 1,024 characters and scaled to their
 * length, and text past TOKEN_SAMPLE_CHARS is estimated at the rate of what came before. Both are
 * exact or within a few tokens for ordinary prose.
 */
export function countMessageTokens(role: string, content: string): number {
  return countTokens(`${role}: ${content}`);
}

/** Tokens of any text (a summary, a prompt), bounded in time as countMessageTokens. */
export function countTokens(text: string): number {
  const sample = text.slice(0, TOKEN_SAMPLE_CHARS);
  let tokens = 0;
  let last = 0;
  for (const run of sample.matchAll(LONG_RUN)) {
    tokens += count(sample.slice(last, run.index));
    // Its first RUN_SAMPLE characters, 16 at a time, scaled to its length.
    const head = run[0].slice(0, RUN_SAMPLE);
    let headTokens = 0;
    for (let i = 0; i < head.length; i += PIECE) headTokens += count(head.slice(i, i + PIECE));
    tokens += Math.round((headTokens * run[0].length) / head.length);
    last = run.index + run[0].length;
  }
  tokens += count(sample.slice(last));
  return sample.length === text.length ? tokens : Math.round((tokens * text.length) / sample.length);
}
