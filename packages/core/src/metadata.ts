/**
 * Metadata rules, in one place (isomorphic: no database or Node imports, so the React hooks can
 * apply the same merge optimistically).
 *
 * Merge: nested objects merge recursively; arrays and scalars replace; an object replaces a scalar
 * and vice versa; `null` is stored as `null`; `{}` changes nothing; the value `{ "$delete": true }`
 * (DELETE_MARKER) removes its key, at any depth (an absent key: nothing to do). The merge is
 * expressed as a list of `$set`/`$unset` operations on dotted paths so the database applies it in
 * one atomic update and concurrent merges of different keys all survive.
 *
 * Keys starting with `$` are refused in metadata, so no stored metadata holds the marker: it is
 * allowed only as a value in a patch (`metadataProblem(value, 'patch')`), never in metadata being
 * stored (creation, import) nor inside an array.
 */
export type Metadata = Record<string, unknown>;

export const METADATA_MAX_DEPTH = 16;
export const METADATA_MAX_BYTES = 64 * 1024;
/**
 * More values than 64 KiB of JSON can hold (two bytes each at the least). Counted while walking, so
 * input that expands on decoding (superjson's shared references: 13 KB naming one array 27M times)
 * is refused after this many steps instead of walked or serialised whole.
 */
const METADATA_MAX_VALUES = METADATA_MAX_BYTES / 2;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** The rules below, in words (for API documentation). */
export const METADATA_RULES =
  'A JSON object. Keys: not empty, no ".", not starting with "$", not starting or ending with whitespace, not ' +
  '__proto__, constructor or prototype. No array directly inside an array. Nested 16 levels at most, 64 KiB at most ' +
  'as stored (after a merge too). Strings without U+0000 or lone surrogates.';
/** How a merge removes a key, in words (for API documentation). */
export const METADATA_PATCH_RULES =
  'Merged into the stored metadata: nested objects merge, other values replace, null is stored as null; ' +
  'the value {"$delete": true} removes its key (at any depth; nothing happens when the key is absent).';

/** In a metadata patch, this value removes its key instead of being stored. */
export const DELETE_MARKER = Object.freeze({ $delete: true as const });
const DELETE_KEY = '$delete';

/** Whether `value` is exactly `{ "$delete": true }` (DELETE_MARKER). */
export function isDeleteMarker(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === DELETE_KEY && value[DELETE_KEY] === true;
}

/** Top-level metadata key reserved for the server (Zep's extractors write there). */
export const SYSTEM_KEY = 'system';

export function isPlainObject(value: unknown): value is Metadata {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a string cannot be stored as given, or undefined: PostgreSQL (under FerretDB) cannot store
 * U+0000, and a lone surrogate is not Unicode (it would come back as U+FFFD). One rule for every
 * stored string: ids, roles, contents, profile fields, metadata keys and values.
 */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'must not contain U+0000 (NUL)';
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode (it has a lone surrogate)';
  return undefined;
}

/**
 * Returns why `value` is not valid metadata, or undefined when it is. `'stored'`: metadata as
 * given at creation or import; `'patch'`: a merge into stored metadata, where DELETE_MARKER may
 * be the value of a key (outside arrays). The other rules are the same.
 */
export function metadataProblem(value: unknown, kind: 'stored' | 'patch' = 'stored'): string | undefined {
  if (!isPlainObject(value)) return 'metadata must be a JSON object';
  let values = 0;
  // `patch`: whether a marker may stand here (false inside arrays: an array is stored as given).
  const walk = (v: unknown, path: string, depth: number, patch = false): string | undefined => {
    if (++values > METADATA_MAX_VALUES)
      return `metadata has more than ${METADATA_MAX_VALUES} values; its limit is ${METADATA_MAX_BYTES} bytes`;
    if (v === null || typeof v === 'boolean') return undefined;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      return problem && `${path} ${problem}`;
    }
    if (typeof v === 'number') return Number.isFinite(v) ? undefined : `${path} must be a finite number`;
    if (depth > METADATA_MAX_DEPTH) return `metadata is nested deeper than ${METADATA_MAX_DEPTH} levels at ${path}`;
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) {
        // FerretDB v1 cannot store an array directly inside an array.
        if (Array.isArray(item)) return `${path}[${i}] is an array inside an array, which cannot be stored: wrap it in an object`;
        const problem = walk(item, `${path}[${i}]`, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    if (!isPlainObject(v)) return `${path} is not a JSON value`;
    for (const [key, item] of Object.entries(v)) {
      if (key === DELETE_KEY) return markerProblem(path, kind === 'patch');
      const keyProblem = metadataKeyProblem(key);
      // JSON.stringify shows padding and control characters in the key.
      if (keyProblem) return key === '' ? `${path} has an empty key` : `metadata key ${JSON.stringify(key)} at ${path} ${keyProblem}`;
      if (patch && isDeleteMarker(item)) continue;
      const problem = walk(item, `${path}.${key}`, depth + 1, patch);
      if (problem) return problem;
    }
    return undefined;
  };
  const problem = walk(value, 'metadata', 1, kind === 'patch');
  if (problem) return problem;
  const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
  if (bytes > METADATA_MAX_BYTES) return `metadata is ${bytes} bytes; the limit is ${METADATA_MAX_BYTES}`;
  return undefined;
}

/**
 * Whitespace, as the body of a character class: what JavaScript's `\s` and `trim` count. Spelled
 * out rather than `\s` so that the JSON Schema patterns below mean the same in every regex dialect.
 */
export const TRIM_WHITESPACE = '\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
/** TRIM_WHITESPACE and U+0085 (NEL), which FerretDB counts (Go's unicode.IsSpace) and JavaScript does not. */
const WHITESPACE = `${TRIM_WHITESPACE}\\u0085`;
const PADDED = new RegExp(`^[${WHITESPACE}]|[${WHITESPACE}]$`);

/**
 * Why `key` cannot name a metadata key, or undefined: the rule for every key of stored metadata
 * and for every segment of a search filter's path (`metadata.a.b`), since both become dotted
 * paths in the database. FerretDB refuses a path segment that starts or ends with whitespace, in
 * an update and in a query alike (an internal error, not a validation error), so that is refused
 * here first. The phrase follows the key: `metadata key "a " must not start or end with whitespace`.
 */
export function metadataKeyProblem(key: string): string | undefined {
  if (key === '') return 'must not be empty';
  if (key.includes('.')) return 'must not contain "."';
  if (key.startsWith('$')) return 'must not start with "$"';
  if (PADDED.test(key)) return 'must not start or end with whitespace';
  if (FORBIDDEN_KEYS.has(key)) return 'is not allowed';
  return textProblem(key);
}

// ── The same rules as JSON Schema (the OpenAPI description of the REST API) ─────────────────────
// Patterns avoid `\s`, `\d` and Unicode mode, so JavaScript, Python and Rust engines agree. Lone
// surrogates are left to the descriptions: a JSON Schema string is Unicode text, which has none,
// and engines that work on code points (Rust's) cannot name them in a pattern.

/** One character of a stored string (not U+0000) that is not among `excluded`. */
const charBut = (excluded: string) => `[^\\u0000${excluded}]`;

/** A JSON Schema pattern for stored text (textProblem) without the characters of the class body `excluded`. */
export const textPattern = (excluded = '') => `^${charBut(excluded)}*$`;
/** textProblem, as a JSON Schema pattern. */
export const TEXT_PATTERN = textPattern();
/** metadataKeyProblem as a pattern without anchors (a filter path repeats it), FORBIDDEN_KEYS apart. */
export const METADATA_KEY_PATTERN = `${charBut(`.$${WHITESPACE}`)}(?:${charBut('.')}*${charBut(`.${WHITESPACE}`)})?`;
export const FORBIDDEN_METADATA_KEYS: readonly string[] = [...FORBIDDEN_KEYS];

/**
 * The metadata rules as JSON Schemas, `Metadata` and `MetadataPatch`, which refer to each other
 * through `ref(name)` (where the caller keeps them, e.g. an OpenAPI document's components). Depth
 * and size are stated in the description, and `x-max-depth` and `x-max-bytes` carry the numbers:
 * size has no JSON Schema keyword, and depth would need one schema per level, whose two ways down
 * (objects and arrays) schema tools enumerate path by path (schemathesis did not finish).
 */
export function metadataJsonSchemas(ref: (name: 'Metadata' | 'MetadataPatch') => string) {
  const text = { type: 'string', pattern: TEXT_PATTERN };
  const key = { type: 'string', pattern: `^${METADATA_KEY_PATTERN}$`, not: { enum: FORBIDDEN_METADATA_KEYS } };
  const scalars = [{ type: 'null' }, { type: 'boolean' }, { type: 'number' }, text];
  // An array is stored as given (no markers in it) and holds no array directly.
  const array = { type: 'array', items: { anyOf: [...scalars, { $ref: ref('Metadata') }] } };
  const limits = { 'x-max-depth': METADATA_MAX_DEPTH, 'x-max-bytes': METADATA_MAX_BYTES };
  const marker = {
    type: 'object',
    properties: { [DELETE_KEY]: { const: true } },
    required: [DELETE_KEY],
    additionalProperties: false,
    description: 'removes its key',
  };
  return {
    Metadata: {
      type: 'object',
      description: METADATA_RULES,
      propertyNames: key,
      additionalProperties: { anyOf: [...scalars, array, { $ref: ref('Metadata') }] },
      ...limits,
    },
    MetadataPatch: {
      type: 'object',
      description: `${METADATA_PATCH_RULES} ${METADATA_RULES}`,
      propertyNames: key,
      additionalProperties: { anyOf: [marker, ...scalars, array, { $ref: ref('MetadataPatch') }] },
      ...limits,
    },
  };
}

function markerProblem(path: string, inPatch: boolean): string {
  const where = `"$delete" at ${path}`;
  return inPatch
    ? `${where}: {"$delete": true} removes a key only as that key's whole value, and not inside an array`
    : `${where}: {"$delete": true} removes a key only in a metadata update, not in metadata being stored`;
}

/** Message parts are stored as JSON text, so they have only these limits. */
export const PARTS_MAX_BYTES = 4 * 1024 * 1024;
const PARTS_MAX_VALUES = PARTS_MAX_BYTES / 2;

/** Why `parts` (already an array of objects with a `type`) cannot be stored, or undefined. */
export function partsProblem(parts: unknown[]): string | undefined {
  let values = 0;
  // Counted while walking, as for metadata: shared references must not expand into gigabytes.
  const walk = (v: unknown, path: string, depth: number): string | undefined => {
    if (++values > PARTS_MAX_VALUES) return `parts have more than ${PARTS_MAX_VALUES} values; their limit is ${PARTS_MAX_BYTES} bytes`;
    if (v === null || typeof v === 'boolean' || v === undefined) return undefined;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      return problem && `${path} ${problem}`;
    }
    if (typeof v === 'number') return Number.isFinite(v) ? undefined : `${path} must be a finite number`;
    if (depth > 64) return `parts are nested deeper than 64 levels at ${path}`;
    if (Array.isArray(v)) return v.map((item, i) => walk(item, `${path}[${i}]`, depth + 1)).find(Boolean);
    if (!isPlainObject(v)) return `${path} is not a JSON value`;
    for (const [key, item] of Object.entries(v)) {
      const problem = textProblem(key) ?? (key === '__proto__' ? 'is not allowed' : undefined);
      if (problem) return `a key at ${path} ${problem}`;
      const itemProblem = walk(item, `${path}.${key}`, depth + 1);
      if (itemProblem) return itemProblem;
    }
    return undefined;
  };
  const problem = walk(parts, 'parts', 0);
  if (problem) return problem;
  const bytes = new TextEncoder().encode(JSON.stringify(parts)).length;
  return bytes > PARTS_MAX_BYTES ? `parts are ${bytes} bytes as JSON; the limit is ${PARTS_MAX_BYTES}` : undefined;
}

/** A message's text when only its parts are given: the `text` of its parts of type 'text', one per line. */
export function textOfParts(parts: { type: string; text?: unknown }[]): string {
  return parts.flatMap((p) => (p.type === 'text' && typeof p.text === 'string' ? [p.text] : [])).join('\n');
}

/** Why merging `patch` into `stored` would make metadata too large to keep, or undefined. */
export function mergedSizeProblem(stored: Metadata, patch: Metadata): string | undefined {
  const bytes = new TextEncoder().encode(JSON.stringify(mergeMetadata(stored, patch))).length;
  return bytes > METADATA_MAX_BYTES ? `metadata would be ${bytes} bytes after this merge; the limit is ${METADATA_MAX_BYTES}` : undefined;
}

/** Drops the reserved top-level `system` key (session and message updates may not write it). */
export function withoutSystem(patch: Metadata): Metadata {
  const { [SYSTEM_KEY]: _system, ...rest } = patch;
  return rest;
}

/** The value of a merge operation that removes its path (`$unset`). */
export const UNSET: unique symbol = Symbol('unset');
export type MergeOperation = [path: string[], value: unknown];

/** `value` with the DELETE_MARKER keys dropped from its objects: what a patch's new object stores. */
function withoutMarkers(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (isDeleteMarker(v) ? [] : [[k, withoutMarkers(v)]])));
}

/**
 * The operations (path segments → value to `$set`, or UNSET to `$unset`) that merge `patch` into
 * `stored`. Descends into objects that exist (or are absent) in `stored`, so siblings written
 * concurrently survive. DELETE_MARKER unsets a key that is present and does nothing otherwise; in
 * an object that replaces a non-object it is simply left out.
 */
export function mergeOperations(stored: unknown, patch: Metadata, path: string[] = []): MergeOperation[] {
  const ops: MergeOperation[] = [];
  for (const [key, value] of Object.entries(patch)) {
    const present = isPlainObject(stored) && Object.hasOwn(stored, key);
    const current = present ? stored[key] : undefined;
    const at = [...path, key];
    if (isDeleteMarker(value)) {
      if (present) ops.push([at, UNSET]);
    } else if (isPlainObject(value) && isPlainObject(current)) ops.push(...mergeOperations(current, value, at));
    else if (isPlainObject(value) && current === undefined && Object.keys(value).length > 0)
      ops.push(...mergeOperations(undefined, value, at));
    else ops.push([at, withoutMarkers(value)]);
  }
  return ops;
}

/** The merged metadata, computed in memory with the same rules (used for optimistic updates). */
export function mergeMetadata(stored: Metadata, patch: Metadata): Metadata {
  const result: Metadata = structuredClone(stored);
  for (const [path, value] of mergeOperations(stored, patch)) {
    let target = result;
    for (const key of path.slice(0, -1)) {
      if (!isPlainObject(target[key])) target[key] = {};
      target = target[key] as Metadata;
    }
    if (value === UNSET) delete target[path.at(-1)!];
    else target[path.at(-1)!] = structuredClone(value);
  }
  return result;
}
