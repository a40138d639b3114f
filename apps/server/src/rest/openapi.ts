/**
 * The OpenAPI 3.1 document of the REST API, generated from the route table and the zod schemas
 * (z.toJSONSchema) the handlers parse their path, query and body with, so it cannot drift from
 * what they accept and return. Rules zod cannot express (metadata, the search filter) come as
 * JSON Schemas from core, beside the rules (RULE_SCHEMAS); openapi.test.ts checks the document
 * against the server's answers.
 */
import { z } from 'zod';
import { ZEP_API_VERSION } from '../version';
import { REST_ROUTES, type RestRoute } from './routes';
import { ApiError, component, PATH_PARAMETERS, RULE_SCHEMAS, zepSchemas } from './shapes';

export const STATUS_TEXT: Record<number, string> = {
  400: 'Bad input (invalid JSON, wrong types, invalid ids or metadata)',
  401: 'Missing, invalid or expired bearer token',
  404: 'Not found',
  409: 'Conflict (the id already exists)',
  413: 'Request body too large',
  500: 'Internal error (the message names the request id; the log has the details)',
  503: 'The database is unavailable; retry shortly',
};

/** A zod schema as JSON Schema, as a request is parsed with it. */
const jsonSchema = (schema: z.ZodType) => {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return rest;
};

const json = (schema: object) => ({ 'application/json': { schema } });

/** What describes one API's routes: its registry of component schemas, path parameter rules and error body. */
export interface ApiSpec {
  registry: z.core.$ZodRegistry<{ id: string; description?: string }>;
  pathParameters: Record<string, z.ZodType<string>>;
  errorSchema: z.ZodType;
  statusText: Record<number, string>;
}

const ZEP_SPEC: ApiSpec = { registry: zepSchemas, pathParameters: PATH_PARAMETERS, errorSchema: ApiError, statusText: STATUS_TEXT };

function ref(spec: ApiSpec, schema: z.ZodType): { $ref: string } {
  const id = spec.registry.get(schema)?.id;
  if (!id) throw new Error('REST schemas must be registered in their API’s registry');
  return { $ref: `#/components/schemas/${id}` };
}

function operation(r: RestRoute, auth: boolean, spec: ApiSpec) {
  const pathParams = [...r.path.matchAll(/:(\w+)/g)].map(([, name]) => {
    const rule = spec.pathParameters[name!];
    if (!rule) throw new Error(`no rule for the path parameter ${name} (PATH_PARAMETERS)`);
    const schema = jsonSchema(rule);
    return { name, in: 'path', required: true, description: `${schema.description ?? ''}, percent-encoded`, schema };
  });
  // Every route may answer 500 and 503; every route with a body, 413; with auth on, 401.
  const errors = [...new Set([...r.errors.filter((s) => auth || s !== 401), ...(r.body ? [413] : []), 500, 503])].sort();
  // An empty query value counts as absent (withoutEmpty in routes.ts), whatever the parameter's type.
  const queryParams = r.query
    ? Object.entries((jsonSchema(r.query).properties ?? {}) as Record<string, { description?: string }>).map(([name, schema]) => ({
        name,
        in: 'query',
        required: false,
        description: `${schema.description}; empty = absent`,
        schema: { anyOf: [schema, { type: 'string', const: '' }] },
      }))
    : [];
  const success =
    r.response === 'OK'
      ? { description: 'The text `OK`', content: { 'text/plain': { schema: { type: 'string', const: 'OK' } } } }
      : { description: 'Success', content: json(r.list ? { type: 'array', items: ref(spec, r.response) } : ref(spec, r.response)) };
  return {
    summary: r.summary,
    parameters: [...pathParams, ...queryParams],
    ...(r.body && { requestBody: { required: true, content: json(ref(spec, r.body)) } }),
    responses: {
      [r.status ?? 200]: success,
      ...Object.fromEntries(errors.map((s) => [s, { description: spec.statusText[s], content: json(ref(spec, spec.errorSchema)) }])),
    },
  };
}

/** The `paths` and component `schemas` of a route table. */
export function describeRoutes(routes: RestRoute[], auth: boolean, spec: ApiSpec) {
  const { schemas } = z.toJSONSchema(spec.registry, { io: 'input', uri: component, unrepresentable: 'any' });
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    (paths[path] ??= {})[r.method.toLowerCase()] = operation(r, auth, spec);
  }
  return {
    paths,
    schemas: Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema])),
  };
}

/** `auth`: whether the server requires a bearer token (MNEMO_AUTH_SECRET): the document says so only then. */
export function createOpenApiDocument({ auth }: { auth: boolean }) {
  const { paths, schemas } = describeRoutes(REST_ROUTES, auth, ZEP_SPEC);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Mnemo — Zep-compatible REST API',
      version: ZEP_API_VERSION,
      description:
        'The chat-memory API of the Zep memory server v0.27, served by Mnemo. Errors are JSON `{"message"}`. ' +
        'A known path answers a method it does not serve with 405 and an `Allow` header. ' +
        (auth
          ? 'This server has MNEMO_AUTH_SECRET set: every call needs `Authorization: Bearer <HS256 JWT>`.'
          : 'This server has no MNEMO_AUTH_SECRET: calls need no token (with one set, every call needs a bearer token).'),
    },
    servers: [{ url: '/api/v1' }],
    ...(auth && { security: [{ bearerAuth: [] }] }),
    paths,
    components: {
      schemas: {
        ...schemas,
        ...RULE_SCHEMAS,
      },
      ...(auth && { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } }),
    },
  };
}
