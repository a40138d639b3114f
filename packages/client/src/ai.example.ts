// lib/chat.ts: chat routes (Web Request → Response: Next.js route handlers, Hono, …) that keep each
// conversation in Mnemo, one Mnemo session per chat id.
import type { MnemoClient } from '@mnemo/client';
import { loadChat, resumeReply, saveChat, saveRequest, saveStreamingReply, stopReply } from '@mnemo/client/ai';
import {
  convertToModelMessages,
  createUIMessageStreamResponse,
  generateId,
  type LanguageModel,
  readUIMessageStream,
  stepCountIs,
  streamText,
  type ToolSet,
  toUIMessageStream,
  type UIMessage,
} from 'ai';

export function chatRoutes({ mnemo, model, tools }: { mnemo: MnemoClient; model: LanguageModel; tools?: ToolSet }) {
  /** useChat's default request body: the chat id and all its messages. */
  const readRequest = async (request: Request) => (await request.json()) as { id: string; messages: UIMessage[] };
  const reply = async (messages: UIMessage[], abortSignal?: AbortSignal) =>
    streamText({ model, tools, stopWhen: stepCountIs(5), messages: await convertToModelMessages(messages, { tools }), abortSignal });

  return {
    /** Load history: for the chat page, `useChat({ id, messages: await history(id) })`. [] for a new chat. */
    history: (chatId: string) => loadChat(mnemo, chatId),

    /** POST /api/chat that saves the chat when the reply has finished. */
    async saveOnFinish(request: Request): Promise<Response> {
      const { id, messages } = await readRequest(request);
      const result = await reply(messages);
      return createUIMessageStreamResponse({
        stream: toUIMessageStream({
          stream: result.stream,
          originalMessages: messages,
          generateMessageId: generateId, // the reply's id, kept as its Mnemo id
          onEnd: ({ messages }) => saveChat(mnemo, { sessionId: id, messages }),
        }),
      });
    },

    /** POST /api/chat that saves the reply while it streams: a reload or another tab sees it grow. */
    async saveWhileStreaming(request: Request): Promise<Response> {
      const { id, messages } = await readRequest(request);
      // The user's new message, before the reply; the reply goes under it (a regenerated one beside the old one).
      const { parentId } = await saveRequest(mnemo, { sessionId: id, messages });
      const abortController = new AbortController(); // aborted when the reply is stopped (`stop` below), from any tab
      const result = await reply(messages, abortController.signal);
      const [toClient, toMnemo] = toUIMessageStream({
        stream: result.stream,
        originalMessages: messages,
        generateMessageId: generateId,
      }).tee();
      const last = messages.at(-1);
      saveStreamingReply(mnemo, {
        sessionId: id,
        parentId,
        reply: readUIMessageStream({
          stream: toMnemo,
          message: last?.role === 'assistant' ? last : undefined, // a reply may continue the last message
          terminateOnError: true, // a failed reply stays 'streaming' (later: 'interrupted'), not 'complete'
        }),
        abortController,
      }).catch((err: unknown) => console.error('Mnemo: saving the reply failed', err));
      return createUIMessageStreamResponse({ stream: toClient });
    },

    /** GET /api/chat/[id]/stream, for `useChat({ resume: true })`: the reply in progress, read from Mnemo (204: none). */
    async resume(chatId: string): Promise<Response> {
      const stream = await resumeReply(mnemo, { sessionId: chatId });
      return stream ? createUIMessageStreamResponse({ stream }) : new Response(null, { status: 204 });
    },

    /** POST /api/chat/[id]/stop: stops the reply in progress, from any tab or device (its model call is aborted). */
    async stop(chatId: string): Promise<Response> {
      await stopReply(mnemo, { sessionId: chatId });
      return new Response(null, { status: 204 });
    },
  };
}
