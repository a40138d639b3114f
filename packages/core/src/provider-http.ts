/**
 * HTTP to an OpenAI-compatible provider (embeddings, chat completions), through ky: `Authorization:
 * Bearer <apiKey>` when a key is set, and retries of what a provider means as "later" — 408, 429, 5xx,
 * timeouts and network errors — with exponential backoff and jitter, or after the `Retry-After` it
 * sends (at most `maxRetryAfterMs`). Another 4xx (a bad key, a bad model) fails at once. Both callers
 * may repeat a POST: embedding or summarising the same input twice is harmless.
 */
import ky from 'ky';

export interface ProviderHttpOptions {
  apiKey?: string;
  /** Per attempt, in ms. */
  timeoutMs: number;
  /** Retries of a request after the first attempt. */
  retries: number;
  /** The first retry's delay, doubled for each next one (with jitter) up to 30 s. */
  retryDelayMs: number;
  /** The longest `Retry-After` honoured (a longer one is cut to this). */
  maxRetryAfterMs: number;
}

export function providerHttp({ apiKey, timeoutMs, retries, retryDelayMs, maxRetryAfterMs }: ProviderHttpOptions) {
  return ky.create({
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    timeout: timeoutMs,
    retry: {
      limit: retries,
      methods: ['post'],
      statusCodes: [408, 429, 500, 502, 503, 504],
      afterStatusCodes: [429, 503],
      maxRetryAfter: maxRetryAfterMs,
      delay: (attempt) => retryDelayMs * 2 ** (attempt - 1),
      backoffLimit: 30_000,
      jitter: true,
      retryOnTimeout: true,
    },
  });
}
