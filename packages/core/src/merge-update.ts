import type { Collection, Filter, MatchKeysAndValues, WithId } from 'mongodb';
import { isPathConflictError } from './db';
import { ValidationError } from './errors';
import { type Metadata, mergedSizeProblem, mergeOperations, UNSET } from './metadata';

/**
 * Merges `patch` into the `metadata` of the document matching `filter` with one atomic update:
 * `$set` on dotted keys (plus the fields in `set`), `$unset` for the keys the patch removes
 * (DELETE_MARKER); a VALIDATION error when the result would outgrow the
 * metadata size limit. The paths are planned from a read of the current
 * metadata; if a concurrent update changed a value's type in between, the write fails and is
 * planned again. Returns null when nothing matches.
 */
export async function mergeUpdate<D extends { metadata: Metadata }>(
  collection: Collection<D>,
  filter: Filter<D>,
  patch: Metadata,
  set: MatchKeysAndValues<D>,
): Promise<WithId<D> | null> {
  for (let attempt = 1; ; attempt++) {
    const current = await collection.findOne(filter, { projection: { metadata: 1 } });
    if (!current) return null;
    // The limit holds for what is stored, not only for each patch.
    const tooLarge = mergedSizeProblem(current.metadata ?? {}, patch);
    if (tooLarge) throw new ValidationError(tooLarge);
    const ops = mergeOperations(current.metadata, patch, ['metadata']);
    const sets = ops.filter(([, value]) => value !== UNSET).map(([path, value]) => [path.join('.'), value]);
    // A path that a concurrent update removed, or turned into a non-object, unsets nothing.
    const unsets = ops.filter(([, value]) => value === UNSET).map(([path]) => [path.join('.'), '']);
    try {
      return await collection.findOneAndUpdate(
        filter,
        {
          $set: { ...Object.fromEntries(sets), ...set } as MatchKeysAndValues<D>,
          ...(unsets.length > 0 && { $unset: Object.fromEntries(unsets) }),
        },
        { returnDocument: 'after' },
      );
    } catch (error) {
      if (!isPathConflictError(error) || attempt === 5) throw error;
    }
  }
}
