/**
 * README, "Tokens for browsers", run as written: the app's backend creates the Mnemo user with an admin token and,
 * after its own login, mints a short-lived user token (`createUserToken`); the browser's `MnemoProvider` gets it
 * through `getToken`, keeps it until shortly before its `exp`, and gets a new one on a 401 (retrying once).
 * Whether the server limits a user token to its user's data is tested with the server; here only ada's own data
 * is read, so these hold either way.
 */
import { createMnemoClient } from '@mnemo/client';
import { createUserToken } from '@mnemo/client/tokens';
import { createAdminToken } from '@mnemo/core/auth-tokens';
import { act, waitFor } from '@testing-library/react';
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { useMemory, useUser } from './index';
import { renderMnemoHook, uniqueId, useTestServer } from './test/harness';

const MNEMO_AUTH_SECRET = 'tokens-for-browsers-secret-012345';
const server = useTestServer({ authSecret: MNEMO_AUTH_SECRET });

/** The app's backend, as in the README (env: MNEMO_URL, MNEMO_TOKEN = `pnpm mnemo token`, MNEMO_AUTH_SECRET). */
function appBackend(env: { MNEMO_URL: string; MNEMO_TOKEN: string; MNEMO_AUTH_SECRET: string }, ttl: string | number = '15m') {
  const mnemo = createMnemoClient({ url: env.MNEMO_URL, apiKey: env.MNEMO_TOKEN });

  /** At sign-up: the app's user becomes a Mnemo user (same id). */
  async function onSignUp(userId: string) {
    await mnemo.user.add.mutate({ userId });
  }

  /** POST /api/mnemo-token, for a logged-in user (`userId` comes from the app's own session). */
  async function mnemoToken(request: Request, userId: string | undefined): Promise<Response> {
    if (request.method !== 'POST' || !userId) return new Response('log in first', { status: 401 });
    const token = await createUserToken({ secret: env.MNEMO_AUTH_SECRET, userId, ttl });
    return Response.json({ token });
  }
  return { mnemo, onSignUp, mnemoToken };
}

/** The browser's `getToken`, as in the README; `fetchApp` stands for the page's `fetch` to its own backend. */
const getTokenVia = (fetchApp: typeof fetch) => async () => {
  const response = await fetchApp('/api/mnemo-token', { method: 'POST' });
  if (!response.ok) throw new Error(`could not get a Mnemo token: ${response.status}`);
  const { token } = (await response.json()) as { token: string };
  return token;
};

/** A browser logged in as `userId` on the app, whose backend is `backend`. */
function browserOf(backend: ReturnType<typeof appBackend>, userId: string) {
  const fetchApp = vi.fn((path: string, init?: RequestInit) => backend.mnemoToken(new Request(`http://app.test${path}`, init), userId));
  return { getToken: vi.fn(getTokenVia(fetchApp as unknown as typeof fetch)), fetchApp };
}

/** A fetch to Mnemo that notes the token of every request and the status it got. */
function recordingFetch() {
  const sent: { token: ReturnType<typeof decodeJwt> & { raw: string }; status: number; at: number }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const raw = new Headers(init?.headers).get('authorization')!.replace(/^Bearer /, '');
    const response = await globalThis.fetch(input, init);
    sent.push({ token: { ...decodeJwt(raw), raw }, status: response.status, at: Date.now() / 1000 });
    return response;
  };
  return { fetch, sent };
}

let env: Parameters<typeof appBackend>[0];
beforeAll(async () => {
  env = { MNEMO_URL: server().url, MNEMO_TOKEN: await createAdminToken({ secret: MNEMO_AUTH_SECRET }), MNEMO_AUTH_SECRET };
});

describe('tokens for browsers', () => {
  it('the provider sends the user token from getToken, and asks for one once for many requests', async () => {
    const backend = appBackend(env);
    const ada = uniqueId('ada');
    await backend.onSignUp(ada);
    const browser = browserOf(backend, ada);
    const mnemo = recordingFetch();
    const { result } = renderMnemoHook(() => ({ user: useUser(ada), memory: useMemory(`${ada}-chat`) }), {
      url: env.MNEMO_URL,
      getToken: browser.getToken,
      fetch: mnemo.fetch,
    });
    await waitFor(() => expect(result.current.user.data).toMatchObject({ userId: ada }));
    await act(() => result.current.user.refetch());
    expect(browser.getToken).toHaveBeenCalledTimes(1);
    expect(mnemo.sent.length).toBeGreaterThanOrEqual(2);
    for (const { token, status } of mnemo.sent) {
      expect(status).toBe(200);
      expect(token).toMatchObject({ scope: 'user', sub: ada, exp: token.iat! + 900 });
    }
  });

  it('asks for a new token shortly before the current one expires, so no request goes out with an expired one', async () => {
    // 8 s tokens: replaced a quarter of their life (2 s) before exp, which leaves a busy machine time
    // to send each request before its token expires.
    const backend = appBackend(env, 8);
    const ada = uniqueId('ada');
    await backend.onSignUp(ada);
    const browser = browserOf(backend, ada);
    const mnemo = recordingFetch();
    const { result } = renderMnemoHook(() => useUser(ada), { url: env.MNEMO_URL, getToken: browser.getToken, fetch: mnemo.fetch });
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    await act(() => result.current.refetch());
    expect(browser.getToken).toHaveBeenCalledTimes(1);

    const first = mnemo.sent[0]!.token;
    await new Promise((resolve) => setTimeout(resolve, first.exp! * 1000 - 2000 - Date.now() + 50)); // past exp − 2 s
    await act(() => result.current.refetch());
    expect(result.current.isSuccess).toBe(true);
    expect(browser.getToken).toHaveBeenCalledTimes(2);
    const last = mnemo.sent.at(-1)!;
    expect(last.token.raw).not.toBe(first.raw);
    expect(last.token.exp).toBeGreaterThan(first.exp!);
    expect(mnemo.sent.every(({ status, token, at }) => status === 200 && at < token.exp!)).toBe(true);
  });

  it('on a 401 gets a new token and retries the request once', async () => {
    // The first token is refused (signed with a secret the server no longer has, as after a rotation).
    const stale = appBackend({ ...env, MNEMO_AUTH_SECRET: 'rotated-away-0123456789abcdef01234' });
    const backend = appBackend(env);
    const ada = uniqueId('ada');
    await backend.onSignUp(ada);
    let calls = 0;
    const getToken = vi.fn(() => (++calls === 1 ? browserOf(stale, ada) : browserOf(backend, ada)).getToken());
    const mnemo = recordingFetch();
    const { result } = renderMnemoHook(() => useUser(ada), { url: env.MNEMO_URL, getToken, fetch: mnemo.fetch });
    await waitFor(() => expect(result.current.data).toMatchObject({ userId: ada }));
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(mnemo.sent.map((s) => s.status)).toEqual([401, 200]);
    expect(mnemo.sent[0]!.token.raw).not.toBe(mnemo.sent[1]!.token.raw);
  });

  it('a request that is still refused after the retry fails as UNAUTHORIZED (no loop)', async () => {
    const stale = appBackend({ ...env, MNEMO_AUTH_SECRET: 'rotated-away-0123456789abcdef01234' });
    const ada = uniqueId('ada');
    const browser = browserOf(stale, ada);
    const mnemo = recordingFetch();
    const { result } = renderMnemoHook(() => useUser(ada), { url: env.MNEMO_URL, getToken: browser.getToken, fetch: mnemo.fetch });
    await waitFor(() => expect(result.current.isError).toBe(true));
    expect(result.current.error?.data?.code).toBe('UNAUTHORIZED');
    expect(browser.getToken).toHaveBeenCalledTimes(2);
    expect(mnemo.sent.map((s) => s.status)).toEqual([401, 401]);
  });

  it('live updates connect with the token from getToken', async () => {
    const backend = appBackend(env);
    const ada = uniqueId('ada');
    await backend.onSignUp(ada);
    const sessionId = `${ada}-chat`;
    await backend.mnemo.session.add.mutate({ sessionId, userId: ada });
    const browser = browserOf(backend, ada);
    const { result } = renderMnemoHook(() => useMemory(sessionId, { live: true }), { url: env.MNEMO_URL, getToken: browser.getToken });
    await waitFor(() => expect(result.current.isSuccess).toBe(true));
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the subscription connect
    await backend.mnemo.memory.add.mutate({ sessionId, messages: [{ role: 'assistant', content: 'from the backend' }] });
    await waitFor(() => expect(result.current.data?.messages.map((m) => m.content)).toEqual(['from the backend']));
    expect(browser.getToken).toHaveBeenCalledTimes(1);
  });
});
