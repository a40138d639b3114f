/** The HTTP host around the APIs: /healthz, headers, request ids, 5xx handling and the web UI. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type Core, createCore } from '@mnemo/core';
import { pino } from 'pino';
import { describe, expect, inject, it } from 'vitest';
import { createApp } from './app';
import { parseEnv } from './env';
import { httpClient } from './test/http';
import { useTestServer } from './testing';

const server = useTestServer();

describe('/healthz', () => {
  it('answers GET and HEAD with 200 `.` and the Zep version header, also as //healthz (zep-js)', async () => {
    for (const path of ['/healthz', '//healthz', '/healthz/']) {
      const response = await fetch(`${server().url}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('.');
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(response.headers.get('x-zep-version')).toMatch(/^0\.27\.2-mnemo \(.+\)$/);
    }
    const head = await fetch(`${server().url}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('x-zep-version')).toMatch(/^0\.27\.2-/);
  });
});

describe('headers', () => {
  it('gives every response a request id, keeping one the caller sent', async () => {
    const http = httpClient(server().url);
    expect((await http('GET', '/api/v1/sessions')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const mine = `req-${randomUUID()}`;
    expect((await http('GET', '/nowhere', undefined, { 'X-Request-Id': mine })).headers.get('x-request-id')).toBe(mine);
  });
});

/** A server whose core is broken as `breakIt` says; its error log lines are collected. */
async function brokenServer(breakIt: (core: Core) => Promise<void>) {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }));
  const core = createCore({ mongoUri: inject('mongoUri'), dbName: `test_${randomUUID().slice(0, 8)}` });
  const app = createApp({ config: parseEnv({}), core, logger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  await breakIt(core);
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, lines, close: () => app.close() };
}

const trpcGet = (url: string) => fetch(`${url}/trpc/session.get?input=${encodeURIComponent(JSON.stringify({ json: { sessionId: 'x' } }))}`);

describe('internal errors', () => {
  it('answer 500 JSON that names only the request id, and are logged with their stack', async () => {
    const broken = await brokenServer(async (core) => {
      core.sessions.get = async () => {
        throw new Error('secret detail from /srv/mnemo/internals');
      };
    });
    try {
      const reply = await httpClient(broken.url)('GET', '/api/v1/sessions/x');
      expect(reply.status).toBe(500);
      expect(reply.json).toEqual({ message: `internal server error (request ${reply.headers.get('x-request-id')})` });
      expect(reply.headers.get('x-zep-version')).toMatch(/^0\.27\.2-/);
      const trpc = await trpcGet(broken.url);
      expect(trpc.status).toBe(500);
      // Nothing of the cause reaches the client: no stack, no message; the request id does.
      const body = (await trpc.json()) as { error: { json: { message: string; data: Record<string, unknown> } } };
      expect(body.error.json.message).toBe(`internal server error (request ${trpc.headers.get('x-request-id')})`);
      expect(body.error.json.data).not.toHaveProperty('stack');
      expect(JSON.stringify(body)).not.toMatch(/secret|internals/);

      const logged = broken.lines.map((line) => JSON.parse(line) as { level: number; reqId?: string; err?: { stack?: string } });
      expect(logged.length).toBeGreaterThanOrEqual(2);
      for (const entry of logged) {
        expect(entry.level).toBe(50);
        expect(entry.reqId).toEqual(expect.any(String));
        expect(entry.err?.stack).toMatch(/secret detail[\s\S]*\n\s+at /);
      }
    } finally {
      await broken.close();
    }
  });

  it('a database that cannot be reached: 503 with a clear message, within seconds', async () => {
    const broken = await brokenServer((core) => core.close());
    try {
      const started = Date.now();
      const reply = await httpClient(broken.url)('GET', '/api/v1/sessions/x');
      expect(reply.status).toBe(503);
      expect(reply.json).toEqual({ message: 'the database is unavailable; retry shortly' });
      const trpc = await trpcGet(broken.url);
      expect(trpc.status).toBe(503);
      expect(await trpc.json()).toMatchObject({ error: { json: { message: 'the database is unavailable; retry shortly' } } });
      // Seconds at most (3 s is the driver's server selection timeout); hanging would mean its default, 30 s, or forever.
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await broken.close();
    }
  });
});

describe('the web UI', () => {
  it('is served from its dist folder with a single-page-app fallback, leaving API paths alone', async () => {
    const webDir = mkdtempSync(join(tmpdir(), 'mnemo-web-'));
    writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>Mnemo</title>');
    writeFileSync(join(webDir, 'app.js'), 'console.log(1)');
    const core = createCore({ mongoUri: inject('mongoUri'), dbName: `test_${randomUUID().slice(0, 8)}` });
    const app = createApp({ config: parseEnv({ LOG_LEVEL: 'silent' }), core, webDir });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const http = httpClient(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
    try {
      expect((await http('GET', '/')).text).toContain('<title>Mnemo</title>');
      expect((await http('GET', '/app.js')).text).toBe('console.log(1)');
      const deepLink = await http('GET', '/sessions/abc');
      expect(deepLink.status).toBe(200);
      expect(deepLink.text).toContain('<title>Mnemo</title>');
      expect(deepLink.headers.get('x-zep-version')).toMatch(/^0\.27\.2-/);
      const api = await http('GET', '/api/v1/no-such-route');
      expect(api.status).toBe(404);
      expect(api.json).toEqual({ message: expect.any(String) });
      expect((await http('POST', '/somewhere', {})).status).toBe(404);
      expect((await http('GET', '/healthz')).text).toBe('.');
    } finally {
      await app.close();
      await core.close();
      rmSync(webDir, { recursive: true, force: true });
    }
  });
});
