import { AddUserInput, PageInput, SearchUserInput, UpdateUserInput, UserIdInput, UserSessionsInput } from '@mnemo/core/schemas';
import type { TRPCRouterRecord } from '@trpc/server';
import { procedure } from '../trpc';

export const userRouter = {
  add: procedure.input(AddUserInput).mutation(({ ctx, input }) => ctx.core.users.add(input)),
  get: procedure.input(UserIdInput).query(({ ctx, input }) => ctx.core.users.get(input)),
  update: procedure.input(UpdateUserInput).mutation(({ ctx, input }) => ctx.core.users.update(input)),
  delete: procedure.input(UserIdInput).mutation(({ ctx, input }) => ctx.core.users.delete(input)),
  list: procedure.input(PageInput.optional()).query(({ ctx, input }) => ctx.core.users.list(input)),
  sessions: procedure.input(UserSessionsInput).query(({ ctx, input }) => ctx.core.users.sessions(input)),
  /** memory.search across all of the user's live sessions, ranked together; each result's message names its session. */
  search: procedure.input(SearchUserInput).query(({ ctx, input }) => ctx.core.memory.searchUser(input)),
} satisfies TRPCRouterRecord;
