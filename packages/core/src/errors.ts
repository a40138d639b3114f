/** Domain errors. Core throws only these; the server maps each code to a tRPC code and an HTTP status. */
export const DOMAIN_ERROR_CODES = ['NOT_FOUND', 'CONFLICT', 'VALIDATION', 'UNAUTHENTICATED', 'FORBIDDEN'] as const;
export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export class DomainError extends Error {
  override name = 'DomainError';
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class NotFoundError extends DomainError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

export class ConflictError extends DomainError {
  override name = 'ConflictError';
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

export class ValidationError extends DomainError {
  override name = 'ValidationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('VALIDATION', message, options);
  }
}

/** The caller is known but may not do this (a user token asking for an admin operation). */
export class ForbiddenError extends DomainError {
  override name = 'ForbiddenError';
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

export class UnauthenticatedError extends DomainError {
  override name = 'UnauthenticatedError';
  constructor(message = 'Unauthenticated') {
    super('UNAUTHENTICATED', message);
  }
}

/** Also accepts errors from another copy of this module (matched by shape, as tRPC does for TRPCError). */
export function isDomainError(error: unknown): error is DomainError {
  return (
    error instanceof DomainError ||
    (error instanceof Error && DOMAIN_ERROR_CODES.includes((error as { code?: unknown }).code as DomainErrorCode))
  );
}

export const sessionNotFound = (sessionId: string) => new NotFoundError(`session ${JSON.stringify(sessionId)} not found`);
export const userNotFound = (userId: string) => new NotFoundError(`user ${JSON.stringify(userId)} not found`);
export const messageNotFound = (sessionId: string, uuid: string) =>
  new NotFoundError(`message ${uuid} not found in session ${JSON.stringify(sessionId)}`);
