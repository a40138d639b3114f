/**
 * Resumable AI SDK replies with Mnemo as the only store (part of `@mnemo/client/ai`): the reply that
 * `saveStreamingReply` is writing is read back from Mnemo (`message.stream`) as the AI SDK's UI
 * message stream, which is what `useChat({ resume: true })` asks for when a page (re)loads; and
 * `stopReply` stops it from any client (`message.stop`). No Redis, no stream kept in the route: a
 * resume reaches any server instance, and works after a restart. See docs/ai-sdk.md.
 *
 * The client passed in must carry subscriptions: in Node, create it with an `EventSource` (the
 * `eventsource` package's), as `createMnemoClient`'s options say.
 */
import type { UIMessage, UIMessageChunk } from 'ai';
import { type MnemoMessage, toUIMessages } from './ai';
import type { MnemoClient, RouterOutputs } from './client';

/** What `message.stream` sends: the whole message, text appended, or its end. */
export type MessageStreamEvent = (RouterOutputs['message']['stream'] extends AsyncIterable<infer E> ? E : never)['data'];
type Part = UIMessage['parts'][number];
type Fields = Record<string, unknown>;

/** The session's reply being written: its last message, when that is not the user's and is still streaming. */
export async function findStreamingReply(client: MnemoClient, sessionId: string): Promise<MnemoMessage | undefined> {
  const { items } = await client.message.list.query({ sessionId, order: 'desc', limit: 1 });
  const last = items[0];
  return last && last.role !== 'user' && last.role !== 'human' && last.status === 'streaming' ? last : undefined;
}

/**
 * The reply in progress of a chat as a UI message stream, from its first chunk: what the AI SDK's
 * resume request (`GET /api/chat/:id/stream`) answers, `createUIMessageStreamResponse({ stream })`.
 * Null when no reply is streaming (answer 204: the SDK then shows the chat as it is). The stream
 * ends with the reply: `finish` when complete, `abort` when stopped, an `error` chunk when its
 * writer went away (interrupted).
 */
export async function resumeReply(
  client: MnemoClient,
  { sessionId }: { sessionId: string },
): Promise<ReadableStream<UIMessageChunk> | null> {
  const reply = await findStreamingReply(client, sessionId);
  return reply ? replyStream(client, { sessionId, uuid: reply.uuid }) : null;
}

/**
 * Stops the chat's reply in progress (`message.stop`): it ends as `stopped` with the text it has,
 * every reader's stream ends, and its `saveStreamingReply` aborts the model. Resolves to the stopped
 * message, or undefined when none was streaming (stopping twice is harmless).
 */
export async function stopReply(client: MnemoClient, { sessionId }: { sessionId: string }): Promise<MnemoMessage | undefined> {
  const reply = await findStreamingReply(client, sessionId);
  return reply && client.message.stop.mutate({ sessionId, uuid: reply.uuid });
}

/** One message of Mnemo read as a UI message stream (see resumeReply); cancelling it ends the subscription. */
export function replyStream(client: MnemoClient, { sessionId, uuid }: { sessionId: string; uuid: string }): ReadableStream<UIMessageChunk> {
  const toChunks = createChunker();
  let subscription: { unsubscribe(): void } | undefined;
  let done = false;
  return new ReadableStream<UIMessageChunk>({
    start(controller) {
      const finish = (error?: unknown) => {
        if (done) return;
        done = true;
        subscription?.unsubscribe();
        if (error === undefined) controller.close();
        else controller.error(error);
      };
      subscription = client.message.stream.subscribe(
        { sessionId, uuid },
        {
          onData: ({ data }) => {
            if (done) return;
            for (const chunk of toChunks(data)) controller.enqueue(chunk);
            if (data.type === 'end') finish();
          },
          onError: (error) => finish(error),
          onComplete: () => finish(),
        },
      );
      if (done) subscription.unsubscribe();
    },
    cancel() {
      done = true;
      subscription?.unsubscribe();
    },
  });
}

/**
 * Turns `message.stream` events into UI message chunks: the parts of each new state are compared
 * with the last (a text or reasoning part that grew gives a delta, a new part its chunks, a tool
 * part that moved on its input or output). A part rewritten otherwise than by growing cannot be said
 * in a UI message stream and is left as the reader had it; a reload shows it as stored.
 */
export function createChunker(): (event: MessageStreamEvent) => UIMessageChunk[] {
  let message: MnemoMessage | undefined;
  let parts: Part[] = [];
  /** Text and reasoning parts started and not yet ended, by chunk id. */
  const open = new Map<string, 'text' | 'reasoning'>();

  function diff(next: Part[]): UIMessageChunk[] {
    const out: UIMessageChunk[] = [];
    next.forEach((part, i) => {
      const before = parts[i] as Fields | undefined;
      const id = String(i);
      if (part.type === 'text' || part.type === 'reasoning') {
        const kind = part.type;
        const had = before?.type === kind ? (before.text as string) : undefined;
        if (had !== undefined && !part.text.startsWith(had)) return;
        if (had === undefined) {
          out.push({ type: `${kind}-start`, id });
          open.set(id, kind);
        }
        const rest = part.text.slice(had?.length ?? 0);
        if (rest) out.push({ type: `${kind}-delta`, id, delta: rest });
        if (part.state === 'done' && open.has(id)) {
          out.push({ type: `${kind}-end`, id });
          open.delete(id);
        }
      } else if (part.type === 'step-start') {
        if (before) return;
        if (i > 0) out.push({ type: 'finish-step' });
        out.push({ type: 'start-step' });
      } else if (part.type === 'dynamic-tool' || part.type.startsWith('tool-')) {
        out.push(...toolChunks(part as Fields, before));
      } else if (!before) {
        const chunk = newPartChunk(part as Fields);
        if (chunk) out.push(chunk);
      }
    });
    parts = next;
    return out;
  }

  return (event) => {
    if (event.type === 'message' || event.type === 'append') {
      const out: UIMessageChunk[] = [];
      if (event.type === 'message') {
        if (!message) out.push({ type: 'start', messageId: event.message.uuid });
        message = event.message;
      } else if (message) {
        message = { ...message, content: message.content + event.text }; // a message without parts: its one text part grows
      }
      if (message) out.push(...diff(toUIMessages([message])[0]!.parts));
      return out;
    }
    const out: UIMessageChunk[] = [...open].map(([id, kind]) => ({ type: `${kind}-end` as const, id }));
    open.clear();
    if (event.status === 'complete') out.push({ type: 'finish' });
    else if (event.status === 'stopped') out.push({ type: 'abort', reason: 'stopped' });
    else out.push({ type: 'error', errorText: 'the reply was interrupted: its writer stopped writing' });
    return out;
  };
}

/** How far a tool call has got: its input streaming, its input known, its outcome known. */
const TOOL_STAGE: Record<string, number> = { 'input-streaming': 1, 'input-available': 2, 'output-available': 3, 'output-error': 3 };

function toolChunks(part: Fields, before: Fields | undefined): UIMessageChunk[] {
  const toolCallId = part.toolCallId as string;
  const was = before && before.type === part.type && before.toolCallId === toolCallId ? (TOOL_STAGE[before.state as string] ?? 0) : 0;
  const now = TOOL_STAGE[part.state as string] ?? 0;
  if (now <= was) return [];
  const dynamic = part.type === 'dynamic-tool';
  const toolName = dynamic ? (part.toolName as string) : (part.type as string).slice('tool-'.length);
  const common = {
    toolCallId,
    ...(dynamic && { dynamic }),
    ...(part.providerExecuted !== undefined && { providerExecuted: part.providerExecuted as boolean }),
  };
  const out: UIMessageChunk[] = [];
  if (was < 1 && now === 1) out.push({ type: 'tool-input-start', toolName, ...common });
  if (was < 2 && now >= 2) out.push({ type: 'tool-input-available', toolName, input: part.input, ...common });
  if (part.state === 'output-available') out.push({ type: 'tool-output-available', output: part.output, ...common });
  if (part.state === 'output-error') out.push({ type: 'tool-output-error', errorText: String(part.errorText ?? ''), ...common });
  return out;
}

/** The chunk that adds a source, file or data part (as a UI message stream sends them), or undefined. */
function newPartChunk(part: Fields): UIMessageChunk | undefined {
  const type = part.type as string;
  if (type === 'source-url')
    return { type, sourceId: part.sourceId as string, url: part.url as string, title: part.title as string | undefined };
  if (type === 'source-document')
    return { type, sourceId: part.sourceId as string, mediaType: part.mediaType as string, title: part.title as string };
  if (type === 'file') return { type, url: part.url as string, mediaType: part.mediaType as string };
  if (type.startsWith('data-'))
    return { type: type as `data-${string}`, ...(part.id !== undefined && { id: part.id as string }), data: part.data };
  return undefined;
}
