import { PurgeInput } from '@mnemo/core/schemas';
import type { TRPCRouterRecord } from '@trpc/server';
import { procedure } from '../trpc';

export const adminRouter = {
  /** Hard-deletes records soft-deleted more than `graceMs` ago. */
  purge: procedure.input(PurgeInput.optional()).mutation(({ ctx, input }) => ctx.core.purge(input)),
} satisfies TRPCRouterRecord;
