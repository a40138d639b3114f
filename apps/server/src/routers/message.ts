import { ListMessagesInput, MessageIdInput, UpdateMessageInput } from '@mnemo/core/schemas';
import type { TRPCRouterRecord } from '@trpc/server';
import { procedure } from '../trpc';

export const messageRouter = {
  list: procedure.input(ListMessagesInput).query(({ ctx, input }) => ctx.core.memory.list(input)),
  get: procedure.input(MessageIdInput).query(({ ctx, input }) => ctx.core.memory.message(input)),
  update: procedure.input(UpdateMessageInput).mutation(({ ctx, input }) => ctx.core.memory.updateMessage(input)),
} satisfies TRPCRouterRecord;
