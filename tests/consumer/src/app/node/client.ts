// README, "Install and use in your app": the typed client, run against `mnemo serve`.
import { createMnemoClient, isTRPCClientError } from '@mnemo/client';

const mnemo = createMnemoClient({ url: process.env.MNEMO_URL ?? 'http://localhost:8000', apiKey: process.env.MNEMO_TOKEN });

await mnemo.memory.add.mutate({ sessionId: 'chat-1', messages: [{ role: 'user', content: 'Hi, I am Ada.' }] });
const { messages } = await mnemo.memory.get.query({ sessionId: 'chat-1', lastn: 12 });
const first: string | undefined = messages[0]?.content;
const session = await mnemo.session.get.query({ sessionId: 'chat-1' });
const created: Date = session.createdAt; // superjson: a real Date

let missing = '';
try {
  await mnemo.session.get.query({ sessionId: 'no-such-chat' });
} catch (error) {
  if (isTRPCClientError(error)) missing = error.data?.code ?? '';
}
console.log(JSON.stringify({ count: messages.length, first, createdIsDate: created instanceof Date, missing }));

// Never called: proves the router's types reached the consumer (they are not `any`).
export function wrongInputs() {
  // @ts-expect-error sessionId is required
  void mnemo.memory.get.query({ lastn: 12 });
  // @ts-expect-error no such procedure
  void mnemo.memory.nope.query();
}
