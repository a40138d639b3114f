/**
 * `mnemo mcp`: an MCP server on stdin/stdout for desktop agents (Claude Desktop, Claude Code, Cursor), which
 * start it as a child process. It keeps no data: every tool calls a running Mnemo through the typed tRPC client
 * with the given token, so the server's rules (scope, validation) apply; the server's live events of the token's
 * sessions become resource change notifications (server.ts, notifyChanges). It ends when its client goes away
 * (stdin closes) or on SIGTERM/SIGINT. stdout carries only the protocol; anything else goes to stderr.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { decodeJwt } from 'jose';
import { type McpPrincipal, remoteApi } from './api';
import { createMcpServer } from './server';

/**
 * Whose token it is, read from its claims without checking its signature: only the server can, and does
 * on every call. This only picks the default user of the tools; a forged claim gains nothing.
 */
export function principalOfToken(token: string | undefined): McpPrincipal {
  if (!token) return { role: 'admin' }; // a server without auth: everyone is an admin
  try {
    const { scope, sub } = decodeJwt(token);
    return scope === 'user' && typeof sub === 'string' ? { role: 'user', userId: sub } : { role: 'admin' };
  } catch {
    return { role: 'admin' }; // not a JWT: the server will refuse it, call by call
  }
}

/** Serves MCP on stdio until the client goes away; resolves then. */
export async function serveMcpStdio({ url, token }: { url: string; token?: string }): Promise<void> {
  const api = remoteApi({ url, token });
  const server = createMcpServer({
    api,
    watchSessions: api.watchSessions,
    principal: principalOfToken(token),
    onInternal: (error) => {
      console.error('mnemo mcp:', error);
      return `the call to ${url} failed: ${(error as Error)?.message ?? String(error)}`;
    },
  });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = resolve;
  });
  const stop = () => void transport.close();
  // The transport does not notice the end of its input: a client that goes away closes our stdin.
  process.stdin.once('end', stop).once('close', stop);
  process.once('SIGTERM', stop).once('SIGINT', stop);
  await server.connect(transport);
  await closed;
  process.off('SIGTERM', stop).off('SIGINT', stop);
  await server.close();
}
