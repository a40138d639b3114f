/**
 * The session summary in the web UI, in Chromium against the app started the way `pnpm start` does,
 * with a fake OpenAI-compatible model (MNEMO_LLM_URL) and a window of 4: no panel while the session
 * has no summary; once the window fills, the summary appears above the conversation live, saying
 * which messages it covers and when it was made; axe finds nothing. Saves test-artifacts/summary.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fakeSummary, startFakeLlm } from '@mnemo/core/fake-llm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { errorsIn, eventually, expectNoAxeViolations, launchChromium, messageTexts, newPage } from './browser';
import { ROOT, type RunningServer, startServer } from './server';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri')

const SCREENSHOT = join(ROOT, 'test-artifacts/summary.png');
let llm: Awaited<ReturnType<typeof startFakeLlm>>;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  llm = await startFakeLlm();
  server = await startServer(inject('mongoUri'), { env: { MNEMO_LLM_URL: llm.url, MNEMO_MESSAGE_WINDOW: '4' } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await llm?.close();
});

const post = (sessionId: string, contents: string[]) =>
  fetch(`${server.url}/api/v1/sessions/${sessionId}/memory`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: contents.map((content) => ({ role: 'user', content })) }),
  });

it('shows the summary above the conversation once there is one, live, with what it covers and when', async () => {
  await post('trip', ['Planning a trip to Lisbon', 'In May']);
  const page = await newPage(browser);
  await page.goto(`${server.url}/#/sessions/trip`);
  await eventually(
    () => messageTexts(page),
    (texts) => expect(texts).toEqual(['Planning a trip to Lisbon', 'In May']),
  );
  const panel = page.getByRole('group', { name: 'Summary of the conversation' });
  expect(await panel.count()).toBe(0);

  await post('trip', ['Two people', 'A hotel near the river']);
  await eventually(
    () => panel.locator('p').textContent(),
    (text) => expect(text).toBe(fakeSummary('', ['user: Planning a trip to Lisbon', 'user: In May'])),
  );
  expect(await panel.locator('summary').textContent()).toMatch(/Summary\s*· covers messages 1–2 · made just now/);
  expect(await panel.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
  // The conversation itself still shows every message.
  expect(await messageTexts(page)).toEqual(['Planning a trip to Lisbon', 'In May', 'Two people', 'A hotel near the river']);
  await expectNoAxeViolations(page);
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });
  expect(errorsIn(page)).toEqual([]);
});
