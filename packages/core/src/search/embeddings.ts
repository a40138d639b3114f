/**
 * Pluggable embeddings: any OpenAI-compatible `/embeddings` endpoint (OpenAI, Ollama, vLLM, LM
 * Studio, text-embeddings-inference…). Request `POST <url>` with `{ input: string[], model }` and
 * `Authorization: Bearer <apiKey>` when a key is set; response `{ data: [{ embedding, index }] }`.
 *
 * Requests retry what a provider means as "later" (provider-http.ts); another 4xx (a bad key, a bad
 * model) fails at once.
 */
import { HTTPError, type KyError } from 'ky';
import { providerHttp } from '../provider-http';

export interface EmbeddingsConfig {
  /** The full endpoint URL, e.g. `https://api.openai.com/v1/embeddings` (MNEMO_EMBEDDINGS_URL). */
  url: string;
  /** Sent as `model`; default `text-embedding-3-small`. */
  model?: string;
  apiKey?: string;
  /** Inputs per request; default 64. */
  batchSize?: number;
  /** Per attempt; default 30 s. */
  timeoutMs?: number;
  /** Retries of a request after the first attempt; default 4. */
  retries?: number;
  /** The first retry's delay, doubled for each next one (with jitter) up to 30 s; default 1 s. */
  retryDelayMs?: number;
  /** The longest `Retry-After` honoured (a longer one is cut to this); default 60 s. */
  maxRetryAfterMs?: number;
}

export class EmbeddingsError extends Error {
  override name = 'EmbeddingsError';
}

export function createEmbeddingsClient({
  url,
  model = 'text-embedding-3-small',
  apiKey,
  batchSize = 64,
  timeoutMs = 30_000,
  retries = 4,
  retryDelayMs = 1000,
  maxRetryAfterMs = 60_000,
}: EmbeddingsConfig) {
  const http = providerHttp({ apiKey, timeoutMs, retries, retryDelayMs, maxRetryAfterMs });

  async function request(input: string[]): Promise<number[][]> {
    let body: { data?: unknown };
    try {
      body = await http.post(url, { json: { input, model } }).json<{ data?: unknown }>();
    } catch (error) {
      if (error instanceof HTTPError) {
        // ky has read the body already, into `data` (parsed when it is JSON).
        const text = typeof error.data === 'string' ? error.data : (JSON.stringify(error.data) ?? '');
        throw new EmbeddingsError(`embeddings provider answered ${error.response.status}: ${text.slice(0, 300)}`);
      }
      throw new EmbeddingsError(`embeddings provider unreachable: ${(error as KyError | Error).message}`);
    }
    const data = Array.isArray(body?.data) ? (body.data as { embedding?: unknown; index?: unknown }[]) : [];
    const vectors = new Array<number[] | undefined>(input.length);
    data.forEach((item, position) => {
      const index = typeof item?.index === 'number' ? item.index : position;
      const embedding = item?.embedding;
      if (Array.isArray(embedding) && embedding.length > 0 && embedding.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        vectors[index] = embedding as number[];
      }
    });
    if (vectors.length !== input.length || vectors.some((v) => !v)) {
      throw new EmbeddingsError(`embeddings provider returned ${data.length} usable vectors for ${input.length} inputs`);
    }
    return vectors as number[][];
  }

  return {
    /** One vector per text, in order; requests of at most `batchSize` texts, one after another. */
    async embed(texts: string[]): Promise<number[][]> {
      const vectors: number[][] = [];
      for (let i = 0; i < texts.length; i += batchSize) vectors.push(...(await request(texts.slice(i, i + batchSize))));
      return vectors;
    },
  };
}

export type EmbeddingsClient = ReturnType<typeof createEmbeddingsClient>;

/** Cosine similarity; 0 for vectors of different dimensions (another model) or zero vectors. */
export function cosine(a: number[], b: number[]): number {
  if (a.length !== b.length) return 0;
  const n = a.length;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Update statements per `update` command when storing embeddings. FerretDB v1.24.2 keeps the query
 * of every statement open until the whole command ends (internal/handler/msg_update.go: a
 * `defer closer.Close()` inside the loop) while its SQLite pool allows 100 connections, so one
 * command of ~100 updates of existing documents deadlocks (measured: 60 fine, 100 hangs). Small
 * commands, one at a time per process, stay clear of it.
 */
export const UPDATE_BATCH = 32;

/** A one-slot queue: tasks run one after another. */
export function createMutex() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const result = tail.then(task, task);
    tail = result.catch(() => {});
    return result;
  };
}
