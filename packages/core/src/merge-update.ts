import type { Collection, Filter, MatchKeysAndValues, WithId } from 'mongodb';
import { isPathConflictError } from './db';
import { ValidationError } from './errors';
import { type Metadata, mergedSizeProblem, mergeOperations } from './metadata';

/**
 * Merges `patch` into the `metadata` of the document matching `filter` with one atomic `$set` on
 * dotted keys (plus the fields in `set`); a VALIDATION error when the result would outgrow the
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
    const ops = mergeOperations(current.metadata, patch, ['metadata']).map(([path, value]) => [path.join('.'), value]);
    try {
      return await collection.findOneAndUpdate(
        filter,
        { $set: { ...Object.fromEntries(ops), ...set } as MatchKeysAndValues<D> },
        { returnDocument: 'after' },
      );
    } catch (error) {
      if (!isPathConflictError(error) || attempt === 5) throw error;
    }
  }
}
