/**
 * The conversation view (issue 15, items 1, 2, 4, and the message side of 6 and 7), in Chromium
 * against the app started the way `pnpm start` does, with a 5,000-message session of mixed
 * Markdown: it opens at the newest message with few rows in the DOM; scrolling up loads older pages
 * while the message on screen stays put, down to message #1; Markdown renders (tables, highlighted
 * code in a monospace font, links with rel noopener) and a message's raw HTML never runs; message
 * details edit the text, merge and remove metadata keys, delete with and without Undo (focus kept
 * in the list), regenerate from here; a message written elsewhere appears live; a search link
 * opens at its message with the terms marked; a send during the first load shows at once; a
 * reply still streaming says so. The key
 * checks again at a phone's 390×844, and axe with details open. Saves test-artifacts/conversation.png
 * and conversation-phone.png.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createCore } from '@mnemo/core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { mixedMessage } from '../bench/messages';
import { errorsIn, eventually, expectNoAxeViolations, launchChromium, messageTexts, newPage, PHONE } from './browser';
import { ROOT, type RunningServer, startServer } from './server';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri')

const LONG = 5000;

/** The long session's special messages: a search target, a Markdown showcase, hostile HTML. */
const PELICAN = randomUUID();
const PELICAN_AT = 137;
const SHOWCASE = [
  'Markdown showcase.',
  '',
  '| tea | origin |',
  '| --- | --- |',
  '| Darjeeling | India |',
  '| Sencha | Japan |',
  '',
  '```ts',
  'const cup: number = brew("sencha", 80);',
  '```',
  '',
  '- [x] boil water',
  '- [ ] ~~add milk~~ never',
  '',
  'See [the guide](https://example.com/tea-guide) or [this](javascript:window.__xss=3).',
].join('\n');
const HOSTILE =
  'Hostile: <img src=x onerror="window.__xss=1"> inline.\n\n<script>window.__xss=2</script>\n\n<b onmouseover="window.__xss=4">bold?</b>';

let server: RunningServer;
let browser: Browser;
/** Seeded message uuids of the small sessions, by text. */
const uuids = new Map<string, string>();

async function seed() {
  const core = createCore({ mongoUri: inject('mongoUri'), dbName: server.dbName });
  try {
    await core.init();
    await core.sessions.add({ sessionId: 'long', metadata: { topic: 'bench' } });
    for (let from = 1; from <= LONG; from += 1000) {
      const batch = Array.from({ length: 1000 }, (_, i) => {
        const n = from + i;
        if (n === PELICAN_AT) return { role: 'user', content: `Message ${n}. A pelican flies over the harbour.`, uuid: PELICAN };
        if (n === LONG - 1) return { role: 'assistant', content: SHOWCASE };
        if (n === LONG) return { role: 'user', content: HOSTILE };
        return mixedMessage(n);
      });
      await core.memory.add({ sessionId: 'long', messages: batch });
    }
    for (const sessionId of ['details', 'details-phone']) {
      await core.sessions.add({ sessionId });
      const memory = await core.memory.add({
        sessionId,
        messages: [
          { role: 'user', content: 'Q1: which tea?' },
          { role: 'assistant', content: 'A1: Sencha.', metadata: { topic: 'tea', draft: true } },
          { role: 'user', content: 'Q2: how hot?' },
          { role: 'assistant', content: 'A2: 80 degrees.' },
          { role: 'user', content: 'Q3: thanks' },
        ],
      });
      for (const m of memory.messages) uuids.set(`${sessionId}:${m.content}`, m.uuid);
    }
    await core.memory.add({
      sessionId: 'status',
      messages: [
        { role: 'user', content: 'Tell me a story' },
        { role: 'assistant', content: 'Once upon a', status: 'streaming' },
      ],
    });
    await core.sessions.add({ sessionId: 'first-load' });
    await core.memory.add({ sessionId: 'first-load', messages: [{ role: 'user', content: 'Already here' }] });
  } finally {
    await core.close();
  }
}

beforeAll(async () => {
  server = await startServer(inject('mongoUri'));
  await seed();
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const row = (page: Page, text: string) => page.locator('li.message', { hasText: text });
const loaded = async (page: Page) => Number(await page.locator('ol[aria-label="Messages"]').getAttribute('data-loaded'));
const domRows = (page: Page) => page.locator('li.message').count();

/** Waits until the element's box lies inside the message list's visible box. */
async function eventuallyInView(page: Page, selector: string): Promise<void> {
  const inView = () =>
    page.evaluate((selector) => {
      const element = document.querySelector(selector);
      const list = document.querySelector('.messages');
      if (!element || !list) return false;
      const e = element.getBoundingClientRect();
      const l = list.getBoundingClientRect();
      return e.bottom > l.top && e.top < l.bottom;
    }, selector);
  await eventually(inView, (v) => expect(v).toBe(true));
}

/** The topmost message row whose top is inside the list's view: its uuid and its top (px). */
function topVisible(page: Page) {
  return page.evaluate(() => {
    const list = document.querySelector('.messages')!.getBoundingClientRect();
    const rows = [...document.querySelectorAll<HTMLElement>('li.message')]
      .map((li) => ({ uuid: li.dataset.uuid!, top: li.getBoundingClientRect().top }))
      .filter((r) => r.top >= list.top)
      .sort((a, b) => a.top - b.top);
    return rows[0]!;
  });
}
const topOf = (page: Page, uuid: string) =>
  page.evaluate((uuid) => document.querySelector(`li.message[data-uuid="${uuid}"]`)?.getBoundingClientRect().top, uuid);
const scrollListTo = (page: Page, top: number) =>
  page.evaluate((top) => {
    document.querySelector('.messages')!.scrollTop = top;
  }, top);

/**
 * Scrolls to the top while older pages answer slowly, and checks that the message on screen when
 * the page arrives is where it was (within 3 px).
 */
async function loadOlderKeepingPlace(page: Page) {
  const before = await loaded(page);
  await scrollListTo(page, 0);
  await page.locator('.history-edge', { hasText: 'Loading older messages' }).waitFor();
  const anchor = await topVisible(page);
  await eventually(
    () => loaded(page),
    (n) => expect(n).toBeGreaterThan(before),
  );
  await page.waitForTimeout(100); // rows measured
  const after = await topOf(page, anchor.uuid);
  expect(after).toBeDefined();
  expect(Math.abs(after! - anchor.top)).toBeLessThanOrEqual(3);
}

/** Delays every tRPC request that reads a message page (to look at the list while it loads). */
async function slowPages(page: Page, ms: number) {
  await page.route(
    (url) => url.pathname.startsWith('/trpc/') && url.pathname.includes('message.list'),
    async (route) => {
      await new Promise((ok) => setTimeout(ok, ms));
      await route.continue();
    },
  );
}

describe('the conversation view', () => {
  it('opens 5,000 messages at the newest, virtualised; scrolling up loads older pages in place, down to #1', async () => {
    const page = await newPage(browser);
    try {
      await slowPages(page, 400);
      await page.goto(`${server.url}/#/sessions/long`);
      await row(page, 'Hostile:').waitFor();
      await eventuallyInView(page, `li.message[aria-posinset="${LONG}"]`);
      expect(await loaded(page)).toBe(100);
      expect(await domRows(page)).toBeLessThan(30);
      expect(await page.locator('li.message').first().getAttribute('aria-setsize')).toBe(String(LONG));

      for (let i = 0; i < 3; i++) await loadOlderKeepingPlace(page);
      expect(await loaded(page)).toBe(400);
      expect(await domRows(page)).toBeLessThan(30);

      // The rest, quickly: scroll to the top until message #1 is there.
      await page.unrouteAll();
      await eventually(
        async () => {
          await scrollListTo(page, 0);
          return page.locator('li.message[aria-posinset="1"]').count();
        },
        (n) => expect(n).toBe(1),
        60_000,
      );
      await expect.poll(() => loaded(page)).toBe(LONG);
      expect(await page.locator('li.message[aria-posinset="1"] .content').textContent()).toMatch(/^Message 1\./);
      expect(await page.locator('.history-edge').textContent()).toBe('Start of the conversation');
      expect(await domRows(page)).toBeLessThan(30);
      expect(errorsIn(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('renders Markdown (table, highlighted monospace code, task list, safe links) and never runs a message’s HTML', async () => {
    const page = await newPage(browser);
    try {
      await page.goto(`${server.url}/#/sessions/long`);
      const showcase = row(page, 'Markdown showcase.');
      await showcase.locator('.markdown:not(.plain)').waitFor();
      expect(await showcase.locator('table th').allTextContents()).toEqual(['tea', 'origin']);
      expect(await showcase.locator('table td').allTextContents()).toEqual(['Darjeeling', 'India', 'Sencha', 'Japan']);
      const code = showcase.locator('pre code');
      expect(await code.textContent()).toBe('const cup: number = brew("sencha", 80);');
      expect(await code.locator('.hljs-keyword').first().textContent()).toBe('const');
      expect(await code.locator('.hljs-string').first().textContent()).toBe('"sencha"');
      expect(await code.evaluate((el) => getComputedStyle(el).fontFamily)).toMatch(/monospace/);
      expect(await showcase.locator('input[type="checkbox"][disabled]').count()).toBe(2);
      expect(await showcase.locator('input[type="checkbox"]:checked').count()).toBe(1);
      expect(await showcase.locator('del').textContent()).toBe('add milk');
      const link = showcase.getByRole('link', { name: 'the guide' });
      expect(await link.getAttribute('href')).toBe('https://example.com/tea-guide');
      expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
      expect(await link.getAttribute('target')).toBe('_blank');
      // The javascript: link is text, not a link.
      expect(await showcase.locator('a').count()).toBe(1);
      expect(await showcase.textContent()).toContain('or this.');
      await page.screenshot({ path: join(ROOT, 'test-artifacts/markdown.png') });

      const hostile = row(page, 'Hostile:');
      await hostile.locator('.markdown:not(.plain)').waitFor();
      expect(await hostile.locator('.content').textContent()).toContain('<img src=x onerror="window.__xss=1"> inline.');
      expect(await hostile.locator('.content').textContent()).toContain('<script>window.__xss=2</script>');
      expect(await page.locator('.messages img, .messages script, .messages b').count()).toBe(0);
      await hostile.locator('.content').hover();
      await page.waitForTimeout(300);
      expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();

      // A reply still being written says so.
      await page.goto(`${server.url}/#/sessions/status`);
      const streaming = row(page, 'Once upon a');
      expect(await streaming.locator('.status').textContent()).toBe('streaming');
      expect(await row(page, 'Tell me a story').locator('.status').count()).toBe(0);
      expect(errorsIn(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('a search link opens at its message, marked, with the terms in <mark>', async () => {
    const page = await newPage(browser);
    try {
      await page.goto(`${server.url}/#/sessions/long?message=${PELICAN}&q=Pelican%20harbour`);
      const target = page.locator(`li.message[data-uuid="${PELICAN}"]`);
      await target.locator('mark').first().waitFor({ timeout: 30_000 });
      expect(await target.getAttribute('aria-current')).toBe('true');
      expect(await target.getAttribute('aria-posinset')).toBe(String(PELICAN_AT));
      expect(await target.locator('mark').allTextContents()).toEqual(['pelican', 'harbour']);
      await eventuallyInView(page, `li.message[data-uuid="${PELICAN}"]`);
      expect(await target.evaluate((el) => getComputedStyle(el.querySelector('.bubble')!).outlineStyle)).toBe('solid');
      expect(errorsIn(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('message details: time, role, tokens; merge and remove metadata keys; edit; delete with and without Undo; regenerate', async () => {
    const page = await newPage(browser);
    const uuid = (text: string) => uuids.get(`details:${text}`)!;
    const byUuid = (text: string) => page.locator(`li.message[data-uuid="${uuid(text)}"]`);
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement;
        return el?.getAttribute('data-details-for') ?? el?.id ?? el?.tagName;
      });
    try {
      await page.goto(`${server.url}/#/sessions/details`);
      await row(page, 'Q3: thanks').waitFor();
      const a1 = byUuid('A1: Sencha.');
      expect(await a1.locator('.role').textContent()).toBe('assistant');
      expect(await a1.locator('.stats').textContent()).toMatch(/^#2 · \d+ tokens$/);
      const time = a1.locator('time');
      expect(await time.textContent()).toMatch(/\d\d:\d\d/);
      expect(await time.getAttribute('title')).toMatch(/\d{4}/); // the full date on hover
      expect(await time.getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);

      // One Tab stop in the list; arrow keys move between messages; Tab goes on to the composer.
      expect(await page.locator('button.details-toggle[tabindex="0"]').count()).toBe(1);
      await page.locator('button.details-toggle[tabindex="0"]').focus();
      expect(await focused()).toBe(uuid('Q3: thanks'));
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('ArrowUp');
      expect(await focused()).toBe(uuid('Q2: how hot?'));
      await page.keyboard.press('Home');
      expect(await focused()).toBe(uuid('Q1: which tea?'));
      await page.keyboard.press('ArrowDown');
      expect(await focused()).toBe(uuid('A1: Sencha.'));
      await page.keyboard.press('Tab');
      expect(await focused()).toBe('composer-role');

      // Details of A1: a disclosure.
      const toggle = a1.getByRole('button', { name: /^Details/ });
      expect(await toggle.getAttribute('aria-expanded')).toBe('false');
      await toggle.click();
      expect(await toggle.getAttribute('aria-expanded')).toBe('true');
      const metadata = async () => JSON.parse((await a1.getByLabel('Message metadata').textContent()) ?? 'null') as unknown;
      expect(await metadata()).toEqual({ topic: 'tea', draft: true });
      await expectNoAxeViolations(page);

      // Merge a key and remove one ({"$delete": true}).
      await a1.getByLabel('Merge JSON into this message’s metadata').fill('{"rating": 5, "draft": {"$delete": true}}');
      await a1.getByRole('button', { name: 'Merge' }).click();
      await eventually(metadata, (m) => expect(m).toEqual({ topic: 'tea', rating: 5 }));

      // Edit the text (Markdown renders).
      await a1.getByRole('button', { name: 'Edit text' }).click();
      await a1.getByLabel('Message text').fill('A1: **Sencha**, edited.');
      await a1.getByRole('button', { name: 'Save' }).click();
      await a1.locator('.content strong', { hasText: 'Sencha' }).waitFor();
      await eventually(focused, (f) => expect(f).toBe(uuid('A1: Sencha.')));
      mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
      const shot = join(ROOT, 'test-artifacts/conversation.png');
      await page.screenshot({ path: shot });
      expect(statSync(shot).size).toBeGreaterThan(10_000);

      // Delete Q2, then Undo: it is back; focus went to the next message's Details button.
      const q2 = byUuid('Q2: how hot?');
      await q2.getByRole('button', { name: /^Details/ }).click();
      await q2.getByRole('button', { name: 'Delete' }).click();
      await q2.waitFor({ state: 'detached' });
      expect(await focused()).toBe(uuid('A2: 80 degrees.'));
      const toast = page.getByRole('status').filter({ hasText: 'Message deleted' });
      await toast.waitFor();
      await toast.getByRole('button', { name: 'Undo' }).click();
      await eventually(
        () => messageTexts(page),
        (t) => expect(t).toEqual(['Q1: which tea?', 'A1: Sencha, edited.', 'Q2: how hot?', 'A2: 80 degrees.', 'Q3: thanks']),
      );

      // Delete Q3 (the last) for good: focus goes to the one before it.
      const q3 = byUuid('Q3: thanks');
      await q3.getByRole('button', { name: /^Details/ }).click();
      await q3.getByRole('button', { name: 'Delete' }).click();
      await q3.waitFor({ state: 'detached' });
      expect(await focused()).toBe(uuid('A2: 80 degrees.'));
      await page.getByRole('status').filter({ hasText: 'Message deleted' }).waitFor();

      // Regenerate from A2: asks first, then A2 (the last now) goes; focus to the composer.
      const a2 = byUuid('A2: 80 degrees.');
      await a2.getByRole('button', { name: /^Details/ }).click();
      await a2.getByRole('button', { name: 'Regenerate from here…' }).click();
      await a2.getByText('Set this answer aside, so a new answer can be written beside it?').waitFor();
      await a2.getByRole('button', { name: 'Set aside and regenerate' }).click();
      await a2.waitFor({ state: 'detached' });
      await eventually(focused, (f) => expect(f).toBe('composer-text'));
      // Undo brings it back; then regenerate for good.
      await page.locator('.toast').getByText('Answer set aside: the next answer is a new version beside it').waitFor();
      await page.locator('.toast').getByRole('button', { name: 'Undo' }).click();
      await a2.waitFor();
      await eventually(
        () => messageTexts(page),
        (t) => expect(t).toEqual(['Q1: which tea?', 'A1: Sencha, edited.', 'Q2: how hot?', 'A2: 80 degrees.']),
      );
      const a2Details = a2.getByRole('button', { name: /^Details/ });
      if ((await a2Details.getAttribute('aria-expanded')) !== 'true') await a2Details.click();
      await a2.getByRole('button', { name: 'Regenerate from here…' }).click();
      await a2.getByRole('button', { name: 'Set aside and regenerate' }).click();
      await a2.waitFor({ state: 'detached' });

      await page.reload();
      await row(page, 'Q2: how hot?').waitFor();
      await eventually(
        () => messageTexts(page),
        (t) => expect(t).toEqual(['Q1: which tea?', 'A1: Sencha, edited.', 'Q2: how hot?']),
      );
      const a1Again = byUuid('A1: Sencha.');
      await a1Again.getByRole('button', { name: /^Details/ }).click();
      expect(JSON.parse((await a1Again.getByLabel('Message metadata').textContent()) ?? 'null')).toEqual({ topic: 'tea', rating: 5 });
      expect(errorsIn(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('messages from another client appear live; they scroll into view only when the reader is at the bottom', async () => {
    const page = await newPage(browser);
    const post = (sessionId: string, content: string) =>
      fetch(`${server.url}/api/v1/sessions/${sessionId}/memory`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'assistant', role_type: 'assistant', content }] }),
      }).then((r) => expect(r.ok).toBe(true));
    try {
      await page.goto(`${server.url}/#/sessions/long`);
      await row(page, 'Hostile:').waitFor();
      await page.waitForTimeout(300);
      await post('long', 'Live one, from another client');
      await row(page, 'Live one, from another client').waitFor(); // live: the page does not poll
      await eventuallyInView(page, 'li.message:last-child');
      await eventually(
        () => page.locator('li.message', { hasText: 'Live one' }).isVisible(),
        (v) => expect(v).toBe(true),
      );

      // Scrolled up a little: a new message does not move the view.
      await page.locator('.messages').hover();
      await page.mouse.wheel(0, -600);
      await page.waitForTimeout(300);
      const anchor = await topVisible(page);
      await post('long', 'Live two, while reading history');
      await eventually(
        () => loaded(page),
        (n) => expect(n).toBe(102),
      );
      await page.waitForTimeout(200);
      expect(Math.abs((await topOf(page, anchor.uuid))! - anchor.top)).toBeLessThanOrEqual(3);
      await page.getByRole('button', { name: '↓ Latest' }).click();
      await eventuallyInView(page, `li.message[aria-posinset="${LONG + 2}"]`);
      expect(errorsIn(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('a message sent while the session is still loading shows at once', async () => {
    const page = await newPage(browser);
    try {
      // The first load is held until the message shows: only the optimistic update can show it then.
      let release!: () => void;
      const held = new Promise<void>((ok) => (release = ok));
      let served = false;
      await page.route(
        (url) => url.pathname.startsWith('/trpc/') && url.pathname.includes('message.list'),
        async (route) => {
          await held;
          served = true;
          await route.continue().catch(() => {}); // the page may be closed by then
        },
      );
      await page.goto(`${server.url}/#/sessions/first-load`);
      const box = page.getByLabel('Message', { exact: true });
      await box.fill('Sent during the first load');
      expect(await page.getByText('Loading messages…').count()).toBe(1); // still loading
      await box.press('Enter');
      await row(page, 'Sent during the first load').waitFor();
      expect(served).toBe(false); // the server's messages are still held back
      release();
      await eventually(
        () => messageTexts(page),
        (t) => expect(t).toEqual(['Already here', 'Sent during the first load']),
      );
      await eventually(
        () => page.locator('li.message[data-pending]').count(),
        (n) => expect(n).toBe(0),
      );
      expect(errorsIn(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('on a phone (390×844): newest visible, composer on screen, older pages in place, details, axe', async () => {
    const page = await newPage(browser, PHONE);
    try {
      await slowPages(page, 400);
      await page.goto(`${server.url}/#/sessions/long`);
      await row(page, 'Hostile:').waitFor();
      await eventuallyInView(page, `li.message[aria-posinset="${LONG}"]`);
      const composer = (await page.locator('form.composer').boundingBox())!;
      expect(composer.y).toBeGreaterThanOrEqual(0);
      expect(composer.y + composer.height).toBeLessThanOrEqual(PHONE.height);
      expect(await page.evaluate(() => document.scrollingElement!.scrollHeight)).toBeLessThanOrEqual(PHONE.height);
      expect(await domRows(page)).toBeLessThan(30);
      await loadOlderKeepingPlace(page);

      // The table fits its bubble.
      await scrollListTo(page, 1e9);
      const showcase = row(page, 'Markdown showcase.');
      await showcase.locator('table').waitFor();
      const [table, bubble] = await Promise.all([showcase.locator('table').boundingBox(), showcase.locator('.bubble').boundingBox()]);
      expect(table!.x + table!.width).toBeLessThanOrEqual(bubble!.x + bubble!.width);

      // Details on the small session, and axe.
      await page.goto(`${server.url}/#/sessions/details-phone`);
      const a1 = row(page, 'A1: Sencha.');
      await a1.getByRole('button', { name: /^Details/ }).click();
      await a1.getByLabel('Message metadata').waitFor();
      await expectNoAxeViolations(page);
      const shot = join(ROOT, 'test-artifacts/conversation-phone.png');
      await page.screenshot({ path: shot });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
      const composerNow = (await page.locator('form.composer').boundingBox())!;
      expect(composerNow.y + composerNow.height).toBeLessThanOrEqual(PHONE.height);
      expect(errorsIn(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('axe finds nothing on the long session with Markdown, code and details open', async () => {
    const page = await newPage(browser);
    try {
      await page.goto(`${server.url}/#/sessions/long`);
      const showcase = row(page, 'Markdown showcase.');
      await showcase.locator('pre code .hljs-keyword').waitFor();
      await showcase.getByRole('button', { name: /^Details/ }).click();
      await showcase.getByLabel('Message metadata').waitFor();
      await expectNoAxeViolations(page);
    } finally {
      await page.close();
    }
  });
});
