/**
 * The OpenAPI 3.1 document of the OpenAI-compatible Conversations API, generated like the Zep API's
 * (rest/openapi.ts, describeRoutes) from the route table and the zod schemas its handlers parse with.
 */
import { STATUS_TEXT, describeRoutes } from '../rest/openapi';
import { OPENAI_ROUTES } from './routes';
import { OpenAIError, openaiSchemas, PATH_PARAMETERS } from './shapes';

export function createOpenAIOpenApiDocument({ auth }: { auth: boolean }) {
  const { paths, schemas } = describeRoutes(OPENAI_ROUTES, auth, {
    registry: openaiSchemas,
    pathParameters: PATH_PARAMETERS,
    errorSchema: OpenAIError,
    statusText: { ...STATUS_TEXT, 403: 'The token may not do this (a user token, another user’s conversation)' },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Mnemo — OpenAI-compatible Conversations API',
      version: '1',
      description:
        'OpenAI’s Conversations API (`/v1/conversations` and their items), served by Mnemo on its sessions and messages; ' +
        'point an OpenAI SDK’s `baseURL` at `/v1`. Errors are OpenAI’s `{"error": {"message", "type", "param", "code"}}`. ' +
        (auth
          ? 'This server has MNEMO_AUTH_SECRET set: the API key is a Mnemo token (`Authorization: Bearer <HS256 JWT>`).'
          : 'This server has no MNEMO_AUTH_SECRET: any API key is accepted.'),
    },
    servers: [{ url: '/v1' }],
    ...(auth && { security: [{ bearerAuth: [] }] }),
    paths,
    components: {
      schemas,
      ...(auth && { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } }),
    },
  };
}
