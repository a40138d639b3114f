import { allItems, type RouterInputs, type User, useAddUser, useDeleteUser, useUpdateUser, useUsers } from '@mnemo/react';
import { type FormEvent, type KeyboardEvent, type Ref, useEffect, useId, useRef, useState } from 'react';
import type { Route } from './route';
import { useToast } from './toast';
import { formatDate } from './time';
import { Empty, ErrorBox, LoadMore, Loading, parseJsonObject } from './ui';
import './users.css';

export function UsersPage({ navigate }: { navigate: (route: Route) => void }) {
  return (
    <main className="users-page" id="main" tabIndex={-1}>
      <NewUserForm />
      <UserTable onOpenSessions={(userId) => navigate({ page: 'sessions', userId })} />
    </main>
  );
}

function NewUserForm() {
  const add = useAddUser();
  const [fields, setFields] = useState({ userId: '', email: '', firstName: '', lastName: '', metadata: '' });
  const [problem, setProblem] = useState<string>();
  const set = (name: keyof typeof fields) => (e: { target: { value: string } }) => setFields({ ...fields, [name]: e.target.value });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseJsonObject(fields.metadata);
    if ('problem' in parsed) return setProblem(parsed.problem);
    setProblem(undefined);
    const optional = (v: string) => (v.trim() ? v.trim() : undefined);
    add.mutate(
      {
        userId: fields.userId.trim(),
        email: optional(fields.email),
        firstName: optional(fields.firstName),
        lastName: optional(fields.lastName),
        metadata: parsed.value,
      },
      { onSuccess: () => setFields({ userId: '', email: '', firstName: '', lastName: '', metadata: '' }) },
    );
  };

  return (
    <form className="card new-user" onSubmit={submit} aria-labelledby="new-user-heading">
      <h2 id="new-user-heading">New user</h2>
      <div className="grid">
        <label>
          User ID
          <input required value={fields.userId} onChange={set('userId')} />
        </label>
        <ProfileFields fields={fields} set={set} />
      </div>
      <label>
        Metadata (JSON, optional)
        <textarea rows={2} value={fields.metadata} onChange={set('metadata')} placeholder='{"plan": "free"}' />
      </label>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {add.isError && <ErrorBox error={add.error} title="Could not create the user" />}
      <button type="submit" disabled={add.isPending}>
        {add.isPending ? 'Creating…' : 'Create user'}
      </button>
    </form>
  );
}

type Profile = { email: string; firstName: string; lastName: string };

/** A user's profile fields (in the new user form and the editor); `set(name)` handles a field's changes. */
function ProfileFields({
  fields,
  set,
  emailRef,
}: {
  fields: Profile;
  set: (name: keyof Profile) => (e: { target: { value: string } }) => void;
  emailRef?: Ref<HTMLInputElement>;
}) {
  return (
    <>
      <label>
        Email
        <input ref={emailRef} type="email" value={fields.email} onChange={set('email')} />
      </label>
      <label>
        First name
        <input value={fields.firstName} onChange={set('firstName')} />
      </label>
      <label>
        Last name
        <input value={fields.lastName} onChange={set('lastName')} />
      </label>
    </>
  );
}

function UserTable({ onOpenSessions }: { onOpenSessions: (userId: string) => void }) {
  const users = useUsers({ limit: 50 });
  if (users.isPending) return <Loading what="users" />;
  if (users.isError) return <ErrorBox error={users.error} title="Could not load users" />;
  const list = allItems(users.data);
  return (
    <section className="card" aria-labelledby="users-heading">
      <h2 id="users-heading">Users</h2>
      {list.length === 0 ? (
        <Empty>No users yet: create one above.</Empty>
      ) : (
        <table className="users">
          <thead>
            <tr>
              <th>User ID</th>
              <th>Name</th>
              <th>Email</th>
              <th>Metadata</th>
              <th>Created</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((user) => (
              <UserRow key={user.userId} user={user} onOpenSessions={onOpenSessions} />
            ))}
          </tbody>
        </table>
      )}
      <LoadMore {...users} pages={users.data.pages.length} what="users" />
    </section>
  );
}

/** The columns of a user's row (the editor's row spans them all). */
const COLUMNS = 6;

function UserRow({ user, onOpenSessions }: { user: User; onOpenSessions: (userId: string) => void }) {
  const remove = useDeleteUser();
  const [confirming, setConfirming] = useState(false);
  const [editing, setEditing] = useState(false);
  const editButton = useRef<HTMLButtonElement>(null);
  const editorId = useId();
  const name = [user.firstName, user.lastName].filter(Boolean).join(' ');
  const hasMetadata = Object.keys(user.metadata).length > 0;
  const closeEditor = () => {
    setEditing(false);
    editButton.current?.focus();
  };
  return (
    <>
      <tr>
        <td className="user-id">
          <strong>{user.userId}</strong>
        </td>
        <td className="user-name" data-empty={!name || undefined}>
          {name || <span className="muted">—</span>}
        </td>
        <td className="user-email" data-empty={!user.email || undefined}>
          {user.email || <span className="muted">—</span>}
        </td>
        <td className="user-metadata small" data-empty={!hasMetadata || undefined}>
          {hasMetadata ? <code>{JSON.stringify(user.metadata)}</code> : <span className="muted">—</span>}
        </td>
        <td className="user-created small">{formatDate(user.createdAt)}</td>
        <td className="actions">
          <button type="button" className="link" onClick={() => onOpenSessions(user.userId)}>
            Sessions
          </button>
          <button
            type="button"
            className="link"
            ref={editButton}
            aria-expanded={editing}
            aria-controls={editing ? editorId : undefined}
            onClick={() => (editing ? closeEditor() : setEditing(true))}
          >
            Edit
          </button>
          {confirming ? (
            <span className="confirm" role="group" aria-label={`Confirm deleting ${user.userId}`}>
              Delete {user.userId} and all their sessions?
              <button type="button" className="danger" disabled={remove.isPending} onClick={() => remove.mutate({ userId: user.userId })}>
                Yes, delete
              </button>
              <button type="button" onClick={() => setConfirming(false)}>
                Cancel
              </button>
            </span>
          ) : (
            <button type="button" className="danger outline" onClick={() => setConfirming(true)}>
              Delete
            </button>
          )}
          {remove.isError && <ErrorBox error={remove.error} title="The user was not deleted" />}
        </td>
      </tr>
      {editing && (
        <tr className="user-editor-row">
          <td colSpan={COLUMNS}>
            <UserEditor id={editorId} user={user} onClose={closeEditor} />
          </td>
        </tr>
      )}
    </>
  );
}

/**
 * Edits a user in place: profile fields and a metadata merge. Not optimistic (`useUpdateUser`
 * writes the server's answer into the cached user lists), so it stays open while saving and, on an
 * error, keeps what was typed; it closes on success, Cancel or Escape, and the row's Edit button
 * gets the focus back.
 */
function UserEditor({ id, user, onClose }: { id: string; user: User; onClose: () => void }) {
  const update = useUpdateUser();
  const toast = useToast();
  const [fields, setFields] = useState({ email: user.email ?? '', firstName: user.firstName ?? '', lastName: user.lastName ?? '' });
  const [patch, setPatch] = useState('');
  const [problem, setProblem] = useState<string>();
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const set = (name: keyof typeof fields) => (e: { target: { value: string } }) => setFields({ ...fields, [name]: e.target.value });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseJsonObject(patch);
    if ('problem' in parsed) {
      update.reset();
      return setProblem(parsed.problem);
    }
    setProblem(undefined);
    // Core's UpdateUserInput: a profile field replaces the stored one when given and stays as it
    // is when absent; there is no null to unset one. So only the fields that changed are sent (an
    // edit made meanwhile elsewhere to another field survives), trimmed as on creation; a field
    // emptied here is sent as "", which the server stores, and which this page and the Zep REST
    // API (it leaves blank fields out) show as no value: emptying a field clears it.
    const input: RouterInputs['user']['update'] = { userId: user.userId };
    for (const name of ['email', 'firstName', 'lastName'] as const)
      if (fields[name] !== (user[name] ?? '')) input[name] = fields[name].trim();
    if (Object.keys(parsed.value).length > 0) input.metadata = parsed.value;
    if (Object.keys(input).length === 1) return onClose(); // nothing to save
    update.mutate(input, {
      onSuccess: () => {
        toast({ message: `Saved ${user.userId}` });
        onClose();
      },
    });
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key !== 'Escape' || event.nativeEvent.isComposing) return;
    event.preventDefault();
    onClose();
  };

  return (
    <form id={id} className="user-editor" onSubmit={submit} onKeyDown={onKeyDown} aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>Edit {user.userId}</h3>
      <div className="grid">
        <ProfileFields fields={fields} set={set} emailRef={first} />
      </div>
      <div className="grid metadata-grid">
        <figure>
          <figcaption>Current metadata</figcaption>
          <pre className="json">{JSON.stringify(user.metadata, null, 2)}</pre>
        </figure>
        <div>
          <label htmlFor={`${id}-patch`}>Merge JSON into the metadata</label>
          <textarea
            id={`${id}-patch`}
            rows={4}
            value={patch}
            onChange={(e) => setPatch(e.target.value)}
            placeholder='{"plan": "pro"}'
            aria-describedby={`${id}-hint`}
          />
        </div>
      </div>
      <p id={`${id}-hint`} className="muted small">
        Objects merge key by key; other values replace; <code>{'{"key": {"$delete": true}}'}</code> removes a key. An emptied field clears
        it.
      </p>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {update.isError && <ErrorBox error={update.error} title="The changes were not saved" />}
      <div className="buttons">
        <button type="submit" disabled={update.isPending}>
          {update.isPending ? 'Saving…' : 'Save'}
        </button>
        <button type="button" className="secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
