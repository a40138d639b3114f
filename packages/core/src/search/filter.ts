/**
 * The metadata filter of a memory search: a MongoDB query document restricted to message
 * metadata. Isomorphic (no database imports), so the zod schema in `schemas.ts` validates it in
 * the browser and on the server alike.
 *
 *   { "metadata.tag": "x" }                          equality (also on array elements, as MongoDB does)
 *   { "metadata.score": { "$gte": 3, "$lt": 9 } }    comparisons
 *   { "$or": [{ "metadata.a": 1 }, { "metadata.b": { "$in": [2, 3] } }] }
 *
 * Field paths must start with `metadata.` and name metadata keys (each segment follows the
 * metadata key rule: not empty, no `$` first, no padding);
 * operators come from a whitelist. Anything else (another field, `$where`, `$regex`, `$expr`,
 * an operator inside a value) is rejected, so a filter can only ever read message metadata.
 */
import { FORBIDDEN_METADATA_KEYS, isPlainObject, METADATA_KEY_PATTERN, metadataKeyProblem, TEXT_PATTERN, textProblem } from '../metadata';

export type MetadataFilter = Record<string, unknown>;

const COMPARISON_OPERATORS = new Set(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists']);
const LOGICAL_OPERATORS = new Set(['$and', '$or']);
const FORBIDDEN_SEGMENTS = new Set(FORBIDDEN_METADATA_KEYS);
const MAX_DEPTH = 8;
const MAX_NODES = 256;

export const METADATA_FILTER_OPERATORS = [...LOGICAL_OPERATORS, ...COMPARISON_OPERATORS];

/** Returns why `filter` is not an acceptable metadata filter, or undefined when it is. */
export function metadataFilterProblem(filter: unknown): string | undefined {
  let nodes = 0;

  const literal = (value: unknown, at: string, depth: number): string | undefined => {
    if (++nodes > MAX_NODES) return `filter has more than ${MAX_NODES} parts`;
    if (depth > MAX_DEPTH) return `filter is nested deeper than ${MAX_DEPTH} levels`;
    if (value === null || typeof value === 'boolean') return undefined;
    if (typeof value === 'string') {
      const problem = textProblem(value);
      return problem && `${at}: a value ${problem}`;
    }
    if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${at}: numbers must be finite`;
    if (Array.isArray(value)) {
      for (const item of value) {
        const problem = literal(item, at, depth + 1);
        if (problem) return problem;
      }
      return undefined;
    }
    if (!isPlainObject(value)) return `${at}: only JSON values can be compared`;
    for (const [key, item] of Object.entries(value)) {
      if (key.startsWith('$')) return `${at}: operator ${key} is not allowed inside a value`;
      if (FORBIDDEN_SEGMENTS.has(key)) return `${at}: key "${key}" is not allowed`;
      const keyProblem = textProblem(key);
      if (keyProblem) return `${at}: a key of a value ${keyProblem}`;
      const problem = literal(item, at, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  };

  const condition = (path: string, value: unknown, depth: number): string | undefined => {
    const pathProblem = textProblem(path);
    if (pathProblem) return `a filter field ${pathProblem}`;
    const segments = path.split('.');
    if (segments[0] !== 'metadata' || segments.length < 2) {
      return `filter field "${path}" is not allowed: fields must start with "metadata."`;
    }
    // Each segment after `metadata.` names a metadata key, so it follows the metadata key rule.
    for (const segment of segments.slice(1)) {
      const problem = metadataKeyProblem(segment);
      if (problem) return `filter field ${JSON.stringify(path)} is not a metadata path: key ${JSON.stringify(segment)} ${problem}`;
    }
    const keys = isPlainObject(value) ? Object.keys(value) : [];
    if (!keys.some((k) => k.startsWith('$'))) return literal(value, path, depth + 1); // implicit $eq
    if (!keys.every((k) => k.startsWith('$'))) return `${path}: cannot mix operators and fields in one object`;
    for (const [op, operand] of Object.entries(value as Record<string, unknown>)) {
      if (!COMPARISON_OPERATORS.has(op)) {
        return `${path}: operator ${op} is not allowed (allowed: ${[...COMPARISON_OPERATORS].join(', ')})`;
      }
      if (op === '$exists') {
        if (typeof operand !== 'boolean') return `${path}: $exists takes true or false`;
      } else if (op === '$in' || op === '$nin') {
        if (!Array.isArray(operand)) return `${path}: ${op} takes an array`;
        const problem = literal(operand, path, depth + 1);
        if (problem) return problem;
      } else {
        const problem = literal(operand, path, depth + 1);
        if (problem) return problem;
      }
    }
    return undefined;
  };

  const query = (value: unknown, at: string, depth: number): string | undefined => {
    if (++nodes > MAX_NODES) return `filter has more than ${MAX_NODES} parts`;
    if (depth > MAX_DEPTH) return `filter is nested deeper than ${MAX_DEPTH} levels`;
    if (!isPlainObject(value)) return `${at} must be an object`;
    for (const [key, item] of Object.entries(value)) {
      if (LOGICAL_OPERATORS.has(key)) {
        if (!Array.isArray(item) || item.length === 0) return `${key} takes a non-empty array of filters`;
        for (const [i, sub] of item.entries()) {
          const problem = query(sub, `${key}[${i}]`, depth + 1);
          if (problem) return problem;
        }
      } else if (key.startsWith('$')) {
        return `operator ${key} is not allowed (allowed: ${METADATA_FILTER_OPERATORS.join(', ')})`;
      } else {
        const problem = condition(key, item, depth);
        if (problem) return problem;
      }
    }
    return undefined;
  };

  return query(filter, 'filter', 1);
}

/**
 * The filter's rules as JSON Schemas, named as `ref(name)` refers to them: `MetadataFilter` (the
 * query at the top) and one schema per nesting level below it (`MetadataFilterAt2` … for `$and`/`$or`
 * members, `FilterValueAt2` … for values compared with), which is how JSON Schema can say "nested
 * 8 levels at most": past that, nothing is allowed. The number of parts has no JSON Schema keyword:
 * the description states it, and `x-max-parts` carries the number.
 */
export function metadataFilterJsonSchemas(ref: (name: string) => string): Record<string, object> {
  const nothing = { not: {} };
  const filterAt = (depth: number) =>
    depth > MAX_DEPTH ? nothing : { $ref: ref(depth === 1 ? 'MetadataFilter' : `MetadataFilterAt${depth}`) };
  const valueAt = (depth: number) => (depth > MAX_DEPTH ? nothing : { $ref: ref(`FilterValueAt${depth}`) });
  const arrayAt = (depth: number) => (depth > MAX_DEPTH ? nothing : { type: 'array', items: valueAt(depth + 1) });
  // A field's condition in a query at `depth`: a value (equality) or operators, whose operands are one level down.
  const conditionAt = (depth: number) => ({
    anyOf: [
      valueAt(depth + 1),
      {
        type: 'object',
        minProperties: 1,
        properties: Object.fromEntries(
          [...COMPARISON_OPERATORS].map((op) => [
            op,
            op === '$exists' ? { type: 'boolean' } : op === '$in' || op === '$nin' ? arrayAt(depth + 1) : valueAt(depth + 1),
          ]),
        ),
        additionalProperties: false,
      },
    ],
  });
  const forbidden = FORBIDDEN_METADATA_KEYS.join('|');
  const schemas: Record<string, object> = {};
  for (let depth = 1; depth <= MAX_DEPTH; depth++) {
    schemas[depth === 1 ? 'MetadataFilter' : `MetadataFilterAt${depth}`] = {
      type: 'object',
      description:
        depth === 1
          ? 'A MongoDB-style query on metadata: fields "metadata.<key>[.<key>…]" (each key follows the metadata key rule), ' +
            `${[...LOGICAL_OPERATORS].join(' and ')} with non-empty arrays of filters, and per field a value (equality) or ` +
            `an object of operators (${[...COMPARISON_OPERATORS].join(', ')}); objects compared with have no "$" keys. ` +
            `Nested ${MAX_DEPTH} levels at most, ${MAX_NODES} parts at most.`
          : `a filter nested ${depth} levels deep`,
      propertyNames: { not: { pattern: `(?:^|\\.)(?:${forbidden})(?:\\.|$)` } },
      patternProperties: {
        [`^metadata(?:\\.${METADATA_KEY_PATTERN})+$`]: conditionAt(depth),
        [`^\\$(?:${[...LOGICAL_OPERATORS].map((op) => op.slice(1)).join('|')})$`]: {
          type: 'array',
          minItems: 1,
          items: filterAt(depth + 1),
        },
      },
      additionalProperties: false,
      ...(depth === 1 && { 'x-max-parts': MAX_NODES }),
    };
    if (depth > 1) {
      schemas[`FilterValueAt${depth}`] = {
        anyOf: [
          { type: 'null' },
          { type: 'boolean' },
          { type: 'number' },
          { type: 'string', pattern: TEXT_PATTERN },
          arrayAt(depth),
          {
            type: 'object',
            propertyNames: { pattern: TEXT_PATTERN, not: { anyOf: [{ pattern: '^\\$' }, { enum: FORBIDDEN_METADATA_KEYS }] } },
            additionalProperties: valueAt(depth + 1),
          },
        ],
      };
    }
  }
  return schemas;
}

/** True for an empty filter (`{}`), which narrows nothing. */
export const isEmptyFilter = (filter: MetadataFilter | null | undefined): boolean => !filter || Object.keys(filter).length === 0;

/**
 * The filter as a predicate over a document in memory, with MongoDB's query semantics for the
 * operators above (the database evaluates the same filter in the message search; session lists of
 * a single-writer store evaluate it here, store/sessions.ts): a path steps into objects, into the
 * elements of arrays it meets (and into an array by index), a value matches when it equals the
 * operand or is an array holding an element that does, `null` also matches a missing field,
 * comparisons hold only between values of one type (numbers, strings, booleans), and `$ne`/`$nin`
 * are the negations of `$eq`/`$in`. Only for validated filters (metadataFilterProblem).
 *
 * Checked against the database on random metadata and filters (filter.test.ts): FerretDB v1 agrees
 * everywhere except where a path runs through an array of objects (`metadata.items.sku` over
 * `items: [{…}, {…}]`: it does not match `null` for an element lacking the field, nor reach into
 * elements past the first level), where this follows MongoDB.
 */
export function compileFilter(filter: MetadataFilter): (doc: object) => boolean {
  const tests = Object.entries(filter).map(([key, value]): ((doc: object) => boolean) => {
    if (key === '$and' || key === '$or') {
      const parts = (value as MetadataFilter[]).map(compileFilter);
      return key === '$and' ? (doc) => parts.every((p) => p(doc)) : (doc) => parts.some((p) => p(doc));
    }
    const segments = key.split('.');
    const isOperators = isPlainObject(value) && Object.keys(value).some((k) => k.startsWith('$'));
    const conditions = Object.entries(isOperators ? (value as Record<string, unknown>) : { $eq: value }).map(([op, operand]) =>
      condition(op, operand),
    );
    const holds = (found: Resolved) => conditions.every((c) => c(found));
    // The usual case without building anything: a path through objects to one value that is not an array.
    const whenMissing = holds(NOTHING);
    const one: Resolved = { values: [undefined], missing: false };
    return (doc) => {
      let value: unknown = doc;
      for (const segment of segments) {
        if (!isPlainObject(value)) return Array.isArray(value) ? holds(resolve(doc, segments)) : whenMissing;
        if (!Object.hasOwn(value, segment)) return whenMissing;
        value = value[segment];
      }
      if (Array.isArray(value)) return holds(resolve(doc, segments));
      one.values[0] = value;
      return holds(one);
    };
  });
  return (doc) => tests.every((t) => t(doc));
}

/** What a path leads to in a document: the values reached, and whether some branch of it ended before the last segment. */
interface Resolved {
  values: unknown[];
  missing: boolean;
}

const NOTHING: Resolved = { values: [], missing: true };

function resolve(doc: unknown, segments: string[]): Resolved {
  // Objects all the way down, the usual case: no array met, nothing to collect.
  let value = doc;
  let i = 0;
  for (; i < segments.length && isPlainObject(value); i++) {
    if (!Object.hasOwn(value, segments[i]!)) return NOTHING;
    value = value[segments[i]!];
  }
  if (i === segments.length) return { values: [value], missing: false };
  if (!Array.isArray(value)) return NOTHING;
  let current: unknown[] = [value];
  let missing = false;
  for (const segment of segments.slice(i)) {
    const next: unknown[] = [];
    for (const value of current) {
      if (Array.isArray(value)) {
        if (/^\d+$/.test(segment) && Number(segment) < value.length) next.push(value[Number(segment)]);
        for (const element of value) {
          if (!isPlainObject(element)) continue; // a path does not go through a value inside an array
          if (Object.hasOwn(element, segment)) next.push(element[segment]);
          else missing = true;
        }
      } else if (isPlainObject(value) && Object.hasOwn(value, segment)) next.push(value[segment]);
      else missing = true;
    }
    current = next;
  }
  return { values: current, missing };
}

/** Whether `test` holds for a value reached, or for an element of one that is an array. */
function anyCandidate(found: Resolved, test: (value: unknown) => boolean): boolean {
  for (const value of found.values) {
    if (test(value)) return true;
    if (Array.isArray(value)) for (const element of value) if (test(element)) return true;
  }
  return false;
}

function condition(op: string, operand: unknown): (found: Resolved) => boolean {
  /** Whether what was found equals `target` (one of its values or their elements; `null`: also nothing there). */
  const equalTo = (target: unknown): ((found: Resolved) => boolean) => {
    if (target === null) {
      const isNull = (c: unknown) => c === null;
      return (found) => found.missing || found.values.length === 0 || anyCandidate(found, isNull);
    }
    const isTarget = (c: unknown) => same(c, target);
    return (found) => anyCandidate(found, isTarget);
  };
  switch (op) {
    case '$eq':
      return equalTo(operand);
    case '$ne': {
      const equal = equalTo(operand);
      return (found) => !equal(found);
    }
    case '$in': {
      const tests = (operand as unknown[]).map(equalTo);
      return (found) => tests.some((test) => test(found));
    }
    case '$nin': {
      const tests = (operand as unknown[]).map(equalTo);
      return (found) => !tests.some((test) => test(found));
    }
    case '$exists':
      return (found) => found.values.length > 0 === operand;
    default: {
      const holds = {
        $gt: (order: number) => order > 0,
        $gte: (order: number) => order >= 0,
        $lt: (order: number) => order < 0,
        $lte: (order: number) => order <= 0,
      }[op];
      if (!holds) throw new Error(`unknown operator ${op}`);
      if (operand === null) return op === '$gte' || op === '$lte' ? equalTo(null) : () => false;
      return (found) =>
        anyCandidate(found, (c) => {
          const order = compareSameType(c, operand);
          return order !== undefined && holds(order);
        });
    }
  }
}

/** MongoDB's equality of JSON values: numbers by value, objects key by key in order, arrays element by element. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same(a[k], b[k]));
  }
  return false;
}

/** The order of two values of the same type (numbers, strings, booleans); undefined for values MongoDB would not compare. */
function compareSameType(a: unknown, b: unknown): number | undefined {
  if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string' && typeof a !== 'boolean')) return undefined;
  return a === b ? 0 : (a as number) < (b as number) ? -1 : 1;
}
