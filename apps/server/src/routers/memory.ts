import { AddMemoryInput, GetMemoryInput, SessionIdInput } from '@mnemo/core/schemas';
import type { TRPCRouterRecord } from '@trpc/server';
import { procedure } from '../trpc';

export const memoryRouter = {
  add: procedure.input(AddMemoryInput).mutation(({ ctx, input }) => ctx.core.memory.add(input)),
  get: procedure.input(GetMemoryInput).query(({ ctx, input }) => ctx.core.memory.get(input)),
  /** Zep semantics: deleting memory soft-deletes the whole session. */
  delete: procedure.input(SessionIdInput).mutation(({ ctx, input }) => ctx.core.sessions.delete(input)),
} satisfies TRPCRouterRecord;
