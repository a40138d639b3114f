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

/**
 * The batch link every Mnemo client uses (this one and @mnemo/react's). Calls made in the same tick
 * go in one request, at most 20 per request and in URLs of at most 2,000 characters, so any number
 * of them works (one GET of 100 batched calls outgrew the server's URL limits).
 */
export function mnemoBatchLink({ url, apiKey, fetch }: MnemoClientOptions) {
  return httpBatchLink<AppRouter>({
    url: `${trimBaseUrl(url)}/trpc`,
    transformer: superjson,
    headers: () => (apiKey ? { Authorization: `Bearer ${apiKey}` } : {}),
    maxItems: 20,
    maxURLLength: 2000,
    ...(fetch && { fetch }),
  });
}

export function createMnemoClient(options: MnemoClientOptions) {
  return createTRPCClient<AppRouter>({ links: [mnemoBatchLink(options)] });
}

/** True for errors thrown by a Mnemo client call; `err.data?.code` is then the tRPC error code. */
export function isTRPCClientError(cause: unknown): cause is TRPCClientError<AppRouter> {
  return isAnyTRPCClientError<AppRouter>(cause);
}
