/**
 * The one place where an error becomes an HTTP status and a JSON body: `{"message"}` (REST, /healthz,
 * unknown routes, and failures before tRPC's own handler such as 413), or OpenAI's
 * `{"error": {message, type, param, code}}` on OpenAI's paths (/v1, errorBody). Domain errors map as in the
 * router; tRPC errors keep tRPC's code → status table (getHTTPStatusCodeFromError); Fastify's own
 * errors (bad body, too large, bad media type) keep their 4xx status; anything else is a 500.
 */
import { describeZodError, isDomainError } from '@mnemo/core';
import { TRPCError } from '@trpc/server';
import { METHODS } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { z } from 'zod';
import { internalErrorMessage, TRPC_CODE } from './trpc';

export interface HttpError {
  status: number;
  message: string;
}

export function badRequest(message: string): TRPCError {
  return new TRPCError({ code: 'BAD_REQUEST', message });
}

/** Paths of OpenAI's API (openai/), which answer errors with OpenAI's body. */
export const OPENAI_PATH = /^\/+v1(\/|$|\?)/;

/** OpenAI's error `type` and `code` for an HTTP status (its SDKs pick their error class by status). */
function openAIErrorKind(status: number): { type: string; code: string | null } {
  if (status === 401) return { type: 'invalid_request_error', code: 'invalid_api_key' };
  if (status === 429) return { type: 'requests', code: 'rate_limit_exceeded' };
  if (status >= 500) return { type: 'server_error', code: null };
  return { type: 'invalid_request_error', code: null };
}

/** The JSON body of an error answered on `url`: OpenAI's on its paths, else `{"message"}`. */
export function errorBody(url: string, { status, message }: HttpError): object {
  return OPENAI_PATH.test(url) ? { error: { message, ...openAIErrorKind(status), param: null } } : { message };
}

/** `requestId` is named in the message of a 500, whose cause only the log tells. */
export function toHttpError(error: unknown, requestId?: string): HttpError {
  // A domain error raised by an adapter itself (outside a procedure) maps like one from a procedure.
  if (isDomainError(error)) error = new TRPCError({ code: TRPC_CODE[error.code], message: error.message });
  if (error instanceof TRPCError) {
    const status = getHTTPStatusCodeFromError(error);
    if (status === 503) return { status, message: error.message };
    if (status >= 500) return { status, message: internalErrorMessage(requestId) };
    // Input the procedure's zod schema rejected: list the issues rather than tRPC's JSON dump.
    return { status, message: error.cause instanceof z.ZodError ? describeZodError(error.cause) : error.message };
  }
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { status: statusCode, message: (error as Error).message };
  }
  return { status: 500, message: internalErrorMessage(requestId) };
}

/**
 * Lets Fastify route every method Node's HTTP parser accepts (QUERY, PROPFIND, …), so that a known
 * path answers any method with 405 and not with a 404 or a parse error. CONNECT is left to Node,
 * which hands it to a `connect` listener (none here: the socket closes).
 */
export function routeEveryMethod(app: FastifyInstance): void {
  for (const method of METHODS) {
    if (method !== 'CONNECT' && !app.supportedMethods.includes(method)) app.addHttpMethod(method, { hasBody: true });
  }
}

/**
 * Answers every other method on a known path with 405 and an `Allow` header (GET implies HEAD). It
 * answers in `onRequest`, before any body is read, so a method whose body Fastify would parse
 * (or, for QUERY, insist on a Content-Type for) still gets its 405.
 */
export function allowOnly(app: FastifyInstance, url: string, allowed: string[]): void {
  const allow = allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed;
  const refuse = async (req: FastifyRequest, reply: FastifyReply) => {
    reply.status(405).header('Allow', allow.join(', '));
    return reply.send(
      errorBody(req.url, { status: 405, message: `method ${req.method} not allowed on ${url}; allowed: ${allow.join(', ')}` }),
    );
  };
  app.route({ method: app.supportedMethods.filter((m) => !allow.includes(m)), url, onRequest: refuse, handler: refuse });
}
