import { allItems, useUsers } from '@mnemo/react';
import { useEffect } from 'react';
import { ErrorBox } from './ui';

/** Loads users for a <select>, page after page (a chat demo has few; stops at 10 pages). */
function useAllUsers() {
  const users = useUsers({ limit: 100 });
  const { hasNextPage, isFetchingNextPage, fetchNextPage, data } = users;
  const pages = data?.pages.length ?? 0;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && pages < 10) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, pages]);
  return users;
}

export function UserSelect({
  id,
  value,
  onChange,
  noneLabel,
}: {
  id: string;
  value: string | undefined;
  onChange: (userId: string | undefined) => void;
  noneLabel: string;
}) {
  const users = useAllUsers();
  const ids = allItems(users.data).map((u) => u.userId);
  return (
    <>
      <select id={id} value={value ?? ''} onChange={(e) => onChange(e.target.value || undefined)} disabled={users.isPending}>
        <option value="">{users.isPending ? 'Loading users…' : noneLabel}</option>
        {value && !ids.includes(value) && <option value={value}>{value}</option>}
        {ids.map((userId) => (
          <option key={userId} value={userId}>
            {userId}
          </option>
        ))}
      </select>
      {users.isError && <ErrorBox error={users.error} title="Could not load users" />}
    </>
  );
}
