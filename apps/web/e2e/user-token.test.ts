/**
 * The UI signed in with a user token (issue 13), in Chromium against a server with auth on: only
 * that user's sessions, no admin pages; another user's session reads as not found.
 */
import { createCore } from '@mnemo/core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium, newPage } from './browser';
import { apiToken, type RunningServer, startServer } from './server';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri')

const SECRET = 'e2e-user-token-secret-0123456789a';
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  server = await startServer(inject('mongoUri'), { authSecret: SECRET });
  const core = createCore({ mongoUri: inject('mongoUri'), dbName: server.dbName });
  try {
    await core.init();
    for (const userId of ['ada', 'bob']) await core.users.add({ userId });
    await core.sessions.add({ sessionId: 'ada-tea', userId: 'ada', metadata: { topic: 'tea' } });
    await core.memory.add({ sessionId: 'ada-tea', messages: [{ role: 'user', content: 'Earl Grey, please' }] });
    await core.sessions.add({ sessionId: 'bob-secret', userId: 'bob' });
  } finally {
    await core.close();
  }
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the UI with a user token', () => {
  it('shows only that user’s sessions and hides the admin pages', async () => {
    const token = await apiToken(SECRET, 'ada');
    const page = await newPage(browser);
    await page.goto(server.url);
    // The server needs a key and this page has none: the UI asks for it (the form opens on the first 401).
    await page.getByLabel('API key').fill(token);
    await page.getByRole('button', { name: 'Save' }).click();

    await page.getByText('Your sessions, ada').waitFor();
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
    const ids = page.locator('nav[aria-label="Sessions"] .session-id');
    await ids.first().waitFor();
    expect(await ids.allTextContents()).toEqual(['ada-tea']);

    // A new session is hers, whatever the form could have said.
    await page.getByText('New session').click();
    expect(await page.locator('#new-session-user').count()).toBe(0);
    await page.getByLabel('Session ID').fill('ada-new');
    await page.getByRole('button', { name: 'Create session' }).click();
    await page.getByText('User ada').waitFor();

    // Bob's session is not there for her, exactly as a session that does not exist.
    await page.goto(`${server.url}/#/sessions/bob-secret`);
    await page.getByRole('alert').filter({ hasText: 'HTTP 404' }).waitFor();
    await page.close();
  });
});
