import { AddSessionInput, Id, ListSessionsInput, SessionIdInput, SetHeadInput, UpdateSessionInput } from '@mnemo/core/schemas';
import { type TRPCRouterRecord, tracked } from '@trpc/server';
import { z } from 'zod';
import { procedure } from '../trpc';

export const sessionRouter = {
  add: procedure.input(AddSessionInput).mutation(({ ctx, input }) => ctx.core.sessions.add(input)),
  get: procedure.input(SessionIdInput).query(({ ctx, input }) => ctx.core.sessions.get(input)),
  update: procedure.input(UpdateSessionInput).mutation(({ ctx, input }) => ctx.core.sessions.update(input)),
  delete: procedure.input(SessionIdInput).mutation(({ ctx, input }) => ctx.core.sessions.delete(input)),
  /** Undoes a delete: the session comes back with the messages deleted with it (NOT_FOUND once purged). */
  restore: procedure.input(SessionIdInput).mutation(({ ctx, input }) => ctx.core.sessions.restore(input)),
  /** Switches branch: the head becomes the newest message under `uuid`; answers `{ headId }`. */
  setHead: procedure.input(SetHeadInput).mutation(({ ctx, input }) => ctx.core.memory.setHead(input)),
  /** Filtered, sorted pages of sessions, with totals and previews on request (ListSessionsInput). */
  list: procedure.input(ListSessionsInput.optional()).query(({ ctx, input }) => ctx.core.sessions.list(input)),
  /** Session events (created, changed, deleted), of one user or of all sessions, live (SSE); see message.onChange. */
  onChange: procedure.input(z.object({ userId: Id.optional(), lastEventId: z.string().max(64).nullish() })).subscription(async function* ({
    ctx,
    input,
    signal,
  }) {
    for await (const { id, event } of ctx.core.events.sessions(input.userId, { lastEventId: input.lastEventId, signal })) {
      yield tracked(id, event);
    }
  }),
} satisfies TRPCRouterRecord;
