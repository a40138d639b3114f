import {
  AddMemoryInput,
  GetMemoryInput,
  ListSummariesInput,
  SearchMemoryInput,
  SearchSummariesInput,
  SessionIdInput,
} from '@mnemo/core/schemas';
import type { TRPCRouterRecord } from '@trpc/server';
import { procedure } from '../trpc';

export const memoryRouter = {
  add: procedure.input(AddMemoryInput).mutation(({ ctx, input }) => ctx.core.memory.add(input)),
  get: procedure.input(GetMemoryInput).query(({ ctx, input }) => ctx.core.memory.get(input)),
  /** Text (BM25, plus embeddings when configured) and metadata/date search over a session's messages. */
  search: procedure.input(SearchMemoryInput).query(({ ctx, input }) => ctx.core.memory.search(input)),
  /** A session's progressive summaries, newest first (made when a model is configured: MNEMO_LLM_URL). */
  summaries: procedure.input(ListSummariesInput).query(({ ctx, input }) => ctx.core.memory.summaries(input)),
  /** Text search (BM25) over a session's summaries: Zep's `search_scope: "summary"`. */
  searchSummaries: procedure.input(SearchSummariesInput).query(({ ctx, input }) => ctx.core.memory.searchSummaries(input)),
  /** Zep semantics: deleting memory soft-deletes the whole session. */
  delete: procedure.input(SessionIdInput).mutation(({ ctx, input }) => ctx.core.sessions.delete(input)),
} satisfies TRPCRouterRecord;
