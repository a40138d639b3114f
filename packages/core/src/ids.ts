/**
 * The id rules without zod: code that must not build zod schemas when it is imported (the client's
 * `@mnemo/client/tokens` and `@mnemo/client/langchain` subpaths) checks ids with these; schemas.ts
 * builds its zod schemas on the same constants, so the two cannot disagree.
 */
import { textProblem } from './metadata';

export const ID_MAX_LENGTH = 256;

/**
 * A message's id (its `uuid` field, Zep's name): a UUID Mnemo makes, or any id a client makes, as
 * chat SDKs do (the AI SDK's nanoid-style ids, LangChain's): 1–128 letters, digits, `-`, `_`, `.`, `:`.
 * Unique within its session.
 */
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** Why `id` is not a session or user id (1–256 characters, no control characters), or undefined when it is one. */
export function idProblem(id: string): string | undefined {
  const text = textProblem(id);
  if (text) return text;
  if (id.length === 0) return 'must not be empty';
  if (id.length > ID_MAX_LENGTH) return `must be at most ${ID_MAX_LENGTH} characters`;
  if (CONTROL_CHARACTER.test(id)) return 'must not contain control characters';
  return undefined;
}
