import { type Message, useAddMemory, useMemory, usePendingMessages, useSession } from '@mnemo/react';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { DeleteSession } from './delete-session';
import { MetadataEditor } from './metadata-editor';
import { Empty, ErrorBox, formatDate, Loading } from './ui';

const ROLES = ['user', 'assistant', 'system'] as const;
/** How many of the latest messages the chat shows. */
const WINDOW = 100;

export function ChatView({ sessionId, onDeleted }: { sessionId: string; onDeleted: () => void }) {
  const session = useSession(sessionId);
  if (session.isPending) return <Loading what="the session" />;
  if (session.isError) return <ErrorBox error={session.error} title={`Could not open session “${sessionId}”`} />;
  const { data } = session;
  return (
    <div className="chat">
      <header className="chat-header">
        <div>
          <h2>{data.sessionId}</h2>
          <p className="muted small">
            {data.userId ? `User ${data.userId}` : 'No user'} · created {formatDate(data.createdAt)}
          </p>
        </div>
        <DeleteSession sessionId={sessionId} onDeleted={onDeleted} />
      </header>
      <div className="chat-body">
        <section className="conversation" aria-label="Conversation">
          <MessageList sessionId={sessionId} />
          <Composer sessionId={sessionId} />
        </section>
        <MetadataEditor session={data} />
      </div>
    </div>
  );
}

function MessageList({ sessionId }: { sessionId: string }) {
  const memory = useMemory(sessionId, { lastn: WINDOW, live: true }); // other tabs' and clients' writes appear as they happen
  const pending = usePendingMessages(sessionId);
  const end = useRef<HTMLLIElement>(null);
  const count = memory.data?.messages.length ?? 0;
  useEffect(() => {
    // (Newer browsers return a promise from scrollIntoView: do not hand it to React as a clean-up.)
    end.current?.scrollIntoView({ block: 'end' });
  }, [count]);
  if (memory.isPending) return <Loading what="messages" />;
  if (memory.isError) return <ErrorBox error={memory.error} title="Could not load the messages" />;
  if (memory.data.messages.length === 0) return <Empty>No messages yet. Say something below.</Empty>;
  return (
    <ol className="messages" aria-label="Messages">
      {memory.data.messages.map((message) => (
        <MessageItem key={message.uuid} message={message} pending={pending.has(message.uuid)} />
      ))}
      <li ref={end} aria-hidden className="end" />
    </ol>
  );
}

function MessageItem({ message, pending }: { message: Message; pending: boolean }) {
  return (
    <li className={`message role-${ROLES.includes(message.role as never) ? message.role : 'other'}`} data-pending={pending || undefined}>
      <div className="message-meta">
        <span className="role">{message.role}</span>
        <span className="muted small">{pending ? 'sending…' : `#${message.seq} · ${message.tokenCount} tokens`}</span>
      </div>
      <p className="content">{message.content}</p>
    </li>
  );
}

function Composer({ sessionId }: { sessionId: string }) {
  const add = useAddMemory();
  const [role, setRole] = useState<(typeof ROLES)[number]>('user');
  const [draft, setDraft] = useState('');

  const send = (event?: FormEvent) => {
    event?.preventDefault();
    const content = draft.trim();
    if (!content) return;
    setDraft('');
    // On failure the message leaves the list again: give the text back so nothing is lost.
    add.mutate({ sessionId, messages: [{ role, content }] }, { onError: () => setDraft((current) => current || content) });
  };

  return (
    <form className="composer" onSubmit={send}>
      <label htmlFor="composer-role" className="sr-only">
        Role
      </label>
      <select id="composer-role" value={role} onChange={(e) => setRole(e.target.value as (typeof ROLES)[number])}>
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
      <label htmlFor="composer-text" className="sr-only">
        Message
      </label>
      <textarea
        id="composer-text"
        rows={2}
        value={draft}
        placeholder="Write a message… (Enter sends, Shift+Enter for a new line)"
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={(e) => {
          // Enter while an IME is composing (Japanese, Chinese, …) confirms the composition: it must not send.
          // (keyCode 229 is how some browsers mark such key presses, around compositionend too.)
          const composing = e.nativeEvent.isComposing || e.keyCode === 229;
          if (e.key === 'Enter' && !e.shiftKey && !composing) send(e);
        }}
      />
      <button type="submit" disabled={!draft.trim()}>
        Send
      </button>
      {add.isError && <ErrorBox error={add.error} title="The message was not saved" />}
    </form>
  );
}
