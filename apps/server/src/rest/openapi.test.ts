/**
 * The OpenAPI document states every rule the server enforces on a path, a query or a body: for each
 * request below, the document (read by Ajv, a JSON Schema validator) and the server (real HTTP, real
 * database) agree on whether it is acceptable; random metadata is stored and read back. Also: any
 * other method on a known path is a 405 with `Allow`; a route that takes a body requires one; the
 * document asks for a token only when the server does.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import Ajv2020 from 'ajv/dist/2020';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../auth';
import { httpClient } from '../test/http';
import { useTestServer } from '../testing';

const server = useTestServer();
const SECRET = 'openapi-test-secret-at-least-32-bytes';
const authServer = useTestServer({ authSecret: SECRET });
const http = (method: string, path: string, body?: unknown) => httpClient(server().url)(method, `/api/v1${path}`, body);

type Doc = { paths: Record<string, Record<string, Operation>>; components: object; security?: unknown };
interface Operation {
  parameters: { name: string; in: 'path' | 'query'; schema: object }[];
  requestBody?: { required: boolean; content: { 'application/json': { schema: object } } };
  responses: Record<string, unknown>;
}

/** Whether the document admits a request: each path parameter, query value and the body against its schema. */
let admits: (
  method: string,
  template: string,
  parts: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown },
) => boolean;

beforeAll(async () => {
  const doc: Doc = (await http('GET', '/openapi.json')).json;
  // Schemas refer to `#/components/…`; registered under the id `doc`, they are compiled one by one.
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
  ajv.addSchema(JSON.parse(JSON.stringify(doc).replaceAll('"#/components/', '"doc#/components/')), 'doc');
  const compiled = new Map<object, (value: unknown) => boolean>();
  const check = (schema: object, value: unknown) => {
    if (!compiled.has(schema)) {
      const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')));
      compiled.set(schema, (v) => validate(v) as boolean);
    }
    return compiled.get(schema)!(value);
  };
  admits = (method, template, { params = {}, query = {}, body }) => {
    const operation = doc.paths[template]?.[method.toLowerCase()];
    if (!operation) throw new Error(`no operation ${method} ${template}`);
    for (const p of operation.parameters) {
      const value = p.in === 'path' ? params[p.name] : query[p.name];
      // Query values arrive as text; the document types them (integer), as the server coerces them.
      if (value !== undefined && !check(p.schema, p.in === 'query' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value)) return false;
    }
    if (operation.requestBody) {
      if (body === undefined) return !operation.requestBody.required;
      return check(operation.requestBody.content['application/json'].schema, body);
    }
    return true;
  };
  // What the valid requests below act on.
  expect((await http('POST', '/user', { user_id: 'known-user' })).status).toBe(201);
  expect((await http('POST', '/sessions', { session_id: 'known', user_id: 'known-user' })).status).toBe(201);
  expect((await http('POST', '/sessions/known/memory', { messages: [{ role: 'user', content: 'hello', uuid: 'm1' }] })).status).toBe(200);
});

/** `levels` objects one inside the other around `leaf`: `{a: {a: … leaf}}`. */
const nested = (levels: number, leaf: unknown): unknown => (levels === 0 ? leaf : { a: nested(levels - 1, leaf) });
/** `levels` arrays one inside the other around `leaf`. */
const arrays = (levels: number, leaf: unknown[]): unknown => (levels === 1 ? leaf : [arrays(levels - 1, leaf)]);
/** A filter whose condition lies `levels` `$and`s deep. */
const ands = (levels: number): unknown => (levels === 0 ? { 'metadata.a': 1 } : { $and: [ands(levels - 1)] });

/** A request's path with its parameters percent-encoded. */
const fill = (template: string, params: Record<string, string>) =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));

async function expectAgreement(
  method: string,
  template: string,
  parts: { params?: Record<string, string>; query?: Record<string, string>; body?: unknown },
) {
  const query = new URLSearchParams(parts.query).toString();
  const reply = await http(method, fill(template, parts.params ?? {}) + (query ? `?${query}` : ''), parts.body);
  const documented = admits(method, template, parts);
  const what = `${method} ${template} ${JSON.stringify(parts)} → ${reply.status} ${reply.text.slice(0, 200)}`;
  expect(reply.status, what).toBeLessThan(500);
  expect(reply.status === 400 ? 'refused' : 'accepted', what).toBe(documented ? 'accepted' : 'refused');
  return reply;
}

describe('the OpenAPI document and the server agree', () => {
  it('on path ids: no control characters, 1–256 characters (code points), message ids by their pattern', async () => {
    const ids = ['known', 'a b', 'é', '\u00a0nbsp', 'x\u0085', 'a\u0001', 'tab\t', 'del\u007f', 'x'.repeat(256), 'x'.repeat(257)];
    ids.push('\u{1F600}'.repeat(256), '\u{1F600}'.repeat(257));
    for (const sessionId of ids) {
      await expectAgreement('GET', '/sessions/{sessionId}', { params: { sessionId } });
      await expectAgreement('GET', '/user/{userId}/sessions', { params: { userId: sessionId } });
    }
    for (const uuid of ['m1', 'a b', 'x'.repeat(128), 'x'.repeat(129), 'a:b.c_d-e']) {
      await expectAgreement('GET', '/sessions/{sessionId}/messages/{uuid}', { params: { sessionId: 'known', uuid } });
    }
  });

  it('on query values', async () => {
    for (const limit of ['0', '5', '100', '101', '-1', '1.5', 'abc', '99999999999999999999', '']) {
      await expectAgreement('POST', '/sessions/{sessionId}/search', {
        params: { sessionId: 'known' },
        query: { limit },
        body: { text: 'hello' },
      });
      await expectAgreement('GET', '/user', { query: { limit, cursor: limit } });
    }
  });

  it('on bodies: required where the document says so, ids, roles, dates, token counts, profile fields', async () => {
    const message = { role: 'user', content: 'x' };
    const cases: [string, string, unknown][] = [
      ['POST', '/sessions', { session_id: `s-${randomUUID()}` }],
      ['POST', '/sessions', { session_id: '' }],
      ['POST', '/sessions', { session_id: 'bell\u0007' }],
      ['POST', '/sessions', { session_id: 7 }],
      ['POST', '/sessions', {}],
      ['POST', '/sessions', { session_id: `s-${randomUUID()}`, unknown: { ignored: [1, { a: null }] } }],
      ['POST', '/sessions', JSON.parse(`{"session_id": "s-${randomUUID()}", "__proto__": {}}`)],
      ['POST', '/sessions', JSON.parse(`{"session_id": "s-${randomUUID()}", "unknown": [{"__proto__": 1}]}`)],
      ['POST', '/sessions', undefined],
      ['PATCH', '/sessions/{sessionId}', undefined],
      ['PATCH', '/sessions/{sessionId}', {}],
      ['PATCH', '/sessions/{sessionId}', { metadata: null }],
      ['POST', '/sessions/{sessionId}/memory', undefined],
      ['POST', '/sessions/{sessionId}/memory', { messages: [message] }],
      ['POST', '/sessions/{sessionId}/memory', { messages: [{ ...message, role: '' }] }],
      ['POST', '/sessions/{sessionId}/memory', { messages: [{ ...message, role: 'r'.repeat(257) }] }],
      ['POST', '/sessions/{sessionId}/memory', { messages: [{ ...message, content: 'a\u0000b' }] }],
      ['POST', '/sessions/{sessionId}/memory', { messages: [{ ...message, token_count: -1 }] }],
      ['POST', '/sessions/{sessionId}/memory', { messages: [{ ...message, token_count: 1.5 }] }],
      ['POST', '/sessions/{sessionId}/memory', { messages: [{ ...message, uuid: 'not an id' }] }],
      ['POST', '/sessions/{sessionId}/memory', { messages: [{ ...message, created_at: '2024-02-29T10:00:00+02:00' }] }],
      ['POST', '/sessions/{sessionId}/memory', { messages: [{ ...message, created_at: '2024-01-01' }] }],
      ['POST', '/sessions/{sessionId}/memory', { messages: [{ ...message, created_at: '0000-06-01T00:00:00Z' }] }],
      ['PATCH', '/sessions/{sessionId}/messages/{uuid}', { token_count: 3 }],
      ['PATCH', '/sessions/{sessionId}/messages/{uuid}', { token_count: -3 }],
      ['PATCH', '/sessions/{sessionId}/messages/{uuid}', undefined],
      ['POST', '/user', { user_id: `u-${randomUUID()}`, email: 'e'.repeat(320), first_name: 'f'.repeat(256) }],
      ['POST', '/user', { user_id: `u-${randomUUID()}`, email: 'e'.repeat(321) }],
      ['PATCH', '/user/{userId}', { last_name: 'l'.repeat(257) }],
      ['PATCH', '/user/{userId}', undefined],
    ];
    const params = { sessionId: 'known', userId: 'known-user', uuid: 'm1' };
    for (const [method, template, body] of cases) await expectAgreement(method, template, { params, body });
  });

  it('on metadata keys and values, stored and merged', async () => {
    const bad: unknown[] = [
      { '': 1 },
      { 'a.b': 1 },
      { $set: 1 },
      { ' a': 1 },
      { 'a\u0085': 1 },
      { a: { 'b\t': 1 } },
      { constructor: 1 },
      { a: [[1]] },
      { a: 'x\u0000' },
      { a: { $delete: false } },
      { a: { $delete: true, b: 1 } },
      [1],
      'text',
    ];
    const good: unknown[] = [{ a: 1 }, { 'a b': { c: [1, { d: [2] }], e: null } }, { a: { $delete: true } }, { é: '\u{1F600}' }];
    good.push(nested(16, 1), nested(14, [1, { b: 1 }]), nested(16, { $delete: true }));
    for (const metadata of [...bad, ...good]) {
      await expectAgreement('PATCH', '/sessions/{sessionId}', { params: { sessionId: 'known' }, body: { metadata } });
      await expectAgreement('POST', '/sessions', { body: { session_id: `s-${randomUUID()}`, metadata } });
    }
  });

  it('on the nesting limit of metadata, stated in words and as x-max-depth', async () => {
    const doc: Doc = (await http('GET', '/openapi.json')).json;
    const schemas = doc.components as { schemas: Record<string, { description: string; 'x-max-depth': number }> };
    for (const name of ['Metadata', 'MetadataPatch']) {
      expect(schemas.schemas[name]!['x-max-depth']).toBe(16);
      expect(schemas.schemas[name]!.description).toMatch(/Nested 16 levels at most/);
    }
    // The object at the top is level 1; scalars may sit one level below the deepest object or array.
    for (const [metadata, accepted] of [
      [nested(16, 1), true],
      [nested(15, [1]), true],
      [nested(17, 1), false],
      [nested(16, {}), false],
      [nested(16, [1]), false],
      [nested(15, [1, { b: 1 }]), false],
    ] as const) {
      const reply = await http('POST', '/sessions', { session_id: `s-${randomUUID()}`, metadata });
      expect(reply.status, JSON.stringify(metadata)).toBe(accepted ? 201 : 400);
      if (!accepted) expect(reply.json.message).toMatch(/nested deeper than 16 levels/);
    }
  });

  it('on random metadata, which is stored and read back when both accept it', async () => {
    const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('', ' a', 'a ', 'a.b', '$a', '__proto__', 'x\u0085', 'é'));
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 2 }), tie('object'), fc.array(tie('any'), { maxLength: 3 })),
      object: fc.dictionary(key, tie('any'), { maxKeys: 4 }),
    }));
    await fc.assert(
      fc.asyncProperty(value.object, async (metadata) => {
        const sessionId = `fuzz-${randomUUID()}`;
        const body = JSON.stringify({ session_id: sessionId, metadata }); // raw: a `__proto__` key stays a key
        const reply = await expectAgreement('POST', '/sessions', { body: JSON.parse(body) });
        if (reply.status === 201) expect((await http('GET', `/sessions/${sessionId}`)).json.metadata).toEqual(metadata);
      }),
      { numRuns: 150 },
    );
  });

  it('on search filters and their dates, and the empty query', async () => {
    const bodies: unknown[] = [
      {},
      { text: '  \u3000' },
      { text: 'hello' },
      { text: '\u0085' },
      { metadata: { 'metadata.a': 1 } },
      { metadata: { 'metadata.a b': 1 } },
      { metadata: { 'metadata.a ': 1 } },
      { metadata: { 'metadata.  a': 1 } },
      { metadata: { 'metadata.__proto__': 1 } },
      { metadata: { 'metadata.a.constructor.b': 1 } },
      { metadata: { a: 1 } },
      { metadata: { $or: [] } },
      { metadata: { $or: [{ 'metadata.a': 1 }, { 'metadata.b': { $in: [1, 'x', null] } }] } },
      { metadata: { 'metadata.a': { $in: 'x' } } },
      { metadata: { 'metadata.a': { $gt: 1, b: 2 } } },
      { metadata: { 'metadata.a': { $regex: 'x' } } },
      { metadata: { 'metadata.a': { $exists: 1 } } },
      { metadata: { 'metadata.a': { b: { $gt: 1 } } } },
      { metadata: { 'metadata.a': { 'k\u0000': 1 } } },
      { metadata: { 'metadata.a': {} } },
      // Nested 8 levels at most: the filter is level 1, its values level 2, each array or $and one more.
      { metadata: { 'metadata.a': arrays(6, [1]) } },
      { metadata: { 'metadata.a': arrays(7, [1]) } },
      { metadata: { 'metadata.a': arrays(7, []) } },
      { metadata: { 'metadata.a': { $in: arrays(6, [1]) } } },
      { metadata: { 'metadata.a': { $in: arrays(7, [1]) } } },
      { metadata: { 'metadata.a': nested(6, 1) } },
      { metadata: { 'metadata.a': nested(7, 1) } },
      { metadata: { 'metadata.a': nested(7, {}) } },
      { metadata: ands(6) },
      { metadata: ands(7) },
      { metadata: { start_date: '2024-01-01T00:00:00Z' } },
      { metadata: { start_date: '2024' } },
      { metadata: { start_date: 1 } },
      { metadata: { start_date: null } },
      { metadata: { where: { jsonpath: '$.a' } } },
      { text: 'x', search_scope: 'summary' },
      { text: 'x', search_scope: 'messages', search_type: 'mmr', mmr_lambda: 0.3 },
      { text: 'x', mmr_lambda: 2 },
      { text: 'x'.repeat(16_385) },
      undefined,
    ];
    for (const body of bodies) {
      await expectAgreement('POST', '/sessions/{sessionId}/search', { params: { sessionId: 'known' }, body });
      await expectAgreement('POST', '/users/{userId}/search', { params: { userId: 'known-user' }, body });
    }
  });
});

describe('methods, bodies and auth, as the document says', () => {
  /** node:http, since fetch refuses some methods (TRACE). */
  const raw = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; allow?: string; json: { message?: string } }>((resolve, reject) => {
      const req = request(`${server().url}/api/v1${path}`, { method }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, json: JSON.parse(text || '{}') }));
      });
      req.on('error', reject).end(body);
    });

  it('any other method on a known path → 405 with Allow, before the body is read', async () => {
    const expect405 = (reply: Awaited<ReturnType<typeof raw>>, allow: string) => {
      expect(reply.status).toBe(405);
      expect(reply.allow).toBe(allow);
      expect(reply.json.message).toMatch(/not allowed/);
    };
    for (const method of ['QUERY', 'PROPFIND', 'TRACE', 'PUT', 'DELETE', 'OPTIONS', 'PURGE']) {
      expect405(await raw(method, '/sessions/0'), 'GET, PATCH, HEAD');
    }
    expect405(await raw('QUERY', '/sessions/known/search', '{"text": "hello"}'), 'POST');
    expect405(await raw('PUT', '/sessions', '{not json'), 'POST, GET, HEAD');
    expect405(await raw('POST', '/openapi.json'), 'GET, HEAD');
    // Every method the document lists for a path is one its Allow header names.
    const doc: Doc = (await http('GET', '/openapi.json')).json;
    for (const [template, operations] of Object.entries(doc.paths)) {
      const { allow } = await raw('PROPFIND', fill(template, { sessionId: 'known', userId: 'known-user', uuid: 'm1' }));
      for (const method of Object.keys(operations)) expect(allow?.split(', ')).toContain(method.toUpperCase());
    }
  });

  it('PATCH /sessions/{id} without a body is refused and changes nothing (it would have undeleted the session)', async () => {
    await http('POST', '/sessions', { session_id: 'deleted', metadata: { kept: true } });
    expect((await http('DELETE', '/sessions/deleted/memory')).status).toBe(200);
    const reply = await http('PATCH', '/sessions/deleted');
    expect(reply.status).toBe(400);
    expect(reply.json.message).toMatch(/body: required/);
    expect((await http('GET', '/sessions/deleted')).status).toBe(404);
    const stored = await server().core.collections.sessions.findOne({ sessionId: 'deleted' });
    expect(stored).toMatchObject({ metadata: { kept: true }, deletedAt: expect.any(Date) });
    expect(admits('PATCH', '/sessions/{sessionId}', { params: { sessionId: 'deleted' } })).toBe(false);
  });

  it('asks for a bearer token only when the server requires one', async () => {
    const off: Doc = (await http('GET', '/openapi.json')).json;
    expect(off.security).toBeUndefined();
    expect(Object.keys(off.paths['/sessions']!.get!.responses)).not.toContain('401');
    const on: Doc = (await httpClient(authServer().url)('GET', '/api/v1/openapi.json')).json;
    expect(on.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(on.paths['/sessions']!.get!.responses)).toContain('401');
    const token = await createToken(SECRET);
    expect((await httpClient(authServer().url)('GET', '/api/v1/sessions')).status).toBe(401);
    expect((await httpClient(authServer().url, { token })('GET', '/api/v1/sessions')).status).toBe(200);
  });
});
