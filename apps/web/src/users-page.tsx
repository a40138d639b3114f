import { allItems, type User, useAddUser, useDeleteUser, useUsers } from '@mnemo/react';
import { type FormEvent, useState } from 'react';
import type { Route } from './route';
import { Empty, ErrorBox, formatDate, LoadMore, Loading, parseJsonObject } from './ui';

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
        <label>
          Email
          <input type="email" value={fields.email} onChange={set('email')} />
        </label>
        <label>
          First name
          <input value={fields.firstName} onChange={set('firstName')} />
        </label>
        <label>
          Last name
          <input value={fields.lastName} onChange={set('lastName')} />
        </label>
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

function UserRow({ user, onOpenSessions }: { user: User; onOpenSessions: (userId: string) => void }) {
  const remove = useDeleteUser();
  const [confirming, setConfirming] = useState(false);
  const name = [user.firstName, user.lastName].filter(Boolean).join(' ');
  return (
    <tr>
      <td>
        <strong>{user.userId}</strong>
      </td>
      <td>{name || <span className="muted">—</span>}</td>
      <td>{user.email ?? <span className="muted">—</span>}</td>
      <td className="small">{formatDate(user.createdAt)}</td>
      <td className="actions">
        <button type="button" className="link" onClick={() => onOpenSessions(user.userId)}>
          Sessions
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
  );
}
