/**
 * A streaming reply, live: `useMessageStream` follows one message through `message.stream` (SSE;
 * the link reconnects and resumes from the last event id by itself, also from a restarted server),
 * and `useStopMessage` stops it from this tab for every reader and its writer (`message.stop`).
 */
import { skipToken, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { upsertMessages } from './message-cache';
import { type Message, type RouterOutputs, trpc } from './trpc';

type StreamEvent = (RouterOutputs['message']['stream'] extends AsyncIterable<infer E> ? E : never)['data'];
type EndStatus = Extract<StreamEvent, { type: 'end' }>['status'];

export interface MessageStreamState {
  /** The message as it is now (its text growing while it streams); undefined until the first event. */
  message: Message | undefined;
  /** How it ended (`complete`, `stopped`, `interrupted`); undefined while it streams. */
  ended: EndStatus | undefined;
  /** Why the stream failed (NOT_FOUND: the message was deleted, or is not there). */
  error: unknown;
}

/** The state after one stream event. */
export function applyStreamEvent(state: MessageStreamState, event: StreamEvent): MessageStreamState {
  switch (event.type) {
    case 'message':
      return { ...state, message: event.message };
    case 'append':
      return state.message ? { ...state, message: { ...state.message, content: state.message.content + event.text } } : state;
    case 'end':
      return { ...state, ended: event.status, message: state.message && { ...state.message, status: event.status } };
  }
}

const initial: MessageStreamState = { message: undefined, ended: undefined, error: undefined };

/**
 * Renders a message live while it streams (a reply being written by a model, here or elsewhere): the
 * message so far, its text as it grows, and how it ended. Its end also lands in the cached message
 * lists, so `useMemory`/`useMessages` show the final state without a re-fetch. `uuid` undefined: idle.
 */
export function useMessageStream(sessionId: string | undefined, uuid: string | undefined): MessageStreamState {
  const queryClient = useQueryClient();
  const key = `${sessionId}\u0000${uuid}`;
  // Per message: a new one starts from nothing. The ref holds what the events built (they arrive in order).
  const latest = useRef<{ key: string; value: MessageStreamState }>({ key, value: initial });
  const [, render] = useState(0);
  const update = (change: (value: MessageStreamState) => MessageStreamState) => {
    const value = change(latest.current.key === key ? latest.current.value : initial);
    latest.current = { key, value };
    render((n) => n + 1);
    return value;
  };
  trpc.message.stream.useSubscription(sessionId === undefined || uuid === undefined ? skipToken : { sessionId, uuid }, {
    onData: ({ data }) => {
      const value = update((v) => applyStreamEvent(v, data));
      if (data.type === 'end' && value.message && sessionId !== undefined) upsertMessages(queryClient, sessionId, [value.message]);
    },
    onError: (error) => update((v) => ({ ...v, error })),
  });
  return latest.current.key === key ? latest.current.value : initial;
}

/**
 * Stops a streaming reply (`message.stop`), for every reader and its writer: it ends `stopped` with
 * the text it has. Stopping a finished message changes nothing. The stopped message replaces the
 * cached one.
 */
export function useStopMessage() {
  const queryClient = useQueryClient();
  return trpc.message.stop.useMutation({
    onSuccess: (message) => upsertMessages(queryClient, message.sessionId, [message]),
  });
}
