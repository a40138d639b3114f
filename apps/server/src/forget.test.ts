/**
 * Forgetting a user and retention from the outside: the admin procedure over HTTP, and the CLI
 * (`pnpm mnemo forget-user`, `pnpm mnemo purge` with MNEMO_RETENTION_DAYS) run as a user would.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createCore } from '@mnemo/core';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AppRouter } from './router';
import { useTestServer } from './testing';

const server = useTestServer();

describe('admin.forgetUser', () => {
  it('hard-deletes everything of the user at once and reports it per collection', async () => {
    const trpc = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${server().url}/trpc`, transformer: superjson })] });
    await trpc.user.add.mutate({ userId: 'ada' });
    await trpc.session.add.mutate({ sessionId: 'ada-chat', userId: 'ada' });
    await trpc.memory.add.mutate({ sessionId: 'ada-chat', messages: [{ role: 'user', content: 'forget me' }] });
    expect(await trpc.admin.forgetUser.mutate({ userId: 'ada' })).toEqual({
      users: 1,
      sessions: 1,
      messages: 1,
      searchDocuments: 1,
      summaries: 0,
    });
    expect(await server().core.collections.messages.countDocuments({ sessionId: 'ada-chat' })).toBe(0);
    await expect(trpc.admin.forgetUser.mutate({ userId: 'ada' })).rejects.toMatchObject({ data: { code: 'NOT_FOUND' } });
  });
});

describe('the CLI', () => {
  const cli = (args: string[], env: Record<string, string>) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/bin.ts', ...args], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, MONGODB_URI: inject('mongoUri'), LOG_LEVEL: 'silent', ...env },
    });
  const dbName = `test_cli_${randomUUID().slice(0, 8)}`;
  const core = createCore({ mongoUri: inject('mongoUri'), dbName });
  beforeAll(() => core.init());
  afterAll(async () => {
    await core.db.dropDatabase();
    await core.close();
  });

  it('forget-user deletes the user and says what went; an unknown user exits 1 with the reason', async () => {
    await core.users.add({ userId: 'bob' });
    await core.sessions.add({ sessionId: 'bob-chat', userId: 'bob' });
    await core.memory.add({
      sessionId: 'bob-chat',
      messages: [
        { role: 'user', content: 'x' },
        { role: 'user', content: 'y' },
      ],
    });
    const { stdout } = await cli(['forget-user', '--user', 'bob'], { MNEMO_DB: dbName });
    expect(stdout).toMatch(/Forgot user "bob": deleted 1 user, 1 sessions, 2 messages, 2 search documents and 0 summaries/);
    await expect(cli(['forget-user', '--user', 'bob'], { MNEMO_DB: dbName })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^mnemo: forget-user failed: user "bob" not found\n$/),
    });
    await expect(cli(['forget-user'], { MNEMO_DB: dbName })).rejects.toMatchObject({
      code: 2,
      stderr: "mnemo: forget-user needs --user <userId> (see 'pnpm mnemo help forget-user')\n",
    });
  });

  it('purge applies MNEMO_RETENTION_DAYS first', async () => {
    const old = new Date(Date.now() - 10 * 24 * 60 * 60 * 1000);
    await core.memory.add({
      sessionId: 'aging',
      messages: [
        { role: 'user', content: 'old', createdAt: old },
        { role: 'user', content: 'new' },
      ],
    });
    const { stdout } = await cli(['purge'], { MNEMO_DB: dbName, MNEMO_RETENTION_DAYS: '7' });
    expect(stdout).toMatch(/Retention expired 0 sessions and 1 messages/);
    expect((await core.memory.get({ sessionId: 'aging' })).messages.map((m) => m.content)).toEqual(['new']);
  });
});
