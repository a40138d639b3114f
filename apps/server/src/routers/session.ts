import { AddSessionInput, PageInput, SessionIdInput, UpdateSessionInput } from '@mnemo/core/schemas';
import type { TRPCRouterRecord } from '@trpc/server';
import { procedure } from '../trpc';

export const sessionRouter = {
  add: procedure.input(AddSessionInput).mutation(({ ctx, input }) => ctx.core.sessions.add(input)),
  get: procedure.input(SessionIdInput).query(({ ctx, input }) => ctx.core.sessions.get(input)),
  update: procedure.input(UpdateSessionInput).mutation(({ ctx, input }) => ctx.core.sessions.update(input)),
  delete: procedure.input(SessionIdInput).mutation(({ ctx, input }) => ctx.core.sessions.delete(input)),
  list: procedure.input(PageInput.optional()).query(({ ctx, input }) => ctx.core.sessions.list(input)),
} satisfies TRPCRouterRecord;
