/** Configuration parsing: defaults, coercion, empty values, and every problem reported at once. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, modelsConfig, parseEnv, REPO_ROOT } from './env';

describe('parseEnv', () => {
  it('has the documented defaults; the data dir is <repo>/.data whatever the working directory', () => {
    expect(parseEnv({})).toEqual({
      PORT: 8000,
      HOST: '127.0.0.1',
      MNEMO_DB: 'mnemo',
      MNEMO_DATA_DIR: join(REPO_ROOT, '.data'),
      MNEMO_PURGE_EVERY: 60,
      MNEMO_MESSAGE_WINDOW: 12,
      MNEMO_SHUTDOWN_TIMEOUT: 10,
      MNEMO_MAX_BODY: 5 * 1024 * 1024,
      MNEMO_EMBEDDINGS_MODEL: 'text-embedding-3-small',
      MNEMO_LLM_MODEL: 'gpt-4o-mini',
      MNEMO_LLM_CONTEXT_TOKENS: 8192,
      LOG_LEVEL: 'info',
    });
    expect(existsSync(join(REPO_ROOT, 'pnpm-workspace.yaml'))).toBe(true);
  });

  it('coerces numbers, resolves relative data dirs against the repository root, and treats empty values as unset', () => {
    const config = parseEnv({
      PORT: '9000',
      MONGODB_URI: 'mongodb://db.example:27017/?replicaSet=rs0',
      MNEMO_DATA_DIR: 'var/mnemo',
      MNEMO_AUTH_SECRET: '',
      MNEMO_PURGE_EVERY: '0',
      LOG_LEVEL: 'warn',
      UNRELATED: 'ignored',
    });
    expect(config).toMatchObject({ PORT: 9000, MNEMO_DATA_DIR: join(REPO_ROOT, 'var/mnemo'), MNEMO_PURGE_EVERY: 0, LOG_LEVEL: 'warn' });
    expect(config.MNEMO_AUTH_SECRET).toBeUndefined();
    expect(parseEnv({ MNEMO_DATA_DIR: '/srv/mnemo' }).MNEMO_DATA_DIR).toBe('/srv/mnemo');
  });

  it('reports every problem at once', () => {
    const attempt = () =>
      parseEnv({ PORT: 'eighty', MONGODB_URI: 'postgres://x', MNEMO_MAX_BODY: '-1', MNEMO_EMBEDDINGS_URL: 'nowhere', LOG_LEVEL: 'loud' });
    expect(attempt).toThrow(ConfigError);
    const message = (() => {
      try {
        attempt();
      } catch (error) {
        return (error as Error).message;
      }
    })();
    for (const name of ['PORT', 'MONGODB_URI', 'MNEMO_MAX_BODY', 'MNEMO_EMBEDDINGS_URL', 'LOG_LEVEL']) expect(message).toContain(name);
  });

  it('reads CORS origins (normalised as browsers send them) and a rate per second, minute or hour', () => {
    expect(parseEnv({ MNEMO_CORS_ORIGINS: 'https://App.example.com/, http://localhost:5173' }).MNEMO_CORS_ORIGINS).toEqual([
      'https://app.example.com',
      'http://localhost:5173',
    ]);
    expect(parseEnv({ MNEMO_CORS_ORIGINS: ' * ' }).MNEMO_CORS_ORIGINS).toBe('*');
    expect(parseEnv({ MNEMO_RATE_LIMIT: '600/min' }).MNEMO_RATE_LIMIT).toEqual({ limit: 600, windowMs: 60_000 });
    expect(parseEnv({ MNEMO_RATE_LIMIT: '10 / s' }).MNEMO_RATE_LIMIT).toEqual({ limit: 10, windowMs: 1000 });
    expect(parseEnv({ MNEMO_RATE_LIMIT: '20000/h' }).MNEMO_RATE_LIMIT).toEqual({ limit: 20_000, windowMs: 3_600_000 });
    for (const [name, value, says] of [
      ['MNEMO_CORS_ORIGINS', 'app.example.com', 'is not an origin'],
      ['MNEMO_CORS_ORIGINS', 'https://app.example.com/path', 'is not an origin'],
      ['MNEMO_CORS_ORIGINS', '*, https://app.example.com', 'must be the only entry'],
      ['MNEMO_CORS_ORIGINS', ',', 'no origin given'],
      ['MNEMO_RATE_LIMIT', '600', 'is not a rate'],
      ['MNEMO_RATE_LIMIT', '0/min', 'is not a rate'],
      ['MNEMO_RATE_LIMIT', '5/day', 'is not a rate'],
    ] as const) {
      expect(() => parseEnv({ [name]: value }), value).toThrow(new RegExp(`${name}=[^]*${says}`));
    }
  });

  it('configures summaries only with MNEMO_LLM_URL, refuses a bad one, and never shows the key', () => {
    expect(modelsConfig(parseEnv({})).summaries).toBeUndefined();
    const config = parseEnv({ MNEMO_LLM_URL: 'http://127.0.0.1:11434/v1/chat/completions', MNEMO_LLM_API_KEY: 'sk-secret' });
    expect(modelsConfig(config).summaries).toEqual({
      url: 'http://127.0.0.1:11434/v1/chat/completions',
      model: 'gpt-4o-mini',
      apiKey: 'sk-secret',
      contextTokens: 8192,
    });
    const bad = () => parseEnv({ MNEMO_LLM_URL: 'ollama', MNEMO_LLM_CONTEXT_TOKENS: '100', MNEMO_LLM_API_KEY: 'sk-secret' });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (error) {
      const { problems } = error as ConfigError;
      expect(problems).toEqual([
        expect.stringMatching(/^MNEMO_LLM_URL="ollama": must be an http\(s\) URL/),
        expect.stringMatching(/^MNEMO_LLM_CONTEXT_TOKENS="100"/),
      ]);
      expect(problems.join()).not.toContain('sk-secret');
    }
  });
});
