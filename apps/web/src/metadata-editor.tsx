import { type Session, useUpdateSessionMetadata } from '@mnemo/react';
import { type FormEvent, useState } from 'react';
import { ErrorBox, parseJsonObject } from './ui';

/** Shows a session's metadata and merges a JSON patch into it (the server's merge rules). */
export function MetadataEditor({ session }: { session: Session }) {
  const update = useUpdateSessionMetadata();
  const [patch, setPatch] = useState('');
  const [problem, setProblem] = useState<string>();

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseJsonObject(patch);
    if ('problem' in parsed) return setProblem(parsed.problem);
    setProblem(undefined);
    update.mutate({ sessionId: session.sessionId, metadata: parsed.value }, { onSuccess: () => setPatch('') });
  };

  return (
    <aside className="card metadata" aria-labelledby="metadata-heading">
      <h3 id="metadata-heading">Metadata</h3>
      <pre aria-label="Session metadata" className="json">
        {JSON.stringify(session.metadata, null, 2)}
      </pre>
      <form onSubmit={submit}>
        <label htmlFor="metadata-patch">Merge JSON into the metadata</label>
        <textarea
          id="metadata-patch"
          rows={4}
          value={patch}
          onChange={(e) => setPatch(e.target.value)}
          placeholder='{"topic": "tea", "prefs": {"lang": "en"}}'
        />
        <p className="muted small">Objects merge key by key; other values replace; the key “system” is the server’s.</p>
        {problem && (
          <p className="error" role="alert">
            {problem}
          </p>
        )}
        {update.isError && <ErrorBox error={update.error} title="The metadata was not saved" />}
        <button type="submit" disabled={update.isPending || patch.trim() === ''}>
          {update.isPending ? 'Merging…' : 'Merge'}
        </button>
      </form>
    </aside>
  );
}
