/**
 * tRPC is initialised once, here. This file exports only builders and the context type.
 * Domain errors from core become tRPC errors in one middleware, with one code table.
 */
import { type CoreApi, DomainError, type DomainErrorCode, isDatabaseUnavailable, isDomainError } from '@mnemo/core';
import { initTRPC, TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import superjson from 'superjson';
import { z } from 'zod';

import type { Authentication, AuthState } from './auth';

// `@internal` members are left out of the published client's bundled `AppRouter` type (its build emits
// declarations with `stripInternal`): a client never sees the context, and CoreApi would drag mongodb's types in.
export interface Context {
  /** @internal The core of the token's tenant, scoped to its user for a user token (core's scopedTo). */
  core: CoreApi;
  /** @internal Outcome of checking the bearer token (an admin of the default tenant when auth is off). */
  auth: Authentication;
  /** The HTTP request's id (X-Request-Id), named in internal-error messages. */
  requestId?: string;
}

export const TRPC_CODE = {
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  VALIDATION: 'BAD_REQUEST',
  UNAUTHENTICATED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
} as const satisfies Record<DomainErrorCode, TRPC_ERROR_CODE_KEY>;

export const DATABASE_UNAVAILABLE = 'the database is unavailable; retry shortly';

/** What a client is told of an error it cannot fix: nothing of the cause (the log has it, under the request id). */
export const internalErrorMessage = (requestId?: string) => `internal server error${requestId ? ` (request ${requestId})` : ''}`;

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  // Production mode whatever NODE_ENV says: no stack traces in responses.
  isDev: false,
  // Subscriptions (SSE): a ping every 10 s keeps proxies from closing a quiet stream; a client that
  // hears nothing for 25 s reconnects (resuming from its last event id).
  sse: { ping: { enabled: true, intervalMs: 10_000 }, client: { reconnectAfterInactivityMs: 25_000 } },
  errorFormatter({ shape, error, ctx }) {
    return {
      ...shape,
      message: error.code === 'INTERNAL_SERVER_ERROR' ? internalErrorMessage(ctx?.requestId) : shape.message,
      data: {
        ...shape.data,
        zodError: error.cause instanceof z.ZodError ? z.flattenError(error.cause) : null,
      },
    };
  },
});

/** The tRPC error a core error means (a domain error's code, an unreachable database), or undefined. */
function trpcErrorOf(cause: unknown): TRPCError | undefined {
  if (isDomainError(cause)) {
    const domain: DomainError = cause;
    return new TRPCError({ code: TRPC_CODE[domain.code], message: domain.message, cause: domain });
  }
  if (isDatabaseUnavailable(cause)) return new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: DATABASE_UNAVAILABLE, cause });
  return undefined;
}

const domainErrors = t.middleware(async ({ next }) => {
  const result = await next();
  const mapped = result.ok ? undefined : trpcErrorOf(result.error.cause);
  if (mapped) throw mapped;
  return result;
});

/**
 * A subscription's events with core errors mapped as the middleware maps a procedure's (a
 * subscription fails while it is iterated, after the middleware has run). Unmapped, a NOT_FOUND
 * would reach the client as a 500, which the SSE client answers by reconnecting for ever.
 */
export async function* mappingErrors<T>(events: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* events;
  } catch (error) {
    throw trpcErrorOf(error) ?? error;
  }
}

export const AUTH_MESSAGES: Record<AuthState, string> = {
  missing: 'no token found: send Authorization: Bearer <token>',
  invalid: 'token is unauthorized',
  expired: 'token is expired',
};

const authenticated = t.middleware(({ ctx, next }) => {
  if (ctx.auth.state !== 'ok') throw new TRPCError({ code: 'UNAUTHORIZED', message: AUTH_MESSAGES[ctx.auth.state] });
  return next();
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
/** Every Mnemo procedure: authenticated (when auth is on) and with domain errors mapped. */
export const procedure = t.procedure.use(domainErrors).use(authenticated);
export { DomainError };
