/**
 * Property tests (fast-check) against the real database: whatever metadata and text a client
 * sends, core either refuses it with a VALIDATION error or stores exactly what its rules say
 * (the in-memory merge that the React hooks use for optimistic updates), never anything else and
 * never another kind of error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors';
import { type Metadata, mergeMetadata, METADATA_MAX_BYTES } from './metadata';
import { useTestCore } from './test/core';

const core = useTestCore();

// Keys and strings from a small alphabet with the troublemakers in it: dots, dollars, spaces,
// NUL, lone surrogates, astral characters, reserved names.
const awkward = fc.constantFrom('a', 'b', 'é', ' ', '.', '$', '\u0000', '\uD800', '🦊', '\t', '_');
const key = fc.oneof(fc.string({ unit: awkward, minLength: 0, maxLength: 4 }), fc.constantFrom('__proto__', 'constructor', 'system', 'x'));
const scalar = fc.oneof(
  fc.string({ unit: awkward, maxLength: 6 }),
  fc.integer(),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant(null),
);
const { value: json } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(key, tie('value'), { maxKeys: 3 }),
  ),
}));
const metadata = fc.dictionary(key, json, { maxKeys: 4 });

let n = 0;
/** Runs `write`; a VALIDATION error means "refused", anything else fails the property. */
async function refusedOr<T>(write: () => Promise<T>): Promise<{ refused: true } | { refused: false; value: T }> {
  try {
    return { refused: false, value: await write() };
  } catch (error) {
    if (error instanceof ValidationError) return { refused: true };
    throw error;
  }
}

describe('metadata, property-tested against the database', () => {
  it('add then merge: refused, or stored exactly as mergeMetadata says (later wins, nested objects merge)', async () => {
    await fc.assert(
      fc.asyncProperty(metadata, metadata, metadata, async (first, second, third) => {
        const sessionId = `fuzz-${n++}`;
        const created = await refusedOr(() => core().sessions.add({ sessionId, metadata: first }));
        if (created.refused) return;
        let expected: Metadata = created.value.metadata;
        expect(expected).toEqual(first);
        for (const patch of [second, third]) {
          const updated = await refusedOr(() => core().sessions.update({ sessionId, metadata: patch }));
          if (updated.refused) continue;
          const { system: _dropped, ...kept } = patch; // sessions may not write `system`
          expected = mergeMetadata(expected, kept);
          expect(updated.value.metadata).toEqual(expected);
        }
        const stored = (await core().sessions.get({ sessionId })).metadata;
        expect(stored).toEqual(expected);
        expect(new TextEncoder().encode(JSON.stringify(stored)).length).toBeLessThanOrEqual(METADATA_MAX_BYTES);
      }),
      { numRuns: 150 },
    );
  });

  it('messages: refused, or read back exactly as sent', async () => {
    const text = fc.string({ unit: fc.oneof(awkward, fc.constantFrom('x', 'y', '\n', "'")), maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(text, text, metadata, async (role, content, meta) => {
        const sessionId = `fuzz-m-${n++}`;
        const added = await refusedOr(() => core().memory.add({ sessionId, messages: [{ role, content, metadata: meta }] }));
        if (added.refused) {
          // Nothing of a refused add is written, not even its session.
          await expect(core().sessions.get({ sessionId })).rejects.toThrow(/not found/);
          return;
        }
        const [message] = (await core().memory.get({ sessionId })).messages;
        expect(message).toMatchObject({ role, content, metadata: meta });
      }),
      { numRuns: 150 },
    );
  });
});
