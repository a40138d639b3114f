import { PurgeInput, UserIdInput } from '@mnemo/core/schemas';
import type { TRPCRouterRecord } from '@trpc/server';
import { procedure } from '../trpc';

export const adminRouter = {
  /** Applies retention, then hard-deletes records soft-deleted more than `graceMs` ago. */
  purge: procedure.input(PurgeInput.optional()).mutation(({ ctx, input }) => ctx.core.purge(input)),
  /** Forgets a user now: hard-deletes the user, their sessions, messages, search terms and embeddings; counts per collection. */
  forgetUser: procedure.input(UserIdInput).mutation(({ ctx, input }) => ctx.core.users.forget(input)),
} satisfies TRPCRouterRecord;
