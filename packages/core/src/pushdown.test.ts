/**
 * Every query core sends on a hot path is one the database answers from an index.
 *
 * Each operation below runs with command monitoring on; every find, update, delete and
 * findAndModify it sent is then explained with the same filter. On FerretDB on PostgreSQL (the
 * default local database) the filter must be pushed down (`filterPushdown`: FerretDB turns a
 * top-level equality into SQL that the GIN twins of its indexes answer; anything else makes it
 * read the whole collection). On MongoDB (mongod, or MONGODB_URI) the winning plan must not scan
 * the collection. The `core-sqlite` project does not run this file: FerretDB's SQLite backend
 * pushes down nothing but `{_id}`, which is why it is only the fallback.
 *
 * A single writer (the local database: CoreConfig.singleWriter) answers the hot reads from memory
 * (store/): they send no command at all there.
 */
import type { CommandStartedEvent, Document } from 'mongodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { useTestCore } from './test/core';

const core = useTestCore();
const backend = inject('dbBackend');
const singleWriter = inject('singleWriter') ?? true;

/** The filter of each query in a command (an update or delete command may carry several). */
function filtersOf({ commandName, command }: CommandStartedEvent): { collection: string; filter: Document }[] {
  const collection = command[commandName] as string;
  switch (commandName) {
    case 'find':
      return [{ collection, filter: command.filter ?? {} }];
    case 'findAndModify':
    case 'count':
      return [{ collection, filter: command.query ?? {} }];
    case 'update':
      return (command.updates as { q: Document }[]).map((u) => ({ collection, filter: u.q }));
    case 'delete':
      return (command.deletes as { q: Document }[]).map((d) => ({ collection, filter: d.q }));
    case 'aggregate':
      throw new Error(`aggregate on ${collection}: hot paths use find`);
    default:
      return []; // insert, createIndexes, …: no filter
  }
}

async function explain(collection: string, filter: Document): Promise<Document> {
  return core().db.command({ explain: { find: collection, filter }, verbosity: 'queryPlanner' });
}

function servedByIndex(plan: Document): boolean {
  if (backend === 'postgresql') return plan.filterPushdown === true;
  if (backend === 'sqlite') throw new Error('FerretDB on SQLite pushes down only {_id}: this file is not for it');
  return !JSON.stringify(plan.queryPlanner?.winningPlan).includes('COLLSCAN');
}

/** Runs `operation` and returns each filter it sent, with whether the database answers it from an index. */
async function queriesOf(operation: () => Promise<unknown>) {
  const sent: CommandStartedEvent[] = [];
  const client = core().db.client;
  const listen = (event: CommandStartedEvent) => sent.push(event);
  client.on('commandStarted', listen);
  try {
    await operation();
  } finally {
    client.off('commandStarted', listen);
  }
  const queries = sent.flatMap(filtersOf);
  return Promise.all(
    queries.map(async ({ collection, filter }) => ({ collection, filter, indexed: servedByIndex(await explain(collection, filter)) })),
  );
}

let uuid = '';
let cursor: string | null = null;
beforeAll(async () => {
  // Connections made before this would not report commands: turn monitoring on and reconnect.
  core().db.client.options.monitorCommands = true;
  await core().db.client.close();
  await core().db.client.connect();
  await core().store.loaded(); // reading the sessions into memory starts again after the reconnection
  const c = core();
  await c.users.add({ userId: 'ada' });
  for (let i = 0; i < 3; i++) await c.sessions.add({ sessionId: `s${i}`, userId: 'ada', metadata: { n: i } });
  const { messages } = await c.memory.add({
    sessionId: 's1',
    messages: Array.from({ length: 30 }, (_, i) => ({ role: 'user', content: `message ${i} about lighthouses`, metadata: { i } })),
  });
  uuid = messages[5]!.uuid;
  cursor = (await c.memory.list({ sessionId: 's1', limit: 10 })).nextCursor;
  await c.users.add({ userId: 'bob' });
});

const operations: Record<string, () => Promise<unknown>> = {
  'get memory': () => core().memory.get({ sessionId: 's1', lastn: 12 }),
  'list messages': () => core().memory.list({ sessionId: 's1', limit: 10, cursor }),
  'get one message': () => core().memory.message({ sessionId: 's1', uuid }),
  'update one message': () => core().memory.updateMessage({ sessionId: 's1', uuid, metadata: { rating: 5 } }),
  'edit a message': () => core().memory.updateMessage({ sessionId: 's1', uuid, content: 'about ships now', role: 'assistant' }),
  'stream into a message': async () => {
    await core().memory.add({ sessionId: 's1', messages: [{ role: 'assistant', content: '', status: 'streaming', uuid: 'streamed' }] });
    await core().memory.updateMessage({ sessionId: 's1', uuid: 'streamed', append: 'Hello' });
    await core().memory.updateMessage({ sessionId: 's1', uuid: 'streamed', append: '!', status: 'complete' });
  },
  'delete one message': () => core().memory.deleteMessage({ sessionId: 's1', uuid: 'streamed' }),
  'truncate a session': () => core().memory.truncate({ sessionId: 's1', uuid }),
  'add messages (new session, client uuids)': () =>
    core().memory.add({ sessionId: 'fresh', messages: [{ role: 'user', content: 'hi', uuid: crypto.randomUUID() }] }),
  'add messages (existing session)': () => core().memory.add({ sessionId: 's1', messages: [{ role: 'assistant', content: 'hello' }] }),
  'get session': () => core().sessions.get({ sessionId: 's1' }),
  'update session': () => core().sessions.update({ sessionId: 's1', metadata: { topic: 'sea' } }),
  'add session': () => core().sessions.add({ sessionId: 'added', userId: 'ada' }),
  'delete session': () => core().sessions.delete({ sessionId: 's2' }),
  'list all sessions': async () => {
    const first = await core().sessions.list({ limit: 2 });
    await core().sessions.list({ limit: 2, cursor: first.nextCursor });
  },
  'get user': () => core().users.get({ userId: 'ada' }),
  'update user': () => core().users.update({ userId: 'ada', metadata: { plan: 'pro' } }),
  "a user's sessions": () => core().users.sessions({ userId: 'ada', limit: 2 }),
  "a user's sessions by activity, with total and previews": async () => {
    const first = await core().sessions.list({ userId: 'ada', sort: 'activity', limit: 1, withTotal: true, withLastMessage: true });
    await core().sessions.list({
      userId: 'ada',
      sort: 'activity',
      limit: 1,
      cursor: first.nextCursor,
      metadata: { 'metadata.n': { $gte: 0 } },
    });
  },
  'all sessions by activity, filtered by metadata and date': async () => {
    const first = await core().sessions.list({
      sort: 'activity',
      limit: 1,
      metadata: { 'metadata.n': 1 },
      createdAfter: new Date(0),
      withTotal: true,
    });
    await core().sessions.list({ sort: 'activity', limit: 1, cursor: first.nextCursor });
  },
  'all sessions, newest first': () => core().sessions.list({ order: 'desc', limit: 2 }),
  'list all users': () => core().users.list({ limit: 1 }),
  'delete user': () => core().users.delete({ userId: 'bob' }),
  'search by text': () => core().memory.search({ sessionId: 's1', text: 'lighthouse' }),
  'search by metadata and date': () =>
    core().memory.search({ sessionId: 's1', metadata: { 'metadata.i': { $gte: 3 } }, startDate: new Date(0) }),
  "search a user's sessions by text": () =>
    core().memory.searchUser({ userId: 'ada', text: 'lighthouse', metadata: { 'metadata.i': { $lt: 9 } } }),
  "search a user's sessions by metadata and date": () =>
    core().memory.searchUser({ userId: 'ada', metadata: { 'metadata.i': { $gte: 3 } }, startDate: new Date(0), searchType: 'mmr' }),
};

/** What a single writer does without any query: reads from memory, and adding a session (an insert, which has no filter). */
const NO_QUERY = new Set([
  'get memory',
  'list messages',
  'get session',
  'add session',
  'get user',
  "a user's sessions",
  'list all sessions',
  "a user's sessions by activity, with total and previews",
  'all sessions by activity, filtered by metadata and date',
  'all sessions, newest first',
]);

describe(`every hot query is answered from an index (${backend}${singleWriter ? ', single writer' : ''})`, () => {
  it.each(Object.entries(operations))('%s', async (name, operation) => {
    const queries = await queriesOf(operation);
    if (singleWriter && NO_QUERY.has(name)) expect(queries).toEqual([]);
    else expect(queries.length).toBeGreaterThan(0);
    expect(queries.filter((q) => !q.indexed)).toEqual([]);
  });
});

it('the check itself fails for a query that scans the collection', async () => {
  const [query] = await queriesOf(() =>
    core()
      .collections.messages.find({ seq: { $gt: 3 } })
      .toArray(),
  );
  expect(query).toMatchObject({ collection: 'messages', indexed: false });
});
