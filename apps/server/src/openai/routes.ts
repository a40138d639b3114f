/**
 * OpenAI's Conversations API (`/v1/conversations` and their items), as a table of routes like the Zep
 * API's (rest/routes.ts, whose serveRoutes serves both): each handler calls the tRPC procedures
 * through `createCaller(ctx)` — so auth, validation and domain errors are the router's — and only
 * maps shapes (shapes.ts) and OpenAI's paging. Errors answer with OpenAI's body and status codes
 * (http-error.ts, errorBody). The OpenAPI document (openapi.ts) is generated from the same table.
 */
import { messageCursor } from '@mnemo/core';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { type RestRoute, refuseUnauthenticated, route, serveRoutes } from '../rest/routes';
import type { Context } from '../trpc';
import {
  Conversation,
  ConversationDeleted,
  ConversationItem,
  ConversationItemList,
  ConversationList,
  CreateConversationRequest,
  CreateItemsRequest,
  IncludeQuery,
  ListConversationsQuery,
  ListItemsQuery,
  newId,
  PATH_PARAMETERS,
  toConversation,
  toConversationListItem,
  toItem,
  toList,
  UpdateConversationRequest,
} from './shapes';

type Api = Parameters<RestRoute['handler']>[0]['api'];

/** The metadata patch that makes a session's metadata exactly `next` (OpenAI's update replaces it). */
function replacing(current: Record<string, unknown>, next: Record<string, string>) {
  const removed = Object.keys(current).filter((key) => !(key in next));
  return { ...next, ...Object.fromEntries(removed.map((key) => [key, { $delete: true }])) };
}

/**
 * A page of a conversation's items in `order`, after or before an item: a keyset cursor on the
 * anchor's number, read the other way round for `before` (then put back in `order`).
 */
async function itemsPage(
  api: Api,
  sessionId: string,
  { after, before, limit, order }: { after?: string; before?: string; limit: number; order: 'asc' | 'desc' },
) {
  const anchor = after ?? before; // both given: `after` wins
  // An unknown conversation is a 404, not an empty list: reading the anchor (messages of a deleted session are deleted) or the session says so.
  const seq = anchor === undefined ? undefined : (await api.message.get({ sessionId, uuid: anchor })).seq;
  if (anchor === undefined) await api.session.get({ sessionId });
  const backwards = before !== undefined && after === undefined;
  const reverse = order === 'asc' ? 'desc' : 'asc';
  const page = await api.message.list({
    sessionId,
    limit,
    order: backwards ? reverse : order,
    cursor: seq === undefined ? undefined : messageCursor(seq),
  });
  const items = page.items.map(toItem);
  return toList(backwards ? items.reverse() : items, page.nextCursor !== null);
}

export const OPENAI_ROUTES: RestRoute[] = [
  // ── Conversations ──────────────────────────────────────────────────────────────────────────
  route({
    method: 'POST',
    path: '/conversations',
    summary: 'Create a conversation, with up to 20 items and metadata',
    body: CreateConversationRequest,
    response: Conversation,
    errors: [400, 401, 403, 404, 409],
    handler: async ({ api, body }) => {
      const sessionId = newId('conv');
      const session = await api.session.add({ sessionId, userId: body.user_id, metadata: body.metadata ?? undefined });
      if (body.items?.length) await api.memory.add({ sessionId, messages: body.items });
      return toConversation(session);
    },
  }),
  route({
    method: 'GET',
    path: '/conversations',
    summary: 'List conversations, by last activity or creation, of all users or one (Mnemo; OpenAI has no such route)',
    query: ListConversationsQuery,
    response: ConversationList,
    errors: [400, 401, 403],
    handler: async ({ api, query }) => {
      const page = await api.session.list({
        userId: query.user_id,
        sort: query.sort,
        order: query.order,
        limit: query.limit,
        cursor: query.cursor,
      });
      return { ...toList(page.items.map(toConversationListItem), page.nextCursor !== null), next_cursor: page.nextCursor };
    },
  }),
  route({
    method: 'GET',
    path: '/conversations/:conversation_id',
    summary: 'Get a conversation',
    response: Conversation,
    errors: [400, 401, 404],
    handler: async ({ api, params }) => toConversation(await api.session.get({ sessionId: params.conversation_id })),
  }),
  route({
    method: 'POST',
    path: '/conversations/:conversation_id',
    summary: 'Replace a conversation’s metadata',
    body: UpdateConversationRequest,
    response: Conversation,
    errors: [400, 401, 404],
    handler: async ({ api, params, body }) => {
      const sessionId = params.conversation_id;
      const current = await api.session.get({ sessionId });
      return toConversation(await api.session.update({ sessionId, metadata: replacing(current.metadata, body.metadata ?? {}) }));
    },
  }),
  route({
    method: 'DELETE',
    path: '/conversations/:conversation_id',
    summary: 'Delete a conversation and its items',
    response: ConversationDeleted,
    errors: [400, 401, 404],
    handler: async ({ api, params }) => {
      await api.session.delete({ sessionId: params.conversation_id });
      return { id: params.conversation_id, object: 'conversation.deleted', deleted: true };
    },
  }),

  // ── Items ──────────────────────────────────────────────────────────────────────────────────
  route({
    method: 'POST',
    path: '/conversations/:conversation_id/items',
    summary: 'Add up to 20 items to a conversation (an item whose id it already has is not added again)',
    query: IncludeQuery,
    body: CreateItemsRequest,
    response: ConversationItemList,
    errors: [400, 401, 404, 409],
    handler: async ({ api, params, body }) => {
      const sessionId = params.conversation_id;
      await api.session.get({ sessionId }); // adding to an unknown conversation is a 404 (memory.add would create it)
      const { messages } = await api.memory.add({ sessionId, messages: body.items });
      return toList(messages.map(toItem), false);
    },
  }),
  route({
    method: 'GET',
    path: '/conversations/:conversation_id/items',
    summary: 'List a conversation’s items (newest first unless `order=asc`), after or before an item',
    query: ListItemsQuery,
    response: ConversationItemList,
    errors: [400, 401, 404],
    handler: async ({ api, params, query }) => itemsPage(api, params.conversation_id, query),
  }),
  route({
    method: 'GET',
    path: '/conversations/:conversation_id/items/:item_id',
    summary: 'Get an item',
    query: IncludeQuery,
    response: ConversationItem,
    errors: [400, 401, 404],
    handler: async ({ api, params }) => toItem(await api.message.get({ sessionId: params.conversation_id, uuid: params.item_id })),
  }),
  route({
    method: 'DELETE',
    path: '/conversations/:conversation_id/items/:item_id',
    summary: 'Delete an item; answers with its conversation',
    response: Conversation,
    errors: [400, 401, 404],
    handler: async ({ api, params }) => {
      const sessionId = params.conversation_id;
      await api.message.delete({ sessionId, uuid: params.item_id });
      return toConversation(await api.session.get({ sessionId }));
    },
  }),
];

/** `contextOf` gives a request's tRPC context (app.ts: its token already checked, its tenant's core). */
export function openaiApi({ contextOf }: { contextOf: (req: FastifyRequest) => Promise<Context> }): FastifyPluginAsync {
  return async (app) => {
    app.addHook('onRequest', refuseUnauthenticated);
    serveRoutes(app, OPENAI_ROUTES, { contextOf, pathParameters: PATH_PARAMETERS });
  };
}
