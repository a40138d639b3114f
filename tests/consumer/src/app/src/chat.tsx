// README, "Install and use in your app": a chat component on the hooks.
import { MnemoProvider, useAddMemory, useMemory } from '@mnemo/react';
import { useState } from 'react';

function Chat({ sessionId }: { sessionId: string }) {
  const { data, isPending, error } = useMemory(sessionId, { live: true });
  const addMemory = useAddMemory();
  const [text, setText] = useState('');
  if (error) return <p>{error.message}</p>;
  if (isPending) return <p>Loading…</p>;
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        addMemory.mutate({ sessionId, messages: [{ role: 'user', content: text }] });
        setText('');
      }}
    >
      <ul>
        {data.messages.map((m) => (
          <li key={m.uuid}>
            {m.role}: {m.content}
          </li>
        ))}
      </ul>
      <input value={text} onChange={(event) => setText(event.target.value)} />
    </form>
  );
}

// Never rendered: proves the hooks' types reached the consumer (they are not `any`).
export function WrongInputs() {
  // @ts-expect-error a session id is a string
  useMemory(42);
  const addMemory = useAddMemory();
  // @ts-expect-error messages are required
  addMemory.mutate({ sessionId: 'chat-1' });
  return null;
}

export function App() {
  return (
    <MnemoProvider url="http://localhost:8000">
      <Chat sessionId="chat-1" />
    </MnemoProvider>
  );
}
