/**
 * zep-js's error classes (same names and constructor), and the one place where a tRPC client
 * error becomes one of them: NOT_FOUND → NotFoundError, UNAUTHORIZED → AuthenticationError,
 * anything else (other codes, network failures) → APIError. `code` is the HTTP status.
 */
import { isDomainError } from '@mnemo/core/errors';
import { isTRPCClientError } from '../client';

/** Unified error class for all Zep errors. */
export class ZepError extends Error {
  code?: number;
  responseData?: unknown;

  constructor(message: string, code?: number, responseData?: unknown) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.responseData = responseData;
  }
}

/** An unexpected response: any failure that is neither a 404 nor a 401. */
export class APIError extends ZepError {}
/** The session, user or message does not exist (or was deleted). */
export class NotFoundError extends ZepError {}
/** The server rejected the API key. */
export class AuthenticationError extends ZepError {}

export const SERVER_ERROR_MESSAGE = `Failed to connect to Zep server. Please check that:
- the server is running
- the API URL is correct
- No other process is using the same port`;

export function toZepError(err: unknown): unknown {
  // Bad arguments caught before any request (e.g. a negative offset): a 400, as the server would say.
  if (isDomainError(err) && err.code === 'VALIDATION') return Object.assign(new APIError(err.message, 400), { cause: err });
  if (!isTRPCClientError(err)) return err;
  const status = err.data?.httpStatus;
  let zepError: ZepError;
  switch (err.data?.code) {
    case 'NOT_FOUND':
      zepError = new NotFoundError(err.message, status);
      break;
    case 'UNAUTHORIZED':
      zepError = new AuthenticationError(`Authentication failed: ${err.message}`, status);
      break;
    default:
      zepError = new APIError(err.message, status, err.data ?? undefined);
  }
  zepError.cause = err;
  return zepError;
}

/** Runs one client call and rethrows its failure as a Zep error. */
export async function zepCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toZepError(err);
  }
}

/** zep-js checks ids before sending anything; so do we. */
export function requireId(value: string | undefined | null, name: string): string {
  if (!value || value.trim() === '') throw new Error(`${name} must be provided`);
  return value;
}
