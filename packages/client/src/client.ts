/**
 * The typed tRPC client. Every type comes from the server's `AppRouter` (a type-only import):
 * inputs, outputs and error shapes are inferred, never re-declared here.
 */
import type { AppRouter } from '@mnemo/server/router';
import {
  createTRPCClient,
  httpBatchLink,
  TRPCClientError,
  isTRPCClientError as isAnyTRPCClientError,
} from '@trpc/client';
import superjson from 'superjson';

export type { AppRouter, RouterInputs, RouterOutputs } from '@mnemo/server/router';
export { TRPCClientError };

export interface MnemoClientOptions {
  /** Base URL of the Mnemo server, e.g. `http://localhost:8000` (tRPC lives at `${url}/trpc`). */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>` when given (an HS256 JWT signed with `MNEMO_AUTH_SECRET`). */
  apiKey?: string;
  /** A fetch implementation, for runtimes or tests that need their own. */
  fetch?: typeof globalThis.fetch;
}

export type MnemoClient = ReturnType<typeof createMnemoClient>;

/** Strips trailing slashes so `${base}/trpc` never becomes `//trpc`. */
export function trimBaseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

export function createMnemoClient({ url, apiKey, fetch }: MnemoClientOptions) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${trimBaseUrl(url)}/trpc`,
        transformer: superjson,
        headers: () => (apiKey ? { Authorization: `Bearer ${apiKey}` } : {}),
        ...(fetch && { fetch }),
      }),
    ],
  });
}

/** True for errors thrown by a Mnemo client call; `err.data?.code` is then the tRPC error code. */
export function isTRPCClientError(cause: unknown): cause is TRPCClientError<AppRouter> {
  return isAnyTRPCClientError<AppRouter>(cause);
}
