/**
 * A client of any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM, LM Studio,
 * llama.cpp's server…): `POST <url>` with `{ model, messages, temperature: 0, max_tokens }` and
 * `Authorization: Bearer <apiKey>` when a key is set; the answer is `choices[0].message.content`.
 *
 * Retries as the embeddings client does (provider-http.ts): 408, 429, 5xx, timeouts and network
 * errors, with backoff or after `Retry-After`; another 4xx fails at once. An answer that is not the
 * expected JSON fails at once too (a retry would most likely get the same).
 */
import { HTTPError, type KyError } from 'ky';
import { providerHttp } from '../provider-http';

export interface LlmConfig {
  /** The full endpoint URL, e.g. `https://api.openai.com/v1/chat/completions` (MNEMO_LLM_URL). */
  url: string;
  /** Sent as `model` (MNEMO_LLM_MODEL); default `gpt-4o-mini`. */
  model?: string;
  apiKey?: string;
  /** The model's context window in tokens: longer inputs are summarised in pieces (MNEMO_LLM_CONTEXT_TOKENS); default 8,192. */
  contextTokens?: number;
  /** The longest summary asked for, in tokens (`max_tokens`); default 512. */
  maxSummaryTokens?: number;
  /** Per attempt; default 60 s. */
  timeoutMs?: number;
  /** Retries of a request after the first attempt; default 4. */
  retries?: number;
  /** The first retry's delay, doubled for each next one (with jitter) up to 30 s; default 1 s. */
  retryDelayMs?: number;
  /** The longest `Retry-After` honoured (a longer one is cut to this); default 60 s. */
  maxRetryAfterMs?: number;
}

export class LlmError extends Error {
  override name = 'LlmError';
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export function createLlmClient({
  url,
  model = 'gpt-4o-mini',
  apiKey,
  maxSummaryTokens = 512,
  timeoutMs = 60_000,
  retries = 4,
  retryDelayMs = 1000,
  maxRetryAfterMs = 60_000,
}: LlmConfig) {
  const http = providerHttp({ apiKey, timeoutMs, retries, retryDelayMs, maxRetryAfterMs });

  return {
    /** The model's answer to `messages`; `signal` aborts it (a closing core). */
    async complete(messages: ChatMessage[], signal?: AbortSignal): Promise<string> {
      let text: string;
      try {
        text = await http.post(url, { json: { model, messages, temperature: 0, max_tokens: maxSummaryTokens }, signal }).text();
      } catch (error) {
        if (error instanceof HTTPError) {
          const body = typeof error.data === 'string' ? error.data : (JSON.stringify(error.data) ?? '');
          throw new LlmError(`model answered ${error.response.status}: ${body.slice(0, 300)}`);
        }
        throw new LlmError(`model unreachable: ${(error as KyError | Error).message}`);
      }
      let body: { choices?: { message?: { content?: unknown } }[] };
      try {
        body = JSON.parse(text);
      } catch {
        throw new LlmError(`model answered something that is not JSON: ${text.slice(0, 300)}`);
      }
      const content = body?.choices?.[0]?.message?.content;
      if (typeof content !== 'string' || content.trim() === '') {
        throw new LlmError(`model answered no text (choices[0].message.content): ${text.slice(0, 300)}`);
      }
      return content.trim();
    },
  };
}

export type LlmClient = ReturnType<typeof createLlmClient>;
