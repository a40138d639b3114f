import { newUuid, useAddSession } from '@mnemo/react';
import { type FormEvent, useRef, useState } from 'react';
import { ErrorBox, parseJsonObject } from './ui';
import { UserSelect } from './user-select';

export function NewSessionForm({
  defaultUserId,
  fixedUser = false,
  onCreated,
}: {
  defaultUserId?: string;
  /** The session's user is the signed-in user (a user token): no choice to offer. */
  fixedUser?: boolean;
  onCreated: (sessionId: string) => void;
}) {
  const add = useAddSession();
  const [sessionId, setSessionId] = useState('');
  const [userId, setUserId] = useState(defaultUserId);
  const [metadata, setMetadata] = useState('');
  const [problem, setProblem] = useState<string>();
  const details = useRef<HTMLDetailsElement>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseJsonObject(metadata);
    if ('problem' in parsed) return setProblem(parsed.problem);
    setProblem(undefined);
    const id = sessionId.trim() || `session-${newUuid().slice(0, 8)}`;
    const input = { sessionId: id, userId: userId ?? null, metadata: parsed.value };
    // At the top of the list at once (useAddSession is optimistic).
    add.mutate(input, {
      onSuccess: (session) => {
        setSessionId('');
        setMetadata('');
        // Folded away again (focus on its summary, not lost): the list below gets the room back, the new session at its top.
        if (details.current) {
          details.current.open = false;
          details.current.querySelector('summary')?.focus();
        }
        onCreated(session.sessionId);
      },
    });
  };

  return (
    <details ref={details} className="card new-session">
      <summary>New session</summary>
      <form onSubmit={submit}>
        <label htmlFor="new-session-id">Session ID</label>
        <input id="new-session-id" value={sessionId} onChange={(e) => setSessionId(e.target.value)} placeholder="generated when empty" />
        {!fixedUser && (
          <>
            <label htmlFor="new-session-user">User</label>
            <UserSelect id="new-session-user" value={userId} onChange={setUserId} noneLabel="— no user —" />
          </>
        )}
        <label htmlFor="new-session-metadata">Metadata (JSON, optional)</label>
        <textarea
          id="new-session-metadata"
          rows={3}
          value={metadata}
          onChange={(e) => setMetadata(e.target.value)}
          placeholder='{"topic": "tea"}'
        />
        {problem && (
          <p className="error" role="alert">
            {problem}
          </p>
        )}
        {add.isError && <ErrorBox error={add.error} title="Could not create the session" />}
        <button type="submit" disabled={add.isPending}>
          {add.isPending ? 'Creating…' : 'Create session'}
        </button>
      </form>
    </details>
  );
}
