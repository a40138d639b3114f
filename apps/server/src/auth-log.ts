/**
 * One warn line per request refused for its token (401, or a subscription's stream), from one place for REST and tRPC: the
 * response, whoever refused it, with the reason the verifier gave (`req.authentication`, set by the
 * onRequest hook in app.ts). The request id is the log line's `reqId`; neither the token nor the
 * secret is ever logged (the reason never contains them, and the path is logged without its query,
 * where a subscription's token travels).
 */
import type { FastifyInstance } from 'fastify';

export function logAuthFailures(app: FastifyInstance): void {
  app.addHook('onResponse', async (req, reply) => {
    const authentication = req.authentication;
    if (!authentication || authentication.state === 'ok') return;
    // tRPC refuses a subscription (SSE, 200) in the stream's first event rather than with a 401.
    const refused = reply.statusCode === 401 || /^text\/event-stream/.test(String(reply.getHeader('content-type') ?? ''));
    if (!refused) return;
    req.log.warn(
      { auth: authentication.state, reason: authentication.reason, method: req.method, path: req.url.split('?')[0] },
      'authentication refused',
    );
  });
}
