/**
 * Accessibility and error states (issue 15, items 9 and 10), in Chromium against the app started the
 * way `pnpm start` does: axe-core (injected into the page) finds nothing on any page; Enter during IME
 * composition does not send; the skip link reaches the message box; a dead server says so promptly
 * and Retry recovers; a server that needs an API key asks for one.
 */
import { createCore } from '@mnemo/core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectNoAxeViolations, launchChromium, messageTexts, newPage } from './browser';
import { apiToken, type RunningServer, startServer } from './server';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri')

const SECRET = 'e2e-accessibility-secret-01234567';

let server: RunningServer;
let authServer: RunningServer;
let browser: Browser;

async function seed(target: RunningServer) {
  const core = createCore({ mongoUri: inject('mongoUri'), dbName: target.dbName });
  try {
    await core.init();
    await core.users.add({ userId: 'ada', firstName: 'Ada', email: 'ada@example.com' });
    await core.sessions.add({ sessionId: 'tea', userId: 'ada', metadata: { topic: 'tea' } });
    await core.memory.add({
      sessionId: 'tea',
      messages: [
        { role: 'user', content: 'Which tea goes with lemon?' },
        { role: 'assistant', content: 'Earl Grey, or a plain black tea.' },
        { role: 'system', content: 'Keep answers short.' },
      ],
    });
  } finally {
    await core.close();
  }
}

beforeAll(async () => {
  [server, authServer] = await Promise.all([startServer(inject('mongoUri')), startServer(inject('mongoUri'), { authSecret: SECRET })]);
  await Promise.all([seed(server), seed(authServer)]);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([server?.stop(), authServer?.stop()]);
});

describe('accessibility', () => {
  it('axe finds no violations on the sessions list, a chat, the users page and an error state', async () => {
    const page = await newPage(browser);
    try {
      await page.goto(`${server.url}/#/sessions`);
      await page.locator('nav[aria-label="Sessions"] .session-id', { hasText: 'tea' }).waitFor();
      await expectNoAxeViolations(page);

      await page.goto(`${server.url}/#/sessions/tea`);
      await page.locator('main').getByText('Keep answers short.').waitFor(); // in the chat (the sessions list previews it too)
      await page.getByLabel('Session metadata').waitFor();
      await expectNoAxeViolations(page);

      await page.goto(`${server.url}/#/users`);
      await page.getByRole('cell', { name: 'ada', exact: true }).waitFor();
      await expectNoAxeViolations(page);

      await page.goto(`${server.url}/#/sessions/no-such-session`);
      await page.getByRole('alert').filter({ hasText: 'HTTP 404' }).waitFor();
      await expectNoAxeViolations(page);
    } finally {
      await page.close();
    }
  });

  it('the skip link is the first Tab stop and lands in the message box; keyboard focus is visible', async () => {
    const page = await newPage(browser);
    try {
      await page.goto(`${server.url}/#/sessions/tea`);
      await page.locator('main').getByText('Keep answers short.').waitFor(); // in the chat (the sessions list previews it too)
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to main content');
      await page.keyboard.press('Enter');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('composer-text');
      expect(page.url()).toMatch(/#\/sessions\/tea$/); // the route is untouched

      // Tab onwards to the Send button: its focus ring is drawn.
      await page.getByLabel('Message', { exact: true }).fill('x');
      await page.keyboard.press('Tab');
      const outline = await page.evaluate(() => {
        const style = getComputedStyle(document.activeElement!);
        return { text: document.activeElement!.textContent, style: style.outlineStyle, width: style.outlineWidth };
      });
      expect(outline).toEqual({ text: 'Send', style: 'solid', width: '2px' });
    } finally {
      await page.close();
    }
  });

  it('Enter during IME composition does not send; Enter after it does', async () => {
    const page = await newPage(browser);
    try {
      await page.goto(`${server.url}/#/sessions/tea`);
      await page.locator('main').getByText('Keep answers short.').waitFor(); // in the chat (the sessions list previews it too)
      const before = await messageTexts(page);
      const box = page.getByLabel('Message', { exact: true });
      await box.fill('お茶');
      for (const init of [{ isComposing: true }, { keyCode: 229 }]) {
        await page.evaluate((extra) => {
          const init = { key: 'Enter', code: 'Enter', bubbles: true, cancelable: true, ...extra };
          document.getElementById('composer-text')!.dispatchEvent(new KeyboardEvent('keydown', init));
        }, init);
      }
      await page.waitForTimeout(500);
      expect(await messageTexts(page)).toEqual(before);
      expect(await box.inputValue()).toBe('お茶');

      await box.press('Enter');
      await page.locator('li.message .content', { hasText: 'お茶' }).waitFor();
      expect(await box.inputValue()).toBe('');
    } finally {
      await page.close();
    }
  });
});

describe('error states', () => {
  it('an unreachable server is reported after one quick retry, with its URL and a Retry that works once it is back', async () => {
    const page = await newPage(browser);
    try {
      // Every API call fails as it would against a closed port; the page itself still loads.
      const down = (url: URL) => url.pathname.startsWith('/trpc');
      const attempts = new Map<string, number>();
      await page.route(down, (route) => {
        const call = route.request().url();
        attempts.set(call, (attempts.get(call) ?? 0) + 1);
        return route.abort('connectionrefused');
      });
      await page.goto(`${server.url}/#/sessions`);
      const banner = page.getByRole('region', { name: 'Connection problem' });
      await banner.getByText('Mnemo is not reachable').waitFor();
      // Reported after one retry of each call, not after the usual retries with backoff (seconds more).
      expect(Math.max(...attempts.values())).toBeLessThanOrEqual(2);
      expect(await banner.textContent()).toContain(server.url);
      // Never the raw "Failed to fetch" alone: each failed part of the page says what it means.
      const alerts = await page.getByRole('alert').allTextContents();
      expect(alerts.length).toBeGreaterThan(1);
      for (const text of alerts) expect(text).toContain('not reachable');
      await expectNoAxeViolations(page);

      // Still down: Retry fails again and the banner stays.
      await banner.getByRole('button', { name: 'Retry' }).click();
      await banner.getByRole('button', { name: 'Retry' }).waitFor();
      expect(await banner.isVisible()).toBe(true);

      // Back: Retry reloads what failed, and the banner goes.
      await page.unroute(down);
      await banner.getByRole('button', { name: 'Retry' }).click();
      await page.locator('nav[aria-label="Sessions"] .session-id', { hasText: 'tea' }).waitFor();
      await banner.waitFor({ state: 'detached' });
    } finally {
      await page.close();
    }
  });

  it('a 401 opens the API key form with an explanation; a valid key loads the sessions', async () => {
    const page = await newPage(browser);
    try {
      await page.goto(authServer.url);
      await page.getByRole('alert').filter({ hasText: 'This Mnemo server needs an API key' }).waitFor();
      const input = page.getByLabel('API key');
      await input.waitFor();
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('api-key');
      expect(await input.getAttribute('aria-describedby')).toBe('problem-text');
      await expectNoAxeViolations(page);

      // A wrong key: asked again, saying so.
      await input.fill('not-a-token');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('alert').filter({ hasText: 'The server refused this API key' }).waitFor();

      await page.getByLabel('API key').fill(await apiToken(SECRET));
      await page.getByRole('button', { name: 'Save' }).click();
      await page.locator('nav[aria-label="Sessions"] .session-id', { hasText: 'tea' }).waitFor();
      expect(await page.getByRole('region', { name: 'Sign-in needed' }).count()).toBe(0);
      await page.getByRole('button', { name: 'API key ✓' }).waitFor(); // the form closed again
    } finally {
      await page.close();
    }
  });
});
