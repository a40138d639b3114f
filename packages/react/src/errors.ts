import type { AppRouter } from '@mnemo/client';
import { TRPCClientError } from '@trpc/client';

export type MnemoError = TRPCClientError<AppRouter>;

export function isMnemoError(error: unknown): error is MnemoError {
  return error instanceof TRPCClientError;
}

/** The HTTP status the server answered with, when the error came from the server. */
export function errorStatus(error: unknown): number | undefined {
  return isMnemoError(error) ? error.data?.httpStatus : undefined;
}

/** 4xx: retrying the same request cannot succeed. */
export function isClientError(error: unknown): boolean {
  const status = errorStatus(error);
  return status !== undefined && status >= 400 && status < 500;
}

/**
 * A one-line, human-readable explanation of an error, for showing to users: input validation
 * failures list the offending fields (the server's `zodError`), other errors give their message.
 */
export function describeError(error: unknown): string {
  if (isMnemoError(error)) {
    const zod = error.data?.zodError;
    if (zod) {
      const fields = Object.entries(zod.fieldErrors as Record<string, string[] | undefined>).flatMap(([field, messages]) =>
        (messages ?? []).map((m) => (m.includes(field) ? m : `${field}: ${m}`)),
      );
      const all = [...zod.formErrors, ...fields];
      if (all.length > 0) return all.join('; ');
    }
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
