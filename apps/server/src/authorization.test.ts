/**
 * Who may do what (issue 13), table-driven: every tRPC procedure and every REST route, called with
 * no token, an admin token, the owner's user token, another user's, a user token of another tenant,
 * an expired one and an unsigned (`alg: none`) one. Each case runs on data of its own: it checks
 * the outcome, that nothing of the owner's leaks to anyone but the owner and admins, and that a
 * denied call wrote nothing. Adding a procedure or a route without a row here fails the test.
 */
import { randomUUID } from 'node:crypto';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from '@trpc/client';
import { EventSource } from 'eventsource';
import { SignJWT, UnsecuredJWT } from 'jose';
import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { createToken } from './auth';
import { REST_ROUTES } from './rest/routes';
import { type AppRouter, appRouter } from './router';
import { useTestServer } from './testing';

const SECRET = 'authorization-table-secret-012345';
type MnemoClient = ReturnType<typeof createMnemoClient>;
/** The typed client as @mnemo/client makes it (batched calls, SSE subscriptions with the token as a connection parameter). */
function createMnemoClient({ url, apiKey }: { url: string; apiKey?: string }) {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url: `${url}/trpc`,
          transformer: superjson,
          EventSource,
          ...(apiKey && { connectionParams: { token: apiKey } }),
        }),
        false: httpBatchLink({ url: `${url}/trpc`, transformer: superjson, headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} }),
      }),
    ],
  });
}
const server = useTestServer({ authSecret: SECRET });
/** In the owner's message and session metadata: must never reach anybody but the owner and admins. */
const SECRET_WORD = 'zanzibarsecret';

const KINDS = ['none', 'admin', 'owner', 'other', 'tenant', 'expired', 'algNone'] as const;
type Kind = (typeof KINDS)[number];
/** 'ok' succeeds; 'empty' succeeds with an empty history; numbers are HTTP statuses (tRPC: the error's). */
type Outcome = 'ok' | 'empty' | 401 | 403 | 404;
type Row = Record<'admin' | 'owner' | 'other' | 'tenant', Outcome>;

interface Fixture {
  n: string;
  owner: string;
  other: string;
  session: string;
  uuid: string;
}

let counter = 0;
/** Fresh users `owner`/`other`, the owner's session with a message holding SECRET_WORD, and the other's session. */
async function seed(): Promise<Fixture> {
  const n = `${++counter}-${randomUUID().slice(0, 6)}`;
  const f = { n, owner: `owner-${n}`, other: `other-${n}`, session: `owner-s-${n}`, uuid: `m-${n}` };
  const { core } = server();
  await core.users.add({ userId: f.owner, metadata: { note: SECRET_WORD } });
  await core.users.add({ userId: f.other });
  await core.sessions.add({ sessionId: f.session, userId: f.owner, metadata: { note: SECRET_WORD } });
  await core.sessions.add({ sessionId: `other-s-${n}`, userId: f.other });
  await core.memory.add({ sessionId: f.session, messages: [{ uuid: f.uuid, role: 'user', content: `my ${SECRET_WORD} is safe` }] });
  // What the restore cases undo: a deleted message of the owner's session, and a deleted session of the owner.
  await core.memory.add({
    sessionId: f.session,
    messages: [{ uuid: `${f.uuid}-gone`, role: 'user', content: `my ${SECRET_WORD} was deleted` }],
  });
  await core.memory.deleteMessage({ sessionId: f.session, uuid: `${f.uuid}-gone` });
  await core.memory.add({ sessionId: `${f.session}-gone`, messages: [{ role: 'user', content: SECRET_WORD }] }, { owner: f.owner });
  await core.sessions.delete({ sessionId: `${f.session}-gone` });
  return f;
}

async function tokenFor(kind: Kind, f: Fixture): Promise<string | undefined> {
  const user = (sub: string, claims: Record<string, unknown> = {}, ttl: string | number = '5m') =>
    new SignJWT({ scope: 'user', ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(sub)
      .setExpirationTime(ttl)
      .sign(new TextEncoder().encode(SECRET));
  switch (kind) {
    case 'none':
      return undefined;
    case 'admin':
      return createToken(SECRET);
    case 'owner':
      return user(f.owner);
    case 'other':
      return user(f.other);
    case 'tenant':
      return user(f.owner, { tenant: 'acme' });
    case 'expired':
      return user(f.owner, {}, Math.floor(Date.now() / 1000) - 60);
    case 'algNone':
      return new UnsecuredJWT({}).setIssuedAt().encode();
  }
}

/** What a case may have written: every document of the fixture's users and sessions. */
async function footprint(f: Fixture): Promise<string> {
  const { collections: c } = server().core;
  const sessions = [f.session, `other-s-${f.n}`, `${f.session}-gone`];
  const docs = await Promise.all([
    c.users.find({ userId: { $in: [f.owner, f.other] } }).toArray(),
    c.sessions.find({ sessionId: { $in: sessions } }).toArray(),
    c.messages.find({ sessionId: { $in: sessions } }).toArray(),
    c.search.find({ sessionId: { $in: sessions } }).toArray(),
    c.sessions.countDocuments({}),
    c.users.countDocuments({}),
  ]);
  return JSON.stringify(docs);
}

const isEmpty = (value: unknown) => {
  const v = value as { messages?: unknown[]; items?: unknown[] } | undefined;
  return (v?.messages ?? v?.items)?.length === 0;
};

/** The tRPC calls, by procedure path; subscriptions are checked apart (below). */
const PROCEDURES: Record<string, { call: (t: MnemoClient, f: Fixture) => Promise<unknown>; row: Row }> = {
  'user.add': { call: (t, f) => t.user.add.mutate({ userId: `new-${f.n}` }), row: { admin: 'ok', owner: 403, other: 403, tenant: 403 } },
  'user.get': { call: (t, f) => t.user.get.query({ userId: f.owner }), row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 } },
  'user.update': {
    call: (t, f) => t.user.update.mutate({ userId: f.owner, firstName: 'X' }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'user.delete': { call: (t, f) => t.user.delete.mutate({ userId: f.owner }), row: { admin: 'ok', owner: 403, other: 403, tenant: 403 } },
  'user.list': { call: (t) => t.user.list.query(), row: { admin: 'ok', owner: 403, other: 403, tenant: 403 } },
  'user.sessions': {
    call: (t, f) => t.user.sessions.query({ userId: f.owner }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'user.search': {
    call: (t, f) => t.user.search.query({ userId: f.owner, text: SECRET_WORD }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'session.add': {
    call: (t, f) => t.session.add.mutate({ sessionId: `new-s-${f.n}`, userId: f.owner }),
    row: { admin: 'ok', owner: 'ok', other: 'ok', tenant: 404 },
  },
  'session.get': {
    call: (t, f) => t.session.get.query({ sessionId: f.session }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'session.update': {
    call: (t, f) => t.session.update.mutate({ sessionId: f.session, metadata: { x: 1 } }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'session.delete': {
    call: (t, f) => t.session.delete.mutate({ sessionId: f.session }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'session.restore': {
    call: (t, f) => t.session.restore.mutate({ sessionId: `${f.session}-gone` }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'session.list': {
    call: (t) => t.session.list.query({ limit: 100, sort: 'activity' }),
    row: { admin: 'ok', owner: 'ok', other: 'ok', tenant: 'ok' },
  },
  'memory.add': {
    call: (t, f) => t.memory.add.mutate({ sessionId: f.session, messages: [{ role: 'user', content: 'hi' }] }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 'ok' },
  },
  'memory.get': {
    call: (t, f) => t.memory.get.query({ sessionId: f.session }),
    row: { admin: 'ok', owner: 'ok', other: 'empty', tenant: 'empty' },
  },
  'memory.search': {
    call: (t, f) => t.memory.search.query({ sessionId: f.session, text: SECRET_WORD }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'memory.summaries': {
    call: (t, f) => t.memory.summaries.query({ sessionId: f.session }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'memory.searchSummaries': {
    call: (t, f) => t.memory.searchSummaries.query({ sessionId: f.session, text: SECRET_WORD }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'memory.delete': {
    call: (t, f) => t.memory.delete.mutate({ sessionId: f.session }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'message.list': {
    call: (t, f) => t.message.list.query({ sessionId: f.session }),
    row: { admin: 'ok', owner: 'ok', other: 'empty', tenant: 'empty' },
  },
  'message.get': {
    call: (t, f) => t.message.get.query({ sessionId: f.session, uuid: f.uuid }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'message.update': {
    call: (t, f) => t.message.update.mutate({ sessionId: f.session, uuid: f.uuid, content: 'edited' }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'message.delete': {
    call: (t, f) => t.message.delete.mutate({ sessionId: f.session, uuid: f.uuid }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'message.restore': {
    call: (t, f) => t.message.restore.mutate({ sessionId: f.session, uuid: `${f.uuid}-gone` }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'message.truncate': {
    call: (t, f) => t.message.truncate.mutate({ sessionId: f.session, uuid: f.uuid, inclusive: true }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'message.stop': {
    call: (t, f) => t.message.stop.mutate({ sessionId: f.session, uuid: f.uuid }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'message.siblings': {
    call: (t, f) => t.message.siblings.query({ sessionId: f.session, uuid: f.uuid }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'message.tree': {
    call: (t, f) => t.message.tree.query({ sessionId: f.session }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'session.setHead': {
    call: (t, f) => t.session.setHead.mutate({ sessionId: f.session, uuid: f.uuid }),
    row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
  },
  'admin.purge': { call: (t) => t.admin.purge.mutate(), row: { admin: 'ok', owner: 403, other: 403, tenant: 403 } },
  'admin.forgetUser': {
    call: (t, f) => t.admin.forgetUser.mutate({ userId: f.owner }),
    row: { admin: 'ok', owner: 403, other: 403, tenant: 403 },
  },
};
/** Subscriptions: whether the owner's new message reaches the subscriber. */
const SUBSCRIPTIONS: Record<
  string,
  {
    subscribe: (t: MnemoClient, f: Fixture, on: Handlers) => { unsubscribe(): void };
    row: Record<'admin' | 'owner' | 'other' | 'tenant', 'hears' | 'deaf'>;
  }
> = {
  'message.onChange': {
    subscribe: (t, f, on) => t.message.onChange.subscribe({ sessionId: f.session }, on),
    row: { admin: 'hears', owner: 'hears', other: 'deaf', tenant: 'deaf' },
  },
  'session.onChange': {
    subscribe: (t, f, on) => t.session.onChange.subscribe({ userId: f.owner }, on),
    row: { admin: 'hears', owner: 'hears', other: 'deaf', tenant: 'deaf' },
  },
  'message.stream': {
    subscribe: (t, f, on) => t.message.stream.subscribe({ sessionId: f.session, uuid: f.uuid }, on),
    row: { admin: 'hears', owner: 'hears', other: 'deaf', tenant: 'deaf' },
  },
};
interface Handlers {
  onData: (event: { data: unknown }) => void;
  onError: (error: unknown) => void;
}

const expected = (row: Row, kind: Kind): Outcome => (kind === 'none' || kind === 'expired' || kind === 'algNone' ? 401 : row[kind]);
const statusOf = (error: unknown) =>
  error instanceof TRPCClientError ? (error.data as { httpStatus?: number } | undefined)?.httpStatus : undefined;

describe('authorization table', () => {
  it('lists every tRPC procedure', () => {
    const procedures = Object.keys(appRouter._def.procedures).sort();
    expect(procedures).toEqual([...Object.keys(PROCEDURES), ...Object.keys(SUBSCRIPTIONS)].sort());
  });

  it.each(Object.keys(PROCEDURES))('%s', async (path) => {
    const { call, row } = PROCEDURES[path]!;
    for (const kind of KINDS) {
      const f = await seed();
      const token = await tokenFor(kind, f);
      const trpc = createMnemoClient({ url: server().url, apiKey: token });
      const before = await footprint(f);
      const want = expected(row, kind);
      const got: { value?: unknown; status?: number } = await call(trpc, f).then(
        (value) => ({ value }),
        (error: unknown) => ({ status: statusOf(error) ?? -1 }),
      );
      const where = `${path} with ${kind}'s token`;
      if (want === 'ok') expect(got.status, where).toBeUndefined();
      else if (want === 'empty') expect(isEmpty(got.value), `${where}: ${JSON.stringify(got)}`).toBe(true);
      else {
        expect(got.status, where).toBe(want);
        expect(await footprint(f), `${where} wrote something`).toBe(before);
      }
      if (kind !== 'admin' && kind !== 'owner') expect(JSON.stringify(got.value ?? null), `${where} leaked`).not.toContain(SECRET_WORD);
    }
  });

  it.each(Object.keys(SUBSCRIPTIONS))('%s', async (path) => {
    const { subscribe, row } = SUBSCRIPTIONS[path]!;
    for (const kind of KINDS) {
      const f = await seed();
      const token = await tokenFor(kind, f);
      const client = createMnemoClient({ url: server().url, apiKey: token });
      const events: unknown[] = [];
      let failure: unknown;
      const subscription = subscribe(client, f, { onData: (e) => events.push(e.data), onError: (error) => (failure = error) });
      // Subscribed (its first event, a reset), or refused:
      for (let i = 0; i < 100 && events.length === 0 && failure === undefined; i++) await new Promise((r) => setTimeout(r, 20));
      await server().core.memory.add({ sessionId: f.session, messages: [{ role: 'assistant', content: `more ${SECRET_WORD}` }] });
      await new Promise((r) => setTimeout(r, 300));
      subscription.unsubscribe();
      const where = `${path} with ${kind}'s token`;
      if (kind === 'none' || kind === 'expired' || kind === 'algNone') {
        expect(statusOf(failure) ?? (failure as { data?: { code?: string } })?.data?.code, where).toSatisfy(
          (s) => s === 401 || s === 'UNAUTHORIZED',
        );
        continue;
      }
      const heard = JSON.stringify(events).includes(SECRET_WORD);
      expect(heard, where).toBe(row[kind] === 'hears');
    }
  });

  describe('REST', () => {
    type RestCase = { body?: unknown; row: Row };
    const REST: Record<string, (f: Fixture) => RestCase & { path: string }> = {
      'POST /sessions': (f) => ({
        path: '/sessions',
        body: { session_id: `rest-new-${f.n}`, user_id: f.owner },
        row: { admin: 'ok', owner: 'ok', other: 'ok', tenant: 404 },
      }),
      'GET /sessions': () => ({ path: '/sessions', row: { admin: 'ok', owner: 'ok', other: 'ok', tenant: 'ok' } }),
      'GET /sessions/:sessionId': (f) => ({ path: `/sessions/${f.session}`, row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 } }),
      'PATCH /sessions/:sessionId': (f) => ({
        path: `/sessions/${f.session}`,
        body: { metadata: { x: 1 } },
        row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
      }),
      'GET /sessions/:sessionId/memory': (f) => ({
        path: `/sessions/${f.session}/memory`,
        row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
      }),
      'POST /sessions/:sessionId/memory': (f) => ({
        path: `/sessions/${f.session}/memory`,
        body: { messages: [{ role: 'user', content: 'x' }] },
        row: { admin: 'ok', owner: 'ok', other: 404, tenant: 'ok' },
      }),
      'DELETE /sessions/:sessionId/memory': (f) => ({
        path: `/sessions/${f.session}/memory`,
        row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
      }),
      'POST /sessions/:sessionId/search': (f) => ({
        path: `/sessions/${f.session}/search`,
        body: { text: SECRET_WORD },
        row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
      }),
      'GET /sessions/:sessionId/messages': (f) => ({
        path: `/sessions/${f.session}/messages`,
        row: { admin: 'ok', owner: 'ok', other: 'ok', tenant: 'ok' },
      }),
      'GET /sessions/:sessionId/summaries': (f) => ({
        path: `/sessions/${f.session}/summaries`,
        row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
      }),
      'GET /sessions/:sessionId/messages/:uuid': (f) => ({
        path: `/sessions/${f.session}/messages/${f.uuid}`,
        row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
      }),
      'PATCH /sessions/:sessionId/messages/:uuid': (f) => ({
        path: `/sessions/${f.session}/messages/${f.uuid}`,
        body: { metadata: { x: 1 } },
        row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
      }),
      'POST /user': (f) => ({
        path: '/user',
        body: { user_id: `rest-user-${f.n}` },
        row: { admin: 'ok', owner: 403, other: 403, tenant: 403 },
      }),
      'GET /user': () => ({ path: '/user', row: { admin: 'ok', owner: 403, other: 403, tenant: 403 } }),
      'GET /user/:userId': (f) => ({ path: `/user/${f.owner}`, row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 } }),
      'PATCH /user/:userId': (f) => ({
        path: `/user/${f.owner}`,
        body: { first_name: 'X' },
        row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
      }),
      'DELETE /user/:userId': (f) => ({ path: `/user/${f.owner}`, row: { admin: 'ok', owner: 403, other: 403, tenant: 403 } }),
      'GET /user/:userId/sessions': (f) => ({
        path: `/user/${f.owner}/sessions`,
        row: { admin: 'ok', owner: 'ok', other: 'ok', tenant: 'ok' },
      }),
      'POST /users/:userId/search': (f) => ({
        path: `/users/${f.owner}/search`,
        body: { text: SECRET_WORD },
        row: { admin: 'ok', owner: 'ok', other: 404, tenant: 404 },
      }),
    };

    it('lists every REST route', () => {
      expect(REST_ROUTES.map((r) => `${r.method} ${r.path}`).sort()).toEqual(Object.keys(REST).sort());
    });

    it.each(Object.keys(REST))('%s', async (route) => {
      const method = route.split(' ')[0]!;
      for (const kind of KINDS) {
        const f = await seed();
        const { path, body, row } = REST[route]!(f);
        const token = await tokenFor(kind, f);
        const before = await footprint(f);
        const response = await fetch(`${server().url}/api/v1${path}`, {
          method,
          headers: {
            ...(token && { authorization: `Bearer ${token}` }),
            ...(body !== undefined && { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        const want = expected(row, kind);
        const where = `${route} with ${kind}'s token: ${response.status} ${text.slice(0, 200)}`;
        if (want === 'ok' || want === 'empty') expect(response.status, where).toBeLessThan(300);
        else {
          expect(response.status, where).toBe(want);
          expect(await footprint(f), `${where} wrote something`).toBe(before);
        }
        if (kind !== 'admin' && kind !== 'owner') expect(text, `${where} leaked`).not.toContain(SECRET_WORD);
      }
    });
  });
});

describe('tenants', () => {
  it('keep their data apart: each tenant’s admin sees only its own', async () => {
    const admin = async (tenant?: string) => createMnemoClient({ url: server().url, apiKey: await createToken(SECRET, { tenant }) });
    const [main, acme, globex] = await Promise.all([admin(), admin('acme'), admin('globex')]);
    await acme.memory.add.mutate({ sessionId: 'shared-id', messages: [{ role: 'user', content: 'acme only' }] });
    await globex.memory.add.mutate({ sessionId: 'shared-id', messages: [{ role: 'user', content: 'globex only' }] });
    expect((await acme.memory.get.query({ sessionId: 'shared-id' })).messages.map((m) => m.content)).toEqual(['acme only']);
    expect((await globex.memory.get.query({ sessionId: 'shared-id' })).messages.map((m) => m.content)).toEqual(['globex only']);
    expect((await main.memory.get.query({ sessionId: 'shared-id' })).messages).toEqual([]);
    expect((await main.session.list.query({ limit: 100 })).items.map((s) => s.sessionId)).not.toContain('shared-id');
  });

  it('refuse a tenant claim that is not a valid name', async () => {
    const token = await new SignJWT({ tenant: '../admin' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
    const client = createMnemoClient({ url: server().url, apiKey: token });
    await expect(client.session.list.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
  });
});
