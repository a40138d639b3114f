/**
 * Configuration. This is the only file that reads `process.env`; it is parsed once with zod.
 * Empty values count as unset (so `MNEMO_AUTH_SECRET=` in a .env file means "no auth").
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CoreConfig } from '@mnemo/core';
import { secretProblem } from '@mnemo/core/auth-tokens';
import { z } from 'zod';

/**
 * `pnpm start` runs the server with apps/server as its working directory, while users run it from
 * the repository root. So a relative MNEMO_DATA_DIR (the default `.data` included) is resolved
 * against the repository root, never against the working directory: `.data` is `<repo>/.data`.
 */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The installed `mnemo` command (the published package's built JavaScript, outside any checkout) has no repository:
 * there a relative MNEMO_DATA_DIR is the working directory's, and the default is a per-user data dir,
 * `$XDG_DATA_HOME/mnemo`, by default `~/.local/share/mnemo`.
 */
const INSTALLED = !import.meta.url.endsWith('.ts');
const DATA_BASE = INSTALLED ? process.cwd() : REPO_ROOT;
const DEFAULT_DATA_DIR = INSTALLED ? join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'mnemo') : '.data';

/** A whole number from `min` to `max` written in decimal digits ("8000"; not "8e3", "0x1f", "1.5" or "abc"). */
const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.string().transform((text, ctx) => {
    const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
    if (value >= min && value <= max) return value;
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    ctx.addIssue({ code: 'custom', message: `must be a whole number, ${range}` });
    return z.NEVER;
  });

/** `*` (any origin) or exact origins (`https://app.example.com`, `http://localhost:5173`), each normalised as browsers send it. */
export type CorsOrigins = '*' | readonly string[];

function parseOrigins(list: string, ctx: z.RefinementCtx<string>): CorsOrigins {
  const entries = list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.includes('*')) {
    if (entries.length === 1) return '*';
    ctx.addIssue({ code: 'custom', message: '`*` (any origin) must be the only entry' });
    return z.NEVER;
  }
  const origins: string[] = [];
  for (const entry of entries) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {}
    if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password || url.pathname !== '/' || url.search || url.hash) {
      ctx.addIssue({
        code: 'custom',
        message: `"${entry}" is not an origin: give scheme, host and port only, e.g. https://app.example.com or http://localhost:5173`,
      });
    } else origins.push(url.origin);
  }
  if (entries.length === 0) ctx.addIssue({ code: 'custom', message: 'no origin given' });
  return origins;
}

export interface RateLimit {
  /** Calls allowed per window. */
  limit: number;
  windowMs: number;
}

const WINDOWS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
};

function parseRateLimit(text: string, ctx: z.RefinementCtx<string>): RateLimit {
  const match = /^\s*(\d+)\s*\/\s*([a-z]+)\s*$/i.exec(text);
  const unit = match?.[2]?.toLowerCase() ?? '';
  const windowMs = Object.hasOwn(WINDOWS, unit) ? WINDOWS[unit] : undefined;
  const limit = match ? Number(match[1]) : 0;
  if (!windowMs || !Number.isSafeInteger(limit) || limit < 1) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text}" is not a rate: give calls per second, minute or hour, e.g. 10/s, 600/min, 20000/h`,
    });
    return z.NEVER;
  }
  return { limit, windowMs };
}

const EnvSchema = z.object({
  PORT: int(0, 65_535).default(8000),
  HOST: z.string().default('127.0.0.1'),
  /** Unset: start the local database (mongod or FerretDB) under MNEMO_DATA_DIR. */
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URI')
    .optional(),
  /** Tenants live beside it in `${MNEMO_DB}_t_<tenant>` (up to 35 more characters): database names end at 63 bytes. */
  MNEMO_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,28}$/, 'must be 1–28 letters, digits, "_" or "-" (a database name)')
    .default('mnemo'),
  MNEMO_DATA_DIR: z
    .string()
    .default(DEFAULT_DATA_DIR)
    .transform((dir) => (isAbsolute(dir) ? dir : resolve(DATA_BASE, dir))),
  /** Set: every /api/v1 and /trpc call needs `Authorization: Bearer <HS256 JWT signed with it>`. */
  MNEMO_AUTH_SECRET: z
    .string()
    .superRefine((secret, ctx) => {
      const problem = secretProblem(secret);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /** Minutes between purges of soft-deleted records; 0 turns the schedule off. */
  MNEMO_PURGE_EVERY: int(0).default(60),
  /** Default retention in days: older messages and sessions inactive that long are deleted by the purge schedule. Unset: forever. */
  MNEMO_RETENTION_DAYS: int(1).optional(),
  /** Messages that get-memory returns when `lastn` is not given. */
  MNEMO_MESSAGE_WINDOW: int(1).default(12),
  /** Seconds a shutdown waits for in-flight requests before closing their connections. */
  MNEMO_SHUTDOWN_TIMEOUT: int(0).default(10),
  /** Largest accepted request body, in bytes (larger → 413). */
  MNEMO_MAX_BODY: int(1).default(5 * 1024 * 1024),
  /** An OpenAI-compatible embeddings endpoint (full URL); unset: search ranks by text alone. */
  MNEMO_EMBEDDINGS_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://api.openai.com/v1/embeddings' })
    .optional(),
  MNEMO_EMBEDDINGS_MODEL: z.string().default('text-embedding-3-small'),
  MNEMO_EMBEDDINGS_API_KEY: z.string().optional(),
  /** The bearer token `mnemo mcp` sends to the server it talks to (its --token wins). */
  MNEMO_TOKEN: z.string().optional(),
  /** An OpenAI-compatible chat-completions endpoint (full URL); set: sessions get progressive summaries, as Zep's. */
  MNEMO_LLM_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://api.openai.com/v1/chat/completions' })
    .optional(),
  MNEMO_LLM_MODEL: z.string().default('gpt-4o-mini'),
  MNEMO_LLM_API_KEY: z.string().optional(),
  /** The model's context window in tokens: longer backlogs are summarised in pieces. */
  MNEMO_LLM_CONTEXT_TOKENS: int(1024).default(8192),
  /** Browser origins allowed to call /trpc and /api (CORS), comma-separated; `*`: any; unset: same origin only. */
  MNEMO_CORS_ORIGINS: z.string().transform(parseOrigins).optional(),
  /** Calls per token subject (the client's address when auth is off) per window, e.g. `600/min`; unset: no limit. */
  MNEMO_RATE_LIMIT: z.string().transform(parseRateLimit).optional(),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
});

export type Config = z.output<typeof EnvSchema>;

/** Every variable, its default and what it does: `mnemo help env` (the README's "Configuration" table says the same). */
export const VARIABLES: Record<keyof Config, [defaultValue: string, meaning: string]> = {
  PORT: ['8000', 'HTTP port (0: a free one)'],
  HOST: ['127.0.0.1', 'HTTP address (0.0.0.0: every interface)'],
  MONGODB_URI: ['unset', 'the MongoDB to use; unset: the local database Mnemo starts itself'],
  MNEMO_DB: ['mnemo', 'database name'],
  MNEMO_DATA_DIR: [
    INSTALLED ? '~/.local/share/mnemo' : '.data',
    'where the local database keeps its files (relative: to the ' + (INSTALLED ? 'working directory)' : 'repository root)'),
  ],
  MNEMO_AUTH_SECRET: ['unset', 'set (32 bytes or more): every /api and tRPC call needs a bearer token signed with it'],
  MNEMO_CORS_ORIGINS: ['unset', 'browser origins allowed to call the APIs, comma-separated, or *; unset: same origin only'],
  MNEMO_RATE_LIMIT: ['unset', 'calls allowed per token subject, e.g. 10/s, 600/min, 20000/h; unset: no limit'],
  MNEMO_PURGE_EVERY: ['60', 'minutes between purges (retention, then soft-deleted records); 0: off'],
  MNEMO_MESSAGE_WINDOW: ['12', 'messages get-memory returns without lastn'],
  MNEMO_RETENTION_DAYS: ['unset', 'keep chat history this many days; unset: forever'],
  MNEMO_MAX_BODY: ['5242880', 'request body limit in bytes (413 above)'],
  MNEMO_SHUTDOWN_TIMEOUT: ['10', 'seconds a shutdown waits for requests in flight'],
  MNEMO_EMBEDDINGS_URL: ['unset', 'an OpenAI-compatible embeddings endpoint (full URL): vector-aware search'],
  MNEMO_EMBEDDINGS_MODEL: ['text-embedding-3-small', 'the model sent to it'],
  MNEMO_EMBEDDINGS_API_KEY: ['unset', 'sent to it as Authorization: Bearer …'],
  MNEMO_TOKEN: ['unset', 'the token `mnemo mcp` sends to the server (--token wins)'],
  MNEMO_LLM_URL: ['unset', 'an OpenAI-compatible chat-completions endpoint (full URL): session summaries'],
  MNEMO_LLM_MODEL: ['gpt-4o-mini', 'the model sent to it'],
  MNEMO_LLM_API_KEY: ['unset', 'sent to it as Authorization: Bearer …'],
  MNEMO_LLM_CONTEXT_TOKENS: ['8192', 'the model’s context in tokens (longer backlogs go in pieces)'],
  LOG_LEVEL: ['info', 'fatal, error, warn, info, debug, trace or silent'],
};

export const ENV_HELP = [
  'Mnemo reads its configuration from these environment variables (an empty value counts as unset):',
  '',
  ...Object.entries(VARIABLES).map(([name, [value, meaning]]) => `  ${name.padEnd(26)}${`[${value}]`.padEnd(26)}${meaning}`),
].join('\n');
/** The variables, as strings (what `process.env` or a test passes in). */
export type EnvInput = Partial<Record<keyof Config, string>>;

/** Variables whose value is never repeated in a message (a URI's password is masked instead). */
const SECRETS = new Set(['MNEMO_AUTH_SECRET', 'MNEMO_EMBEDDINGS_API_KEY', 'MNEMO_LLM_API_KEY', 'MNEMO_TOKEN']);

/** `NAME="value"` as a message shows it: a secret by its name only, a URI without its password. */
function shown(name: string, value: string | undefined): string {
  if (value === undefined) return name;
  if (SECRETS.has(name)) return name;
  return `${name}=${JSON.stringify(value.replace(/^(\w[\w+.-]*:\/\/[^:/@]*:)[^@/]*@/, '$1***@'))}`;
}

/** Every problem of a configuration, one line each: `PORT="abc": must be a whole number, from 0 to 65535`. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

/** Parses an environment object; throws a ConfigError listing every problem. */
export function parseEnv(source: Record<string, string | undefined>): Config {
  const present = Object.fromEntries(Object.keys(EnvSchema.shape).flatMap((key) => (source[key] ? [[key, source[key]]] : [])));
  const result = EnvSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '');
        return `${shown(name, present[name])}: ${issue.message}`;
      }),
    );
  }
  return Object.freeze(result.data);
}

/** The core's models from the configuration: embeddings (search) and the summarizer's chat model, each only when its URL is set. */
export function modelsConfig(config: Config): Pick<CoreConfig, 'embeddings' | 'summaries'> {
  return {
    embeddings: config.MNEMO_EMBEDDINGS_URL
      ? { url: config.MNEMO_EMBEDDINGS_URL, model: config.MNEMO_EMBEDDINGS_MODEL, apiKey: config.MNEMO_EMBEDDINGS_API_KEY }
      : undefined,
    summaries: config.MNEMO_LLM_URL
      ? {
          url: config.MNEMO_LLM_URL,
          model: config.MNEMO_LLM_MODEL,
          apiKey: config.MNEMO_LLM_API_KEY,
          contextTokens: config.MNEMO_LLM_CONTEXT_TOKENS,
        }
      : undefined,
  };
}
