/**
 * What a message shows about itself (role, time, token count, status) and its "Details" panel:
 * metadata as JSON with a merge editor, edit the text (a question's edit is a new version beside it:
 * EditMessage), delete (with Undo), and for an assistant's
 * answer "Regenerate from here" (which sets it and everything after it aside, a version the branch
 * picker keeps: Mnemo stores conversations, it has no model; the app that writes the answers writes
 * a new one).
 */
import {
  describeError,
  type Message,
  trpc,
  useAddMemory,
  useDeleteMessage,
  useRestoreMessage,
  useSetHead,
  useUpdateMessage,
} from '@mnemo/react';
import { type FormEvent, type KeyboardEvent, useState } from 'react';
import { fullTime, shortTime } from './time';
import { useToast } from './toast';
import { ErrorBox, parseJsonObject } from './ui';

/**
 * "‹ 2 / 3 ›" on a message that has other versions (an edit or a regenerate made a branch beside it:
 * Message.siblingIndex, siblingCount): the arrows switch the conversation to the previous or next
 * version (session.setHead), which every reader then follows, after a reload too.
 */
function BranchPicker({ message }: { message: Message }) {
  const utils = trpc.useUtils();
  const setHead = useSetHead();
  const show = useToast();
  const count = message.siblingCount ?? 1;
  const index = message.siblingIndex ?? 0;
  if (count < 2) return null;
  const go = async (to: number) => {
    try {
      const { items } = await utils.message.siblings.fetch({ sessionId: message.sessionId, uuid: message.uuid });
      const target = items[to];
      if (target) await setHead.mutateAsync({ sessionId: message.sessionId, uuid: target.uuid });
    } catch (error) {
      show({ message: `Could not switch version: ${describeError(error)}` });
    }
  };
  return (
    <span className="branch-picker" role="group" aria-label={`Version ${index + 1} of ${count}`}>
      <button
        type="button"
        className="link"
        aria-label="Previous version"
        disabled={index === 0 || setHead.isPending}
        onClick={() => void go(index - 1)}
      >
        ‹
      </button>
      <span className="muted small">
        {index + 1} / {count}
      </span>
      <button
        type="button"
        className="link"
        aria-label="Next version"
        disabled={index === count - 1 || setHead.isPending}
        onClick={() => void go(index + 1)}
      >
        ›
      </button>
    </span>
  );
}

/**
 * The message's line: role, time (full on hover), `#seq · N tokens` (or "sending…"), its status
 * when not complete, and the Details button (the message's one Tab stop, see `tabbable`).
 */
export function MessageMeta({
  message,
  pending,
  id,
  detailsId,
  open,
  onToggle,
  tabbable,
  onKeyDown,
}: {
  message: Message;
  pending: boolean;
  /** The id of the line (it labels the message). */
  id: string;
  detailsId: string;
  open: boolean;
  onToggle: () => void;
  /** Whether the Details button is in the Tab order (one message's is: arrow keys move between them). */
  tabbable: boolean;
  onKeyDown: (event: KeyboardEvent<HTMLButtonElement>) => void;
}) {
  return (
    <div className="message-meta">
      <span id={id} className="message-line">
        <span className="role">{message.role}</span>
        <time className="muted small" dateTime={message.createdAt.toISOString()} title={fullTime(message.createdAt)}>
          {shortTime(message.createdAt)}
        </time>
        <span className="muted small stats">{pending ? 'sending…' : `#${message.seq} · ${message.tokenCount} tokens`}</span>
        {message.status !== 'complete' && <span className={`status status-${message.status}`}>{message.status}</span>}
      </span>
      <BranchPicker message={message} />
      <button
        type="button"
        className="link details-toggle"
        data-details-for={message.uuid}
        aria-expanded={open}
        aria-controls={detailsId}
        aria-label={`Details of message ${message.seq} (${message.role})`}
        aria-describedby="messages-keys"
        tabIndex={tabbable ? 0 : -1}
        disabled={pending}
        onClick={onToggle}
        onKeyDown={onKeyDown}
      >
        Details
      </button>
    </div>
  );
}

/** Deletes a message (softly; it leaves the list at once) and, once the server agrees, offers Undo in a toast. */
export function useDeleteWithUndo() {
  const remove = useDeleteMessage();
  const restore = useRestoreMessage();
  const show = useToast();
  return (message: Message) => {
    const { sessionId, uuid, seq } = message;
    remove.mutate(
      { sessionId, uuid },
      {
        onSuccess: () =>
          show({
            message: 'Message deleted',
            action: {
              label: 'Undo',
              run: () =>
                restore.mutate(
                  { sessionId, uuid, seq },
                  { onError: (error) => show({ message: `The message was not restored: ${describeError(error)}` }) },
                ),
            },
          }),
        onError: (error) => show({ message: `The message was not deleted: ${describeError(error)}` }),
      },
    );
  };
}

/**
 * "Regenerate from here": sets an answer and everything after it aside, without deleting anything: the
 * conversation's head goes exactly to the question (session.setHead, `exact`), so the next answer
 * written is a new version beside this one (the branch picker then shows both). Undo in a toast puts
 * the head back where it was.
 */
export function useRegenerateWithUndo() {
  const utils = trpc.useUtils();
  const setHead = useSetHead();
  const show = useToast();
  return async ({ sessionId, uuid }: Message) => {
    try {
      const [{ headId }, { parentId }] = await Promise.all([
        utils.message.tree.fetch({ sessionId, limit: 1 }),
        utils.message.siblings.fetch({ sessionId, uuid }),
      ]);
      if (parentId === null || headId === null) throw new Error('this answer follows no message');
      await setHead.mutateAsync({ sessionId, uuid: parentId, exact: true });
      show({
        message: 'Answer set aside: the next answer is a new version beside it',
        action: {
          label: 'Undo',
          run: () =>
            setHead.mutate(
              { sessionId, uuid: headId, exact: true },
              { onError: (error) => show({ message: `The conversation was not put back: ${describeError(error)}` }) },
            ),
        },
      });
    } catch (error) {
      show({ message: `Nothing was set aside: ${describeError(error)}` });
    }
  };
}

/** The Details panel of one message. */
export function MessageDetails({
  message,
  id,
  after,
  onEdit,
  onDelete,
  onRegenerate,
}: {
  message: Message;
  id: string;
  /** How many messages come after it (what "Regenerate from here" removes besides it). */
  after: number;
  /** Opens the message's text for editing. */
  onEdit: () => void;
  onDelete: () => void;
  /** "Regenerate from here", confirmed: remove it and what follows (the list does it: it outlives this panel). */
  onRegenerate: () => void;
}) {
  const update = useUpdateMessage();
  const [patch, setPatch] = useState('');
  const [problem, setProblem] = useState<string>();
  const [confirming, setConfirming] = useState(false);
  const patchId = `${id}-patch`;
  const hintId = `${id}-hint`;

  const merge = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseJsonObject(patch);
    if ('problem' in parsed) return setProblem(parsed.problem);
    setProblem(undefined);
    update.mutate({ sessionId: message.sessionId, uuid: message.uuid, metadata: parsed.value }, { onSuccess: () => setPatch('') });
  };

  const regenerate = () => {
    setConfirming(false);
    onRegenerate();
  };

  return (
    <section id={id} className="message-details" aria-label={`Details of message ${message.seq}`}>
      <dl className="facts small">
        <dt>Created</dt>
        <dd>{fullTime(message.createdAt)}</dd>
        {message.updatedAt.getTime() !== message.createdAt.getTime() && (
          <>
            <dt>Changed</dt>
            <dd>{fullTime(message.updatedAt)}</dd>
          </>
        )}
        <dt>Id</dt>
        <dd className="mono">{message.uuid}</dd>
      </dl>
      <pre className="json" aria-label="Message metadata">
        {JSON.stringify(message.metadata, null, 2)}
      </pre>
      <form onSubmit={merge}>
        <label htmlFor={patchId}>Merge JSON into this message’s metadata</label>
        <textarea
          id={patchId}
          rows={3}
          value={patch}
          onChange={(e) => setPatch(e.target.value)}
          placeholder='{"rating": 5, "draft": {"$delete": true}}'
          aria-describedby={hintId}
        />
        <p id={hintId} className="muted small">
          Objects merge key by key; other values replace; <code>{'{"$delete": true}'}</code> as a value removes its key.
        </p>
        {problem && (
          <p className="error" role="alert">
            {problem}
          </p>
        )}
        {update.isError && <ErrorBox error={update.error} title="The message was not changed" />}
        <div className="actions">
          <button type="submit" disabled={update.isPending || patch.trim() === ''}>
            {update.isPending ? 'Merging…' : 'Merge'}
          </button>
          <button type="button" className="outline" onClick={onEdit}>
            Edit text
          </button>
          <button type="button" className="danger outline" onClick={onDelete}>
            Delete
          </button>
          {message.role === 'assistant' && !confirming && (
            <button type="button" className="outline" onClick={() => setConfirming(true)}>
              Regenerate from here…
            </button>
          )}
        </div>
      </form>
      {confirming && (
        <div className="confirm" role="group" aria-label="Confirm regenerate">
          <span>
            Set this answer{after > 0 ? ` and the ${after} message${after === 1 ? '' : 's'} after it` : ''} aside, so a new answer can be
            written beside it? Nothing is deleted (the versions stay, ‹ 1 / 2 ›). Mnemo does not write the answer: your app or model does.
          </span>
          <button type="button" className="danger" onClick={regenerate}>
            Set aside and regenerate
          </button>
          <button type="button" className="link" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
    </section>
  );
}

/**
 * Edits a message's text. A user's question is never overwritten: the edited text is added as a new
 * version under the same parent (`memory.add({ parentId })`), which becomes the conversation's head, so
 * the answer written next goes under it and the branch picker shows "‹ 2 / 2 ›" with the original, and
 * its answer, one arrow away. Other messages (an answer, a system prompt) are corrected in place
 * (`useUpdateMessage({ content })`): the conversation that follows them stays as it is.
 */
export function EditMessage({ message, onDone }: { message: Message; onDone: (focus?: string) => void }) {
  const update = useUpdateMessage();
  const add = useAddMemory();
  const utils = trpc.useUtils();
  const [text, setText] = useState(message.content);
  const [branchError, setBranchError] = useState<unknown>();
  const asVersion = message.role === 'user';
  const pending = update.isPending || add.isPending;
  const id = `edit-${message.uuid}`;
  const addVersion = async () => {
    const { sessionId } = message;
    try {
      setBranchError(undefined);
      // Its parent as stored (a linear session's messages carry none: the siblings call says it).
      const { parentId } = await utils.message.siblings.fetch({ sessionId, uuid: message.uuid });
      const { messages } = await add.mutateAsync({
        sessionId,
        parentId,
        messages: [{ role: message.role, content: text, metadata: message.metadata }],
      });
      // The active path changed under the loaded pages: read them again (as a branch switch does).
      await Promise.all([utils.message.list.invalidate({ sessionId }), utils.message.siblings.invalidate({ sessionId })]);
      onDone(messages[0]?.uuid);
    } catch (error) {
      setBranchError(error);
    }
  };
  const save = (event: FormEvent) => {
    event.preventDefault();
    if (text === message.content) return onDone();
    if (asVersion) return void addVersion();
    update.mutate({ sessionId: message.sessionId, uuid: message.uuid, content: text }, { onSuccess: () => onDone() });
  };
  return (
    <form className="edit-message" onSubmit={save}>
      <label htmlFor={id}>Message text</label>
      <textarea
        id={id}
        rows={Math.min(12, Math.max(3, text.split('\n').length + 1))}
        value={text}
        autoFocus
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onDone();
        }}
      />
      {update.isError && <ErrorBox error={update.error} title="The text was not saved" />}
      {branchError !== undefined && <ErrorBox error={branchError} title="The new version was not saved" />}
      <div className="actions">
        <button type="submit" disabled={pending || text.trim() === ''}>
          {pending ? 'Saving…' : asVersion ? 'Save as a new version' : 'Save'}
        </button>
        <button type="button" className="link" onClick={() => onDone()}>
          Cancel
        </button>
      </div>
    </form>
  );
}
