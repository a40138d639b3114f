/**
 * OpenAI's Conversations API over plain HTTP: OpenAI's error body everywhere under /v1 (unknown paths,
 * other methods, bad JSON), a user token's conversations, and the OpenAPI document at /v1/openapi.json,
 * which agrees with the server on what it accepts and describes what it answers (Ajv).
 */
import { createUserToken } from '@mnemo/core/auth-tokens';
import Ajv2020 from 'ajv/dist/2020';
import { beforeAll, describe, expect, it } from 'vitest';
import { httpClient, type Reply } from '../test/http';
import { useTestServer } from '../testing';

const server = useTestServer();
const SECRET = 'openai-http-secret-0123456789abcdef0123';
const authServer = useTestServer({ authSecret: SECRET });
const http = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  httpClient(server().url)(method, `/v1${path}`, body, headers);

const expectOpenAIError = (reply: Reply, status: number, message?: RegExp) => {
  expect(reply.status).toBe(status);
  expect(reply.json).toEqual({ error: { message: expect.any(String), type: expect.any(String), param: null, code: null } });
  if (message) expect(reply.json.error.message).toMatch(message);
};

describe('errors under /v1 have OpenAI’s body', () => {
  it('unknown paths (404), other methods (405 with Allow), bad JSON (400)', async () => {
    expectOpenAIError(await http('GET', '/responses'), 404, /not found/);
    const other = await http('PUT', '/conversations', {});
    expect(other.status).toBe(405);
    expect(other.headers.get('allow')).toBe('POST, GET, HEAD');
    expect(other.json.error).toMatchObject({ type: 'invalid_request_error', message: expect.stringMatching(/not allowed/) });
    expectOpenAIError(await http('POST', '/conversations', '{"metadata":', { 'content-type': 'application/json' }), 400);
    // The Zep API keeps its own body.
    expect((await httpClient(server().url)('GET', '/api/v1/sessions/none')).json).toEqual({ message: expect.any(String) });
  });
});

describe('a user token', () => {
  it('creates its user’s conversations, lists only those, and cannot read another user’s', async () => {
    const core = authServer().core;
    await core.users.add({ userId: 'ada' });
    await core.users.add({ userId: 'bob' });
    const as = async (userId: string) => httpClient(authServer().url, { token: await createUserToken({ secret: SECRET, userId }) });
    const ada = await as('ada');
    const bob = await as('bob');
    const mine = (await ada('POST', '/v1/conversations', { items: [{ role: 'user', content: 'mine' }] })).json;
    expect((await core.sessions.get({ sessionId: mine.id })).userId).toBe('ada');
    await bob('POST', '/v1/conversations', {});

    const listed = await ada('GET', '/v1/conversations');
    expect(listed.json.data.map((c: { id: string }) => c.id)).toEqual([mine.id]);
    expectOpenAIError(await bob('GET', `/v1/conversations/${mine.id}`), 404);
    expectOpenAIError(await bob('GET', `/v1/conversations/${mine.id}/items`), 404);
    expect((await ada('GET', `/v1/conversations/${mine.id}/items`)).json.data).toHaveLength(1);
  });
});

type Doc = {
  paths: Record<
    string,
    Record<string, { requestBody?: { content: { 'application/json': { schema: object } } }; responses: Record<string, any> }>
  >;
};

describe('the OpenAPI document', () => {
  let doc: Doc;
  let ajv: Ajv2020;
  const valid = (schema: object, value: unknown) =>
    ajv.validate(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')), value) as boolean;
  const bodySchema = (method: string, path: string) => doc.paths[path]![method]!.requestBody!.content['application/json'].schema;
  const answerSchema = (method: string, path: string, status = 200) =>
    doc.paths[path]![method]!.responses[status].content['application/json'].schema;

  beforeAll(async () => {
    doc = (await http('GET', '/openapi.json')).json;
    ajv = new Ajv2020({ strict: false, validateFormats: false });
    ajv.addSchema(JSON.parse(JSON.stringify(doc).replaceAll('"#/components/', '"doc#/components/')), 'doc');
  });

  it('lists every route with OpenAI’s error body', () => {
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/conversations',
      '/conversations/{conversation_id}',
      '/conversations/{conversation_id}/items',
      '/conversations/{conversation_id}/items/{item_id}',
    ]);
    expect(answerSchema('get', '/conversations/{conversation_id}', 404)).toEqual({ $ref: '#/components/schemas/Error' });
  });

  it('agrees with the server on which bodies are acceptable, and describes its answers', async () => {
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    const bodies: unknown[] = [
      {},
      { metadata: { topic: 'x' } },
      { metadata: many },
      { metadata: { ['k'.repeat(65)]: 'v' } },
      { metadata: { k: 'v'.repeat(513) } },
      { metadata: { k: 1 } },
      { metadata: { 'a.b': 'dots are not keys' } },
      { metadata: { $set: 'no' } },
      { items: [{ role: 'user', content: 'hi' }] },
      { items: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'x', annotations: [] }] }] },
      { items: [{ role: 'wizard', content: 'x' }] },
      { items: [{ role: 'user' }] },
      { items: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }] },
      { items: [{ type: 'item_reference', id: 'msg_1' }] },
      { items: [{ type: 'message', id: 'not an id', role: 'user', content: 'x' }] },
      { items: Array.from({ length: 21 }, () => ({ role: 'user', content: 'x' })) },
    ];
    for (const body of bodies) {
      const reply = await http('POST', '/conversations', body);
      const what = `${JSON.stringify(body).slice(0, 120)} → ${reply.status} ${reply.text.slice(0, 200)}`;
      expect(reply.status === 200 ? 'accepted' : 'refused', what).toBe(
        valid(bodySchema('post', '/conversations'), body) ? 'accepted' : 'refused',
      );
      expect(valid(answerSchema('post', '/conversations', reply.status), reply.json), what).toBe(true);
    }
  });

  it('describes items and lists as the server answers them', async () => {
    const { id } = (
      await http('POST', '/conversations', {
        items: [
          { role: 'user', content: 'hi' },
          { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
        ],
      })
    ).json;
    const list = await http('GET', `/conversations/${id}/items`);
    expect(valid(answerSchema('get', '/conversations/{conversation_id}/items'), list.json)).toBe(true);
    const item = await http('GET', `/conversations/${id}/items/${list.json.data[0].id}`);
    expect(valid(answerSchema('get', '/conversations/{conversation_id}/items/{item_id}'), item.json)).toBe(true);
    const conversations = await http('GET', '/conversations?limit=1');
    expect(valid(answerSchema('get', '/conversations'), conversations.json)).toBe(true);
    expect(valid(answerSchema('get', '/conversations'), { ...conversations.json, has_more: 'yes' })).toBe(false);
  });
});
