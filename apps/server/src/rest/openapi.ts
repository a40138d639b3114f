/**
 * The OpenAPI 3.1 document of the REST API, generated from the route table and the zod schemas
 * (z.toJSONSchema), so it cannot drift from what the handlers accept and return.
 */
import { ID_MAX_LENGTH, MESSAGE_ID_PATTERN } from '@mnemo/core/schemas';
import { z } from 'zod';
import { ZEP_API_VERSION } from '../version';
import { REST_ROUTES, type RestRoute } from './routes';
import { ApiError, zepSchemas } from './shapes';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad input (invalid JSON, wrong types, invalid ids or metadata)',
  401: 'Missing, invalid or expired bearer token',
  404: 'Not found',
  409: 'Conflict (the id already exists)',
  413: 'Request body too large',
  500: 'Internal error (the message names the request id; the log has the details)',
  503: 'The database is unavailable; retry shortly',
};

/** Path parameters: message ids, and session or user ids (core's `MessageId` and `Id` rules). */
const PATH_PARAMETER = {
  uuid: { type: 'string', pattern: MESSAGE_ID_PATTERN.source, description: 'The message id: a UUID, or the id its client gave it' },
  id: {
    type: 'string',
    minLength: 1,
    maxLength: ID_MAX_LENGTH,
    description: 'Any text without control characters, U+0000 or lone surrogates, percent-encoded',
  },
};

const json = (schema: object) => ({ 'application/json': { schema } });

function ref(schema: z.ZodType): { $ref: string } {
  const id = zepSchemas.get(schema)?.id;
  if (!id) throw new Error('REST schemas must be registered in zepSchemas');
  return { $ref: `#/components/schemas/${id}` };
}

function operation(r: RestRoute) {
  const pathParams = [...r.path.matchAll(/:(\w+)/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: name === 'uuid' ? PATH_PARAMETER.uuid : PATH_PARAMETER.id,
  }));
  // Every route may answer 500 and 503; every route with a body, 413.
  const errors = [...new Set([...r.errors, ...(r.body ? [413] : []), 500, 503])].sort();
  const queryParams = r.query
    ? Object.entries((z.toJSONSchema(r.query, { io: 'input' }).properties ?? {}) as Record<string, { description?: string }>).map(
        ([name, schema]) => ({ name, in: 'query', required: false, description: schema.description, schema }),
      )
    : [];
  const success =
    r.response === 'OK'
      ? { description: 'The text `OK`', content: { 'text/plain': { schema: { type: 'string', const: 'OK' } } } }
      : { description: 'Success', content: json(r.list ? { type: 'array', items: ref(r.response) } : ref(r.response)) };
  return {
    summary: r.summary,
    parameters: [...pathParams, ...queryParams],
    ...(r.body && { requestBody: { required: true, content: json(ref(r.body)) } }),
    responses: {
      [r.status ?? 200]: success,
      ...Object.fromEntries(errors.map((s) => [s, { description: STATUS_TEXT[s], content: json(ref(ApiError)) }])),
    },
  };
}

export function createOpenApiDocument() {
  const { schemas } = z.toJSONSchema(zepSchemas, { io: 'input', uri: (id) => `#/components/schemas/${id}` });
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of REST_ROUTES) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    (paths[path] ??= {})[r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Mnemo — Zep-compatible REST API',
      version: ZEP_API_VERSION,
      description:
        'The chat-memory API of the Zep memory server v0.27, served by Mnemo. Errors are JSON `{"message"}`. ' +
        'With MNEMO_AUTH_SECRET set, every call needs `Authorization: Bearer <HS256 JWT>`.',
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema])),
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}
