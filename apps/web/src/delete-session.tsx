import { useDeleteSession } from '@mnemo/react';
import { useState } from 'react';
import { ErrorBox } from './ui';

/**
 * "Delete session", then a confirmation step. The delete is soft: `onDeleted` (the sessions page) shows
 * the "Undo" toast and moves focus to the list; not here, since this unmounts with the chat it belongs to.
 */
export function DeleteSession({ sessionId, onDeleted }: { sessionId: string; onDeleted: () => void }) {
  const remove = useDeleteSession();
  const [confirming, setConfirming] = useState(false);
  if (!confirming)
    return (
      <button type="button" className="danger outline" onClick={() => setConfirming(true)}>
        Delete session
      </button>
    );
  return (
    <div className="confirm" role="group" aria-label="Confirm deletion">
      <span>Delete “{sessionId}” and all its messages?</span>
      <button
        type="button"
        className="danger"
        disabled={remove.isPending}
        onClick={() => remove.mutate({ sessionId }, { onSuccess: onDeleted })}
      >
        {remove.isPending ? 'Deleting…' : 'Yes, delete'}
      </button>
      <button type="button" onClick={() => setConfirming(false)} disabled={remove.isPending}>
        Cancel
      </button>
      {remove.isError && <ErrorBox error={remove.error} title="The session was not deleted" />}
    </div>
  );
}
