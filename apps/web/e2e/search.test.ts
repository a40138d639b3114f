/**
 * Search (issue 15, item 3), in Chromium against the app started the way `pnpm start` does: within
 * the open session (chat header) and across a user's sessions (sidebar), terms marked, results
 * linking to their message; a metadata filter narrows both; a bad one shows the server's answer;
 * the results fit a phone; axe finds nothing with them open. Saves test-artifacts/search.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createCore } from '@mnemo/core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, expectNoAxeViolations, launchChromium, newPage, PHONE } from './browser';
import { apiToken, ROOT, type RunningServer, startServer } from './server';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri')

const SCREENSHOT = join(ROOT, 'test-artifacts/search.png');

const SECRET = 'e2e-search-secret-0123456789abcdef';
let server: RunningServer;
/** The same data behind auth, for a user token. */
let authServer: RunningServer;
let browser: Browser;
/** Seeded message uuids by their text. */
const uuids = new Map<string, string>();

const SESSIONS: Record<string, { userId: string; messages: [role: string, content: string, kind: string][] }> = {
  garden: {
    userId: 'ada',
    messages: [
      ['user', 'How deep should I plant Tomatoes in spring?', 'question'],
      ['assistant', 'Plant tomatoes deep, up to the first leaves: they root along the buried stem.', 'answer'],
      ['user', 'And what about compost for the beds?', 'question'],
      ['assistant', 'Mix two inches of compost into the soil before planting anything.', 'answer'],
    ],
  },
  kitchen: {
    userId: 'ada',
    messages: [
      ['user', 'A quick sauce with fresh tomatoes?', 'question'],
      ['assistant', 'Simmer chopped tomatoes with garlic and olive oil for twenty minutes.', 'answer'],
      ['user', 'Which bread goes with it?', 'question'],
    ],
  },
  notes: { userId: 'ada', messages: [['user', 'Remember to water the basil.', 'note']] },
  farm: { userId: 'bob', messages: [['user', 'Tomatoes everywhere on the farm this year.', 'note']] },
};

async function seed(target: RunningServer, record: boolean) {
  const core = createCore({ mongoUri: inject('mongoUri'), dbName: target.dbName });
  try {
    await core.init();
    for (const userId of ['ada', 'bob']) await core.users.add({ userId });
    for (const [sessionId, { userId, messages }] of Object.entries(SESSIONS)) {
      await core.sessions.add({ sessionId, userId });
      const memory = await core.memory.add({
        sessionId,
        messages: messages.map(([role, content, kind]) => ({ role, content, metadata: { kind } })),
      });
      if (record) for (const m of memory.messages) uuids.set(m.content, m.uuid);
    }
  } finally {
    await core.close();
  }
}

beforeAll(async () => {
  [server, authServer] = await Promise.all([startServer(inject('mongoUri')), startServer(inject('mongoUri'), { authSecret: SECRET })]);
  await Promise.all([seed(server, true), seed(authServer, false)]); // the uuids the tests check are `server`'s
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([server?.stop(), authServer?.stop()]);
});

const sessionBox = (page: Page) => page.getByRole('searchbox', { name: 'Search this session' });
const sessionResults = (page: Page) => page.getByRole('region', { name: 'Results: Search this session' });
const userBox = (page: Page, userId: string) => page.getByRole('searchbox', { name: `Search ${userId}’s sessions` });
const userResults = (page: Page, userId: string) => page.getByRole('region', { name: `Results: Search ${userId}’s sessions` });
/** Each result's snippet text, and the words marked in it. */
const resultsOf = (region: ReturnType<typeof sessionResults>) =>
  region.locator('a.search-result').evaluateAll((links) =>
    links.map((a) => ({
      snippet: a.querySelector('.snippet')!.textContent,
      marked: [...a.querySelectorAll('mark')].map((m) => m.textContent),
      href: a.getAttribute('href'),
    })),
  );
/** The hash of a message link. */
const linkTo = (sessionId: string, content: string, q: string, userId?: string) =>
  `#/sessions/${sessionId}?${userId ? `user=${userId}&` : ''}message=${uuids.get(content)}&q=${q}`;

/** The conversation (chat-view) shows the linked message marked as the current one, the term marked in it. */
async function expectMarked(page: Page, content: string, term: string) {
  const message = page.locator(`[data-uuid="${uuids.get(content)}"][aria-current="true"]`);
  await message.waitFor();
  expect(await message.locator('mark').allTextContents()).toEqual([term]);
  expect(await message.isVisible()).toBe(true);
}

async function openSession(page: Page, hash: string) {
  await page.goto(`${server.url}/${hash}`);
  await sessionBox(page).waitFor();
}

describe('search within a session', () => {
  it('finds the session’s messages, marks the terms, links to the message; keyboard and empty cases', async () => {
    const page = await newPage(browser);
    try {
      await openSession(page, '#/sessions/garden');
      const box = sessionBox(page);

      // Empty: nothing happens.
      await box.press('Enter');
      await page.waitForTimeout(300);
      expect(await sessionResults(page).count()).toBe(0);

      await box.fill('TOMATOES');
      await box.press('Enter');
      const results = sessionResults(page);
      await page.getByRole('status').filter({ hasText: '2 results for “TOMATOES”' }).waitFor();
      const found = await resultsOf(results);
      // Only this session's (kitchen's and bob's tomatoes are elsewhere); the terms marked whatever their case.
      expect(found.map((r) => r.snippet).sort()).toEqual([
        'How deep should I plant Tomatoes in spring?',
        'Plant tomatoes deep, up to the first leaves: they root along the buried stem.',
      ]);
      expect(found.map((r) => r.marked).sort()).toEqual([['Tomatoes'], ['tomatoes']]);
      expect(await results.locator('a.search-result').first().textContent()).toMatch(/(user|assistant).*score \d+\.\d\d/);

      // Keyboard: ↓ from the box into the results, ↓/↑ through them, ↑ back to the box, Escape closes.
      const focused = () =>
        page.evaluate(() => document.activeElement?.querySelector('.snippet')?.textContent ?? document.activeElement?.id);
      await box.press('ArrowDown');
      expect(await focused()).toBe(found[0]!.snippet);
      await page.keyboard.press('ArrowDown');
      expect(await focused()).toBe(found[1]!.snippet);
      await page.keyboard.press('ArrowDown'); // stays on the last
      expect(await focused()).toBe(found[1]!.snippet);
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('ArrowUp');
      expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).value)).toBe('TOMATOES');
      await page.keyboard.press('Escape');
      await results.waitFor({ state: 'detached' });
      expect(await box.inputValue()).toBe('TOMATOES'); // Escape closed the results, the text stays
      expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).type)).toBe('search');

      // No results says so.
      await box.fill('zebra');
      await box.press('Enter');
      await page.getByRole('status').filter({ hasText: 'No results for “zebra”' }).waitFor();
      expect(await results.locator('a.search-result').count()).toBe(0);

      // Several words, stemmed by the server: each whole word marked.
      await box.fill('compost planting');
      await box.press('Enter');
      await page
        .getByRole('status')
        .filter({ hasText: /\d results? for “compost planting”/ })
        .waitFor();
      const several = await resultsOf(results);
      expect(several.find((r) => r.snippet?.startsWith('Mix two inches'))?.marked).toEqual(['compost', 'planting']);

      // Back to tomatoes; Enter on a result opens its message link.
      await box.fill('tomatoes');
      await box.press('Enter');
      await page.getByRole('status').filter({ hasText: '2 results for “tomatoes”' }).waitFor();
      await expectNoAxeViolations(page);

      const answer = 'Plant tomatoes deep, up to the first leaves: they root along the buried stem.';
      await results.locator('a.search-result', { hasText: 'Plant tomatoes deep' }).focus();
      await page.keyboard.press('Enter');
      await eventually(
        () => page.evaluate(() => window.location.hash),
        (hash) => expect(hash).toBe(linkTo('garden', answer, 'tomatoes')),
      );
      await results.waitFor({ state: 'detached' }); // the floating results close, uncovering the message
      await page.getByRole('heading', { name: 'garden' }).waitFor();
      await expectMarked(page, answer, 'tomatoes');
    } finally {
      await page.close();
    }
  });

  it('fits a phone: the results span at most the viewport, and axe finds nothing', async () => {
    const page = await newPage(browser, PHONE);
    try {
      await openSession(page, '#/sessions/garden');
      await page.getByText('compost for the beds').waitFor();
      await sessionBox(page).fill('tomatoes');
      await sessionBox(page).press('Enter');
      const results = sessionResults(page);
      await page.getByRole('status').filter({ hasText: '2 results' }).waitFor();
      const box = (await results.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
      expect(box.width).toBeGreaterThan(PHONE.width * 0.8); // full width, not a narrow popover
      for (const link of await results.locator('a.search-result').all()) {
        const b = (await link.boundingBox())!;
        expect(b.x + b.width).toBeLessThanOrEqual(PHONE.width);
      }
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
      await expectNoAxeViolations(page);
    } finally {
      await page.close();
    }
  });
});

describe('search across a user’s sessions', () => {
  it('asks for a user first; then finds messages in several of the user’s sessions and opens another session', async () => {
    const page = await newPage(browser);
    try {
      await page.goto(`${server.url}/#/sessions`);
      await page.getByText('Pick a user to search across their sessions.').waitFor();

      await openSession(page, '#/sessions/garden?user=ada');
      const box = userBox(page, 'ada');
      await box.fill('tomatoes');
      await box.press('Enter');
      const results = userResults(page, 'ada');
      await page.getByRole('status').filter({ hasText: '4 results for “tomatoes”' }).waitFor();
      const found = await resultsOf(results);
      // Ada's garden and kitchen; never Bob's farm.
      const sessions = await results.locator('.search-session-id').allTextContents();
      expect(new Set(sessions)).toEqual(new Set(['garden', 'kitchen']));
      for (const r of found) expect(r.marked.map((w) => w?.toLowerCase())).toEqual(['tomatoes']);
      await expectNoAxeViolations(page);

      // Both searches open at once, for the screenshot (and axe again).
      await sessionBox(page).fill('compost');
      await sessionBox(page).press('Enter');
      await page.getByRole('status').filter({ hasText: '2 results for “compost”' }).waitFor();
      await expectNoAxeViolations(page);
      mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT });
      await page.keyboard.press('Escape');
      await sessionResults(page).waitFor({ state: 'detached' });

      const sauce = 'Simmer chopped tomatoes with garlic and olive oil for twenty minutes.';
      await results.locator('a.search-result', { hasText: 'Simmer chopped' }).click();
      await eventually(
        () => page.evaluate(() => window.location.hash),
        (hash) => expect(hash).toBe(linkTo('kitchen', sauce, 'tomatoes', 'ada')),
      );
      await page.getByRole('heading', { name: 'kitchen' }).waitFor();
      await expectMarked(page, sauce, 'tomatoes');
      // The sidebar's results stay for the next pick.
      expect(await results.locator('a.search-result').count()).toBe(4);
    } finally {
      await page.close();
    }
  });
});

describe('search with a user token', () => {
  it('searches across the signed-in user’s own sessions', async () => {
    const token = await apiToken(SECRET, 'ada');
    const page = await newPage(browser);
    try {
      await page.goto(authServer.url);
      await page.getByLabel('API key').fill(token);
      await page.getByRole('button', { name: 'Save' }).click();
      await userBox(page, 'ada').fill('tomatoes');
      await userBox(page, 'ada').press('Enter');
      await page.getByRole('status').filter({ hasText: '4 results for “tomatoes”' }).waitFor();
      const sessions = await userResults(page, 'ada').locator('.search-session-id').allTextContents();
      expect(new Set(sessions)).toEqual(new Set(['garden', 'kitchen'])); // never Bob's farm
    } finally {
      await page.close();
    }
  });
});

describe('metadata filters', () => {
  it('narrow both searches; a filter the server refuses shows its answer and stays as typed', async () => {
    const page = await newPage(browser);
    try {
      await openSession(page, '#/sessions/garden?user=ada');
      const header = page.getByRole('search', { name: 'Search this session' });
      await header.locator('summary', { hasText: 'Filters' }).click();
      const filter = header.getByRole('textbox', { name: 'Metadata filter (JSON)' });
      await filter.fill('{"metadata.kind": "answer"}');
      await sessionBox(page).fill('tomatoes');
      await sessionBox(page).press('Enter');
      await page.getByRole('status').filter({ hasText: '1 result for “tomatoes” (filtered)' }).waitFor();
      expect((await resultsOf(sessionResults(page))).map((r) => r.snippet)).toEqual([
        'Plant tomatoes deep, up to the first leaves: they root along the buried stem.',
      ]);
      await page.keyboard.press('Escape');

      // The same filter applies to the user search (shared), which says so.
      const sidebar = page.getByRole('search', { name: 'Search ada’s sessions' });
      await sidebar.getByText('Filters (on)').waitFor();
      await userBox(page, 'ada').fill('tomatoes');
      await userBox(page, 'ada').press('Enter');
      await page.getByRole('status').filter({ hasText: '2 results for “tomatoes” (filtered)' }).waitFor();
      expect(new Set(await userResults(page, 'ada').locator('.role').allTextContents())).toEqual(new Set(['assistant']));

      // A filter alone (no text) searches too: the newest matches.
      await userBox(page, 'ada').fill('');
      await userBox(page, 'ada').press('Enter');
      await page
        .getByRole('status')
        .filter({ hasText: /^3 results \(filtered\)$/ })
        .waitFor();

      // Not JSON: said at once, nothing sent.
      await filter.fill('{"metadata.kind": ');
      await sessionBox(page).fill('tomatoes');
      await sessionBox(page).press('Enter');
      await header.getByRole('alert').filter({ hasText: 'Not valid JSON' }).waitFor();

      // JSON the server refuses (not a metadata path): its 400 and its reason, the filter kept and marked invalid.
      await filter.fill('{"kind": "answer"}');
      await filter.press('Control+Enter');
      const error = sessionResults(page).getByRole('alert');
      await error.waitFor();
      expect(await error.textContent()).toMatch(/HTTP 400.*filter field "kind" is not allowed: fields must start with "metadata\."/);
      expect(await filter.inputValue()).toBe('{"kind": "answer"}');
      expect(await filter.getAttribute('aria-invalid')).toBe('true');
      expect(await page.getByRole('status').filter({ hasText: 'The search failed' }).count()).toBe(1);
      await expectNoAxeViolations(page);
    } finally {
      await page.close();
    }
  });
});
