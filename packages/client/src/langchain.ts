/**
 * @mnemo/client/langchain: a LangChain.js chat message history backed by a Mnemo session.
 *
 * `@langchain/core` (1.x) is an optional peer dependency: only code that imports this subpath needs it.
 *
 * Storage: each LangChain message becomes one Mnemo message whose `role` is `user`, `assistant`,
 * `system`, `tool`, `function` (a `ChatMessage` keeps its own role), whose `content` is the message's
 * text (what search and token counts see), and whose `parts` hold LangChain's own stored form
 * (`mapChatMessagesToStoredMessages`) in a `{ type: 'data-langchain', data }` part, next to a
 * `{ type: 'text', text }` part so part-reading clients (the AI SDK's UI messages) see the text too.
 * Reading maps that stored form back (`mapStoredMessagesToChatMessages`), so tool calls, tool call ids,
 * names, statuses, artifacts, additional_kwargs, response_metadata, usage_metadata, content blocks and
 * ids come back as they went in. Messages written by other clients (no LangChain part) are read by role.
 * A LangChain message id that is a valid Mnemo id (1–128 of `A-Za-z0-9._:-`) is also the Mnemo
 * message id, so adding the same message twice stores it once.
 */
import { BaseListChatMessageHistory } from '@langchain/core/chat_history';
import {
  AIMessage,
  type BaseMessage,
  ChatMessage,
  HumanMessage,
  mapChatMessagesToStoredMessages,
  mapStoredMessagesToChatMessages,
  type StoredMessage,
  SystemMessage,
  ToolMessage,
} from '@langchain/core/messages';
import { MESSAGE_ID_PATTERN } from '@mnemo/core/ids';
import {
  createMnemoClient,
  isTRPCClientError,
  type MnemoClient,
  type MnemoClientOptions,
  type RouterInputs,
  type RouterOutputs,
} from './client';

/** The part type that holds LangChain's stored form of a message (an AI SDK-style data part). */
export const LANGCHAIN_PART_TYPE = 'data-langchain';

type NewMessage = RouterInputs['memory']['add']['messages'][number];
type StoredMnemoMessage = RouterOutputs['message']['list']['items'][number];

/** The most messages one `memory.add` call takes (the server's limit). */
const ADD_BATCH = 1000;
/** The largest page `message.list` gives. */
const PAGE = 100;

export type MnemoChatMessageHistoryInput = { sessionId: string } & (
  | { /** A typed client from `createMnemoClient`. */ client: MnemoClient }
  | (MnemoClientOptions & { client?: undefined })
);

/** LangChain message type → Mnemo role (a `ChatMessage`, type `generic`, keeps its own role). */
const ROLE_OF_TYPE: Record<string, string> = { human: 'user', ai: 'assistant', system: 'system', tool: 'tool', function: 'function' };

export class MnemoChatMessageHistory extends BaseListChatMessageHistory {
  override lc_namespace = ['langchain', 'stores', 'message', 'mnemo'];

  readonly sessionId: string;
  readonly client: MnemoClient;

  constructor(input: MnemoChatMessageHistoryInput) {
    super({ sessionId: input.sessionId });
    this.sessionId = input.sessionId;
    this.client = input.client ?? createMnemoClient(input);
  }

  /** Every message of the session, oldest first; a session that does not exist has none. */
  override async getMessages(): Promise<BaseMessage[]> {
    const messages: BaseMessage[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.client.message.list.query({ sessionId: this.sessionId, limit: PAGE, ...(cursor && { cursor }) });
      for (const item of page.items) messages.push(fromMnemo(item));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return messages;
  }

  override async addMessage(message: BaseMessage): Promise<void> {
    await this.addMessages([message]);
  }

  /** Stores the messages in order, in one `memory.add` call (one per 1,000 messages). */
  override async addMessages(messages: BaseMessage[]): Promise<void> {
    const batch = messages.map(toMnemo);
    for (let i = 0; i < batch.length; i += ADD_BATCH) {
      await this.client.memory.add.mutate({ sessionId: this.sessionId, messages: batch.slice(i, i + ADD_BATCH) });
    }
  }

  /** Deletes the session and its messages; clearing a session that does not exist is not an error. */
  override async clear(): Promise<void> {
    try {
      await this.client.memory.delete.mutate({ sessionId: this.sessionId });
    } catch (err) {
      if (isTRPCClientError(err) && err.data?.code === 'NOT_FOUND') return;
      throw err;
    }
  }
}

/** A LangChain message as a Mnemo message to add. */
export function toMnemo(message: BaseMessage): NewMessage {
  // JSON drops `undefined` (which a database would keep as null) and anything JSON cannot say.
  const stored = JSON.parse(JSON.stringify(mapChatMessagesToStoredMessages([message])[0])) as StoredMessage;
  const role = stored.type === 'generic' ? (ChatMessage.isInstance(message) && message.role) || 'generic' : ROLE_OF_TYPE[stored.type];
  if (!role) throw new Error(`MnemoChatMessageHistory cannot store a message of type "${stored.type}"`);
  const text = message.text;
  return {
    role,
    content: text,
    parts: [...(text ? [{ type: 'text', text }] : []), { type: LANGCHAIN_PART_TYPE, data: stored }],
    ...(typeof message.id === 'string' && MESSAGE_ID_PATTERN.test(message.id) && { uuid: message.id }),
  };
}

/** A stored Mnemo message as a LangChain message: from its LangChain part, else by its role. */
export function fromMnemo(message: Pick<StoredMnemoMessage, 'uuid' | 'role' | 'content' | 'parts' | 'metadata'>): BaseMessage {
  const part = message.parts?.find((p) => p.type === LANGCHAIN_PART_TYPE);
  const stored = part?.data as StoredMessage | undefined;
  if (stored && typeof stored.type === 'string' && typeof stored.data === 'object' && stored.data !== null) {
    return mapStoredMessagesToChatMessages([stored])[0]!;
  }
  const fields = { content: message.content, id: message.uuid };
  switch (message.role) {
    case 'user':
    case 'human':
      return new HumanMessage(fields);
    case 'assistant':
    case 'ai':
      return new AIMessage(fields);
    case 'system':
      return new SystemMessage(fields);
    case 'tool': {
      const toolCallId = message.metadata['tool_call_id'] ?? message.metadata['toolCallId'];
      if (typeof toolCallId === 'string') return new ToolMessage({ ...fields, tool_call_id: toolCallId });
      return new ChatMessage({ ...fields, role: message.role });
    }
    default:
      return new ChatMessage({ ...fields, role: message.role });
  }
}
