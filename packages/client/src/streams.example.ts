// reply-stream.ts: a reply written by one process as a model streams it, read live by others
// (reconnecting and resuming by themselves), and stopped from anywhere.
import type { MnemoClient } from '@mnemo/client';

export type ReplyEnd = 'complete' | 'stopped' | 'interrupted';

/** The writer: appends each piece as the model gives it; stops early when the reply is stopped elsewhere. */
export async function writeReply(mnemo: MnemoClient, sessionId: string, uuid: string, pieces: AsyncIterable<string>): Promise<ReplyEnd> {
  await mnemo.memory.add.mutate({ sessionId, messages: [{ uuid, role: 'assistant', content: '', status: 'streaming' }] });
  for await (const piece of pieces) {
    const stored = await mnemo.message.update.mutate({ sessionId, uuid, append: piece });
    if (stored.status === 'stopped') return 'stopped'; // the answer says so: abort the model here
  }
  await mnemo.message.update.mutate({ sessionId, uuid, status: 'complete' });
  return 'complete';
}

/** A reader: the text so far, then as it grows, until the reply ends (the client needs an EventSource in Node). */
export function readReply(mnemo: MnemoClient, sessionId: string, uuid: string, onText: (text: string) => void): Promise<ReplyEnd> {
  let text = '';
  return new Promise((resolve, reject) => {
    const subscription = mnemo.message.stream.subscribe(
      { sessionId, uuid },
      {
        onData: ({ data: event }) => {
          if (event.type === 'end') {
            subscription.unsubscribe();
            resolve(event.status);
            return;
          }
          text = event.type === 'message' ? event.message.content : text + event.text;
          onText(text);
        },
        onError: reject,
      },
    );
  });
}

/** Stop, from any client that may write the session: the reply keeps the text it has. */
export const stopReply = (mnemo: MnemoClient, sessionId: string, uuid: string) => mnemo.message.stop.mutate({ sessionId, uuid });
