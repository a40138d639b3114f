import {
  Id,
  ListMessagesInput,
  MessageIdInput,
  MessageStreamInput,
  MessageTreeInput,
  RestoreMessageInput,
  TruncateInput,
  UpdateMessageInput,
} from '@mnemo/core/schemas';
import { type TRPCRouterRecord, tracked } from '@trpc/server';
import { z } from 'zod';
import { mappingErrors, procedure } from '../trpc';

export const messageRouter = {
  list: procedure.input(ListMessagesInput).query(({ ctx, input }) => ctx.core.memory.list(input)),
  get: procedure.input(MessageIdInput).query(({ ctx, input }) => ctx.core.memory.message(input)),
  /** The live messages sharing this one's parent (its branches' "‹ 2 / 3 ›"), and its index among them. */
  siblings: procedure.input(MessageIdInput).query(({ ctx, input }) => ctx.core.memory.siblings(input)),
  /** Every live message with its parent, branches included, paged by `seq`; and the head. */
  tree: procedure.input(MessageTreeInput).query(({ ctx, input }) => ctx.core.memory.tree(input)),
  /** Metadata merge; content/append, role, parts and status for edits and streamed replies. */
  update: procedure.input(UpdateMessageInput).mutation(({ ctx, input }) => ctx.core.memory.updateMessage(input)),
  delete: procedure.input(MessageIdInput).mutation(({ ctx, input }) => ctx.core.memory.deleteMessage(input)),
  /** Undoes a delete (`deletedWith`: a truncation too): the messages come back (NOT_FOUND once purged or replaced). */
  restore: procedure.input(RestoreMessageInput).mutation(({ ctx, input }) => ctx.core.memory.restoreMessage(input)),
  /** Deletes the messages below `uuid` (and it too when `inclusive`): after it on a line, its subtree in a tree. */
  truncate: procedure.input(TruncateInput).mutation(({ ctx, input }) => ctx.core.memory.truncate(input)),
  /**
   * Stops a streaming reply (any client that may write the session): it ends `stopped` with the text
   * it has; its writer's next write is answered `stopped`. A message that is not streaming answers as it is.
   */
  stop: procedure.input(MessageIdInput).mutation(({ ctx, input }) => ctx.core.memory.stopMessage(input)),
  /**
   * A message as a stream (SSE): the whole message, then the text appended or the whole message
   * again as it changes, then `{ type: 'end', status }`. Each event's id is an offset the server
   * stored, so a reconnecting client (tRPC sends its last event id) gets exactly the rest, even
   * from a restarted server (core/streams/message-stream.ts).
   */
  stream: procedure.input(MessageStreamInput).subscription(async function* ({ ctx, input, signal }) {
    for await (const { id, event } of mappingErrors(ctx.core.memory.stream(input, { signal }))) yield tracked(id, event);
  }),
  /**
   * A session's message events, live (SSE). The first event is a `reset` (re-read) unless the
   * client resumes with `lastEventId` within the server's event log (core/events.ts).
   */
  onChange: procedure.input(z.object({ sessionId: Id, lastEventId: z.string().max(64).nullish() })).subscription(async function* ({
    ctx,
    input,
    signal,
  }) {
    for await (const { id, event } of ctx.core.events.messages(input.sessionId, { lastEventId: input.lastEventId, signal })) {
      yield tracked(id, event);
    }
  }),
} satisfies TRPCRouterRecord;
