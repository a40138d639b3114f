/**
 * The metadata filter evaluated in memory (compileFilter: session lists of a single writer) against
 * the database evaluating the same filter (every other list and search): property tests over
 * random metadata and random filters, with the database as the oracle.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestCore } from '../test/core';
import { compileFilter, metadataFilterProblem } from './filter';

const core = useTestCore();

const key = fc.constantFrom('a', 'b', 'c', '0');
const scalar = fc.oneof(
  fc.constantFrom('x', 'y', 'X', ''),
  fc.integer({ min: -2, max: 3 }),
  fc.constantFrom(1.5, -0.5),
  fc.boolean(),
  fc.constant(null),
);
// Arrays of scalars only: where a path runs through an array of objects, FerretDB v1 departs from
// MongoDB (compileFilter follows MongoDB there; see the examples below).
const { value } = fc.letrec<{ value: unknown; object: unknown }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(scalar, { maxLength: 3 }), tie('object')),
  object: fc.dictionary(key, tie('value'), { maxKeys: 2 }),
}));
const metadata = fc.dictionary(key, value, { maxKeys: 3 });

const path = fc.array(key, { minLength: 1, maxLength: 3 }).map((keys) => `metadata.${keys.join('.')}`);
const operand = fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }), fc.dictionary(key, scalar, { maxKeys: 2 }));
const condition = fc.oneof(
  operand,
  fc.record({ $eq: operand }),
  fc.record({ $ne: operand }),
  fc.record({ $gt: scalar }),
  fc.record({ $gte: scalar }),
  fc.record({ $lt: scalar }),
  fc.record({ $lte: scalar }),
  fc.record({ $gte: scalar, $lt: scalar }),
  fc.record({ $in: fc.array(scalar, { minLength: 1, maxLength: 3 }) }),
  fc.record({ $nin: fc.array(scalar, { minLength: 1, maxLength: 3 }) }),
  fc.record({ $exists: fc.boolean() }),
);
const clause = fc.dictionary(path, condition, { minKeys: 1, maxKeys: 2 });
const filter = fc.oneof(
  clause,
  fc.record({ $or: fc.array(clause, { minLength: 1, maxLength: 3 }) }),
  fc.record({ $and: fc.array(clause, { minLength: 1, maxLength: 2 }) }),
);

const docs = fc.sample(metadata, { numRuns: 150, seed: 20261207 }).map((m, i) => ({ _id: i, metadata: m }));

describe('compileFilter', () => {
  beforeAll(async () => {
    await core().db.collection<(typeof docs)[number]>('filter_oracle').insertMany(docs);
  });

  it('selects exactly the documents the database selects, for any valid filter', async () => {
    const collection = core().db.collection<(typeof docs)[number]>('filter_oracle');
    await fc.assert(
      fc.asyncProperty(filter, async (f) => {
        fc.pre(metadataFilterProblem(f) === undefined);
        const stored = (await collection.find(f).toArray()).map((d) => d._id).sort((x, y) => x - y);
        const matches = compileFilter(f);
        expect(docs.filter((d) => matches(d)).map((d) => d._id)).toEqual(stored);
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('handles what the examples of the filter language say', () => {
    const doc = { metadata: { tag: ['x', 'y'], score: 5, nested: { deep: 'z' }, empty: null } };
    const matches = (f: Record<string, unknown>) => compileFilter(f)(doc);
    expect(matches({ 'metadata.tag': 'x' })).toBe(true); // equality on an array element
    expect(matches({ 'metadata.score': { $gte: 3, $lt: 9 } })).toBe(true);
    expect(matches({ 'metadata.score': { $gt: '1' } })).toBe(false); // no comparison across types
    expect(matches({ $or: [{ 'metadata.a': 1 }, { 'metadata.nested.deep': { $in: ['z'] } }] })).toBe(true);
    expect(matches({ 'metadata.missing': null, 'metadata.empty': null })).toBe(true);
    expect(matches({ 'metadata.missing': { $exists: true } })).toBe(false);
    // Paths through arrays of objects, as MongoDB evaluates them.
    const items = { metadata: { items: [{ sku: 'a', n: 1 }, { n: 2 }, 'loose'] } };
    expect(compileFilter({ 'metadata.items.n': 2 })(items)).toBe(true);
    expect(compileFilter({ 'metadata.items.n': { $gt: 1 } })(items)).toBe(true);
    expect(compileFilter({ 'metadata.items.sku': null })(items)).toBe(true); // an element without the field
    expect(compileFilter({ 'metadata.items.1.n': 2 })(items)).toBe(true); // by position
    expect(compileFilter({ 'metadata.items.sku': { $exists: true } })(items)).toBe(true);
  });
});
