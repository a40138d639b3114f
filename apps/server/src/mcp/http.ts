/**
 * MCP over Streamable HTTP at `/mcp`, stateless: every POST gets a server and a transport of its own
 * (nothing is kept between requests, so any instance behind a load balancer can answer it), the
 * request's tRPC context (its token already checked, its tenant's core, scoped to a user token's user)
 * and JSON answers. Stateless means no stream from server to client: GET and DELETE answer 405, and
 * resource change notifications are not sent over HTTP (the stdio server sends them: server.ts, notifyChanges).
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { allowOnly } from '../http-error';
import { createCaller } from '../router';
import { AUTH_MESSAGES, type Context, internalErrorMessage } from '../trpc';
import type { McpPrincipal } from './api';

/**
 * The SDK and the tools, loaded by the first MCP request: about a quarter of a second of imports that a
 * server nobody asks for MCP need not spend at start-up.
 */
let modules: Promise<[typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js'), typeof import('./server')]> | undefined;
const load = () => (modules ??= Promise.all([import('@modelcontextprotocol/sdk/server/streamableHttp.js'), import('./server')]));

/** A JSON-RPC error answer with no request id (the request was refused before it was read). */
const rpcError = (code: number, message: string) => ({ jsonrpc: '2.0', error: { code, message }, id: null });

export function mcpHttp({ contextOf }: { contextOf: (req: FastifyRequest) => Promise<Context> }): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.post('/mcp', async (req, reply) => {
      const { authentication } = req;
      if (authentication.state !== 'ok') {
        reply.status(401).header('www-authenticate', 'Bearer');
        return rpcError(-32001, AUTH_MESSAGES[authentication.state]);
      }
      const { principal: who } = authentication;
      const principal: McpPrincipal = who.role === 'user' ? { role: 'user', userId: who.userId } : { role: 'admin' };
      const [{ StreamableHTTPServerTransport }, { createMcpServer }] = await load();
      const server = createMcpServer({
        api: createCaller(await contextOf(req)),
        principal,
        onInternal: (error) => {
          req.log.error({ err: error }, 'MCP call failed');
          return internalErrorMessage(req.id);
        },
      });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      // The transport writes the answer itself; both are dropped once it is sent.
      reply.hijack();
      reply.raw.once('close', () => {
        void transport.close();
        void server.close();
      });
      // Fastify's own headers (X-Request-Id, X-Zep-Version) are not sent on a hijacked reply.
      reply.raw.setHeader('X-Request-Id', req.id);
      await server.connect(transport);
      await transport.handleRequest(req.raw, reply.raw, req.body);
    });
    // Stateless: no event stream to GET, no session to DELETE.
    allowOnly(app, '/mcp', ['POST']);
  };
}
