/**
 * The official `openai` npm SDK, unchanged, against a real Mnemo server and database: code written
 * for OpenAI's Conversations API runs by changing `baseURL` and the key. Reads go back through core
 * (what the typed API and every other API see) to check what was stored.
 */
import { readFile } from 'node:fs/promises';
import OpenAI, { AuthenticationError, BadRequestError, NotFoundError, RateLimitError } from 'openai';
import { describe, expect, it } from 'vitest';
import { createToken } from '../auth';
import { useTestServer } from '../testing';

const server = useTestServer();
const SECRET = 'openai-sdk-secret-0123456789abcdef0123';
const authServer = useTestServer({ authSecret: SECRET });
const limitedServer = useTestServer({ env: { MNEMO_RATE_LIMIT: '2/min' } });

const openai = (apiKey = 'any key: this server has no auth secret', url = server().url) =>
  new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0 });

const CONV_ID = /^conv_[0-9a-f]{48}$/;
const MSG_ID = /^msg_[0-9a-f]{48}$/;

/** How many sessions the server holds (to check that a refused request wrote nothing). */
const sessionCount = async () => (await server().core.sessions.list({ limit: 100, withTotal: true })).total;

describe('conversations with the openai SDK', () => {
  it('create (items and metadata), retrieve, update (metadata replaced), delete, then NotFoundError', async () => {
    const client = openai();
    const conversation = await client.conversations.create({
      metadata: { topic: 'demo', keep: 'yes' },
      items: [
        { type: 'message', role: 'user', content: 'Hello!' },
        {
          type: 'message',
          id: 'msg_given_by_the_client',
          status: 'completed',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Hi there.', annotations: [] }],
        },
      ],
    });
    expect(conversation).toEqual({
      id: expect.stringMatching(CONV_ID),
      object: 'conversation',
      created_at: expect.any(Number),
      metadata: { topic: 'demo', keep: 'yes' },
    });
    expect(Math.abs(conversation.created_at - Date.now() / 1000)).toBeLessThan(600);
    expect(await client.conversations.retrieve(conversation.id)).toEqual(conversation);

    // The conversation is a session with that id; its items are messages (text as content).
    const { messages } = await server().core.memory.get({ sessionId: conversation.id });
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Hello!'],
      ['assistant', 'Hi there.'],
    ]);
    expect(messages[0]!.uuid).toMatch(MSG_ID);
    expect(messages[1]!.uuid).toBe('msg_given_by_the_client');

    const updated = await client.conversations.update(conversation.id, { metadata: { topic: 'renamed' } });
    expect(updated.metadata).toEqual({ topic: 'renamed' }); // replaced, as OpenAI does: `keep` is gone
    expect((await server().core.sessions.get({ sessionId: conversation.id })).metadata).toEqual({ topic: 'renamed' });
    expect((await client.conversations.update(conversation.id, { metadata: null })).metadata).toEqual({});

    expect(await client.conversations.delete(conversation.id)).toEqual({
      id: conversation.id,
      object: 'conversation.deleted',
      deleted: true,
    });
    const error = await client.conversations.retrieve(conversation.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).status).toBe(404);
    expect((error as NotFoundError).error).toEqual({
      message: expect.stringContaining(conversation.id),
      type: 'invalid_request_error',
      param: null,
      code: null,
    });
  });

  it('items: create, list with auto-pagination in both orders, after and before, retrieve, delete', async () => {
    const client = openai();
    const { id } = await client.conversations.create();
    const texts = Array.from({ length: 25 }, (_, i) => `message ${i}`);
    for (let i = 0; i < texts.length; i += 20) {
      const created = await client.conversations.items.create(id, {
        items: texts.slice(i, i + 20).map((text) => ({ type: 'message' as const, role: 'user' as const, content: text })),
      });
      expect(created.object).toBe('list');
      expect(created.data).toHaveLength(Math.min(20, texts.length - i));
      expect(created.first_id).toBe(created.data[0]!.id);
    }
    const textOf = (item: OpenAI.Conversations.ConversationItem) => {
      if (item.type !== 'message') throw new Error(`not a message: ${item.type}`);
      const [part] = item.content;
      return part?.type === 'input_text' ? part.text : undefined;
    };

    // Newest first by default; the SDK fetches the next pages itself (after = the last id).
    const newestFirst: string[] = [];
    for await (const item of client.conversations.items.list(id, { limit: 7 })) newestFirst.push(textOf(item)!);
    expect(newestFirst).toEqual([...texts].reverse());
    const oldestFirst: string[] = [];
    // `include` is accepted and ignored: items come back whole.
    const pages = client.conversations.items.list(id, {
      limit: 10,
      order: 'asc',
      include: ['message.output_text.logprobs', 'reasoning.encrypted_content'],
    });
    for await (const item of pages) oldestFirst.push(textOf(item)!);
    expect(oldestFirst).toEqual(texts);

    const firstPage = await client.conversations.items.list(id, { limit: 10, order: 'asc' });
    expect(firstPage.has_more).toBe(true);
    expect(firstPage.data.map(textOf)).toEqual(texts.slice(0, 10));
    const fifth = firstPage.data[4]!;
    const fifthId = fifth.id!;
    expect(fifth).toEqual({
      type: 'message',
      id: expect.stringMatching(MSG_ID),
      status: 'completed',
      role: 'user',
      content: [{ type: 'input_text', text: 'message 4' }],
    });
    const after = await client.conversations.items.list(id, { after: fifthId, limit: 3, order: 'asc' });
    expect(after.data.map(textOf)).toEqual(['message 5', 'message 6', 'message 7']);
    const before = await client.get<OpenAI.Conversations.ConversationItemList>(`/conversations/${id}/items`, {
      query: { before: fifthId, limit: 3, order: 'asc' },
    });
    expect(before.data.map(textOf)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(before.has_more).toBe(true);

    expect(await client.conversations.items.retrieve(fifthId, { conversation_id: id })).toEqual(fifth);
    const afterDelete = await client.conversations.items.delete(fifthId, { conversation_id: id });
    expect(afterDelete).toMatchObject({ id, object: 'conversation' });
    await expect(client.conversations.items.retrieve(fifthId, { conversation_id: id })).rejects.toBeInstanceOf(NotFoundError);
    const remaining: string[] = [];
    for await (const item of client.conversations.items.list(id, { order: 'asc' })) remaining.push(textOf(item)!);
    expect(remaining).toEqual(texts.filter((t) => t !== 'message 4'));
  });

  it('keeps every other item type verbatim (function calls and outputs, reasoning), readable through core as parts', async () => {
    const client = openai();
    const items = [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Weather in Paris?' }] },
      {
        type: 'reasoning',
        id: 'rs_0123456789abcdef',
        summary: [{ type: 'summary_text', text: 'The user wants the weather.' }],
        encrypted_content: 'opaque',
      },
      { type: 'function_call', id: 'fc_0123', call_id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}', status: 'completed' },
      { type: 'function_call_output', call_id: 'call_1', output: '{"celsius":21}' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'It is 21 °C.', annotations: [], logprobs: [] }] },
    ] as OpenAI.Responses.ResponseInputItem[];
    const conversation = await client.conversations.create({ items });
    const listed = await client.conversations.items.list(conversation.id, { order: 'asc' });
    const withoutId = ({ id: _id, ...rest }: object & { id?: unknown }) => rest;
    expect(listed.data.map(withoutId)).toEqual(
      [{ ...items[0]!, status: 'completed' }, items[1]!, items[2]!, items[3]!, { ...items[4]!, status: 'completed' }].map(withoutId),
    );
    expect(listed.data[1]!.id).toBe('rs_0123456789abcdef'); // ids given are kept
    expect(listed.data[2]!.id).toBe('fc_0123');
    expect(listed.data[3]!.id).toMatch(/^fco_[0-9a-f]{48}$/);

    const { messages } = await server().core.memory.get({ sessionId: conversation.id });
    expect(messages.map((m) => ({ role: m.role, content: m.content, parts: m.parts?.map((p) => p.type) }))).toEqual([
      { role: 'user', content: 'Weather in Paris?', parts: ['input_text'] },
      { role: 'reasoning', content: '', parts: ['reasoning'] },
      { role: 'function_call', content: '', parts: ['function_call'] },
      { role: 'function_call_output', content: '', parts: ['function_call_output'] },
      { role: 'assistant', content: 'It is 21 °C.', parts: ['output_text'] },
    ]);
  });

  it('refuses bad input with BadRequestError and writes nothing: OpenAI’s metadata limits, more than 20 items, a bad item', async () => {
    const client = openai();
    const before = await sessionCount();
    const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    const refusals = [
      client.conversations.create({ metadata: tooMany }),
      client.conversations.create({ metadata: { ['k'.repeat(65)]: 'v' } }),
      client.conversations.create({ metadata: { k: 'v'.repeat(513) } }),
      client.conversations.create({ metadata: { k: 1 as unknown as string } }),
      client.conversations.create({ items: Array.from({ length: 21 }, () => ({ role: 'user' as const, content: 'x' })) }),
      client.conversations.create({ items: [{ role: 'user', content: 'fine' }, { role: 'wizard', content: 'x' } as never] }),
      client.conversations.create({ items: [{ type: 'item_reference', id: 'msg_1' }] }),
    ];
    for (const refusal of refusals) {
      const error = await refusal.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadRequestError);
      expect((error as BadRequestError).type).toBe('invalid_request_error');
    }
    const messages = (await refusals[0]!.catch((e: BadRequestError) => e)) as BadRequestError;
    expect(messages.message).toMatch(/at most 16 keys/);
    expect(await sessionCount()).toBe(before);

    // Adding to a conversation that does not exist: a 404, and no conversation appears.
    await expect(client.conversations.items.create('conv_missing', { items: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(await sessionCount()).toBe(before);
  });

  it('lists conversations by activity, of one user or of all (a Mnemo extension), with a cursor', async () => {
    const client = openai();
    const userId = `u-${Date.now()}`;
    await server().core.users.add({ userId });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await client.conversations.create({ user_id: userId } as OpenAI.Conversations.ConversationCreateParams)).id);
    await client.conversations.items.create(ids[0]!, { items: [{ role: 'user', content: 'back to the first' }] });

    type Page = { data: { id: string; user_id: string | null; item_count: number }[]; has_more: boolean; next_cursor: string | null };
    const first = await client.get<Page>('/conversations', { query: { user_id: userId, limit: 2 } });
    expect(first.data.map((c) => c.id)).toEqual([ids[0], ids[2]]); // most recently active first
    expect(first.data[0]).toMatchObject({ user_id: userId, item_count: 1 });
    expect(first.has_more).toBe(true);
    const second = await client.get<Page>('/conversations', { query: { user_id: userId, limit: 2, cursor: first.next_cursor } });
    expect(second.data.map((c) => c.id)).toEqual([ids[1]]);
    expect(second.has_more).toBe(false);
  });
});

describe('the API key is a Mnemo token', () => {
  it('a wrong key is an AuthenticationError with OpenAI’s error body; a token works', async () => {
    const error = await openai('sk-not-a-mnemo-token', authServer().url)
      .conversations.create()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).code).toBe('invalid_api_key');
    const client = openai(await createToken(SECRET), authServer().url);
    const { id } = await client.conversations.create({ items: [{ role: 'user', content: 'hi' }] });
    expect((await client.conversations.items.list(id)).data).toHaveLength(1);
  });
});

describe('the rate limit (MNEMO_RATE_LIMIT) covers /v1', () => {
  it('the call over the limit is a RateLimitError with OpenAI’s code and Retry-After', async () => {
    const client = openai(undefined, limitedServer().url);
    const { id } = await client.conversations.create();
    await client.conversations.retrieve(id);
    const error = await client.conversations.retrieve(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).code).toBe('rate_limit_exceeded');
    expect(Number((error as RateLimitError).headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('the README', () => {
  it('its OpenAI snippet runs as written, with this server’s URL for localhost:8000', async () => {
    const readme = await readFile(new URL('../../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf("### OpenAI's Conversations API"));
    const snippet = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    expect(snippet).toContain("import OpenAI from 'openai';");
    const body = snippet.replace("import OpenAI from 'openai';", '').replace('http://localhost:8000', server().url);
    const AsyncFunction = (async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<unknown>;
    const id = await new AsyncFunction('OpenAI', 'process', `${body}\nreturn id;`)(OpenAI, { env: { MNEMO_TOKEN: 'any' } });
    expect(id).toMatch(CONV_ID);
    expect((await server().core.memory.get({ sessionId: id as string })).messages.map((m) => m.content)).toEqual(['Hi, I am Ada.']);
  });
});
