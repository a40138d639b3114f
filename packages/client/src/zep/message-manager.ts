import type { MnemoClient } from '../client';
import { requireId, zepCall } from './errors';
import { toMessage } from './mappers';
import type { Message } from './models';
import { pageOffset, slice, walk } from '@mnemo/core/zep';

/** zep-js's `client.message`: a session's messages one by one. */
export class MessageManager {
  constructor(private readonly trpc: MnemoClient) {}

  /**
   * Page `cursor` (1-based, default 1) of `limit` messages, oldest first; every message when
   * `limit` is absent. Pages are served by walking Mnemo's keyset pages from the start.
   */
  async getSessionMessages(sessionId: string, limit?: number, cursor?: number): Promise<Message[]> {
    requireId(sessionId, 'sessionId');
    const items = await zepCall(() =>
      slice(
        walk((page) => this.trpc.message.list.query({ sessionId, ...page })),
        pageOffset(cursor, limit),
        limit,
      ),
    );
    return items.map(toMessage);
  }

  /** @throws NotFoundError when the message is not a live message of that session. */
  async getSessionMessage(sessionId: string, uuid: string): Promise<Message> {
    requireId(sessionId, 'sessionId');
    requireId(uuid, 'messageId');
    return toMessage(await zepCall(() => this.trpc.message.get.query({ sessionId, uuid })));
  }

  /** Merges `metadata` into the message's metadata (`{ $delete: true }` removes a key; a top-level `system` is dropped). */
  async updateSessionMessageMetadata(sessionId: string, uuid: string, metadata: Record<string, any>): Promise<Message> {
    requireId(sessionId, 'sessionId');
    requireId(uuid, 'messageId');
    return toMessage(await zepCall(() => this.trpc.message.update.mutate({ sessionId, uuid, metadata })));
  }
}
