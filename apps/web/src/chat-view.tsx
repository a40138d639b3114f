import { useAddMemory, useSession } from '@mnemo/react';
import { type FormEvent, useState } from 'react';
import { DeleteSession } from './delete-session';
import { MessageList } from './message-list';
import { MetadataEditor } from './metadata-editor';
import { SessionSearch } from './search';
import { SummaryPanel } from './summary';
import { usePhone } from './media';
import { formatDate } from './time';
import { ErrorBox } from './ui';

const ROLES = ['user', 'assistant', 'system'] as const;

/**
 * One session: its header, the conversation (its summary, message list and composer) and its metadata.
 * `message` (a message uuid) and `q` come from a search result's link: the list scrolls to that
 * message and marks the words of `q` in it.
 */
export function ChatView({ sessionId, onDeleted, message, q }: { sessionId: string; onDeleted: () => void; message?: string; q?: string }) {
  // The session and its messages load side by side (the list does not wait for the session).
  const session = useSession(sessionId);
  const phone = usePhone();
  if (session.isError) return <ErrorBox error={session.error} title={`Could not open session “${sessionId}”`} />;
  const { data } = session;
  return (
    <div className="chat">
      <header className="chat-header">
        <div>
          <h2>{sessionId}</h2>
          <p className="muted small">
            {data ? `${data.userId ? `User ${data.userId}` : 'No user'} · created ${formatDate(data.createdAt)}` : 'Loading the session…'}
          </p>
        </div>
        <SessionSearch sessionId={sessionId} />
        <DeleteSession sessionId={sessionId} onDeleted={onDeleted} />
      </header>
      <div className="chat-body">
        {/* On a phone the conversation gets the whole width; the session's metadata is a disclosure above it. */}
        {phone && data && (
          <details className="session-metadata">
            <summary>Session metadata</summary>
            <MetadataEditor session={data} />
          </details>
        )}
        <section className="conversation" aria-label="Conversation">
          <SummaryPanel sessionId={sessionId} />
          <MessageList sessionId={sessionId} target={message} q={q} />
          <Composer sessionId={sessionId} />
        </section>
        {!phone && data && <MetadataEditor session={data} />}
      </div>
    </div>
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
