/**
 * The session navigator and the page frame (issue 15, items 5–8), in Chromium against the app started
 * the way `pnpm start` does: sessions by latest activity with previews and times, filters by user and
 * text, the open session highlighted (pinned when it is beyond the loaded pages), new and live sessions
 * at the top, delete with Undo and focus kept in the list; on a phone (390×844) a drawer for the
 * sessions, no page scrolling, the composer in view, a users table that fits. Saves
 * test-artifacts/sessions.png, phone-drawer.png and phone-chat.png.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createCore } from '@mnemo/core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DESKTOP, eventually, expectNoAxeViolations, launchChromium, newPage, PHONE, type WatchedPage } from './browser';
import { ROOT, type RunningServer, startServer } from './server';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri')

const ARTIFACTS = join(ROOT, 'test-artifacts');
const MINUTE = 60_000;
const USERS = ['ada', 'bob', 'cyd', 'dee'];
/** A question and the start of its answer (the session's last message). */
const TOPICS = [
  ['Which tea goes with lemon?', 'Earl Grey goes well with lemon'],
  ['Why did the deploy fail?', 'The deploy failed on a missing environment variable'],
  ['Can you shorten my cover letter?', 'Here is a shorter version of your cover letter'],
  ['Can you plan three days in Rome?', 'Rome in three days: Colosseum, Trastevere, the Vatican'],
  ['My sourdough does not rise', 'Sourdough needs a warmer kitchen for the first rise'],
  ['Why is this query slow?', 'The SQL query is slow because the join has no index'],
] as const;

interface Seeded {
  sessionId: string;
  userId: string;
  lastActiveAt: Date;
  lastMessage: string;
}

let server: RunningServer;
let browser: Browser;
/** The seeded sessions, most recently active first. */
let seeded: Seeded[];

/**
 * 4 users and 30 sessions, made in an order unlike their activity (session `chat-07` is the 7th made);
 * each has two messages, and a last activity from 20 minutes to about 12 days ago (written into the
 * database as an import would, so the times differ as they would in real use). One more session,
 * `long-chat`, has 60 messages, for the phone's scrolling panes.
 */
async function seed() {
  const core = createCore({ mongoUri: inject('mongoUri'), dbName: server.dbName });
  try {
    await core.init();
    for (const userId of USERS) await core.users.add({ userId, firstName: userId.toUpperCase(), email: `${userId}@example.com` });
    const now = Date.now();
    const all: Seeded[] = [];
    for (let made = 1; made <= 30; made++) {
      const sessionId = `chat-${String(made).padStart(2, '0')}`;
      const userId = USERS[made % USERS.length]!;
      const rank = (made * 7) % 31; // 1..30, a permutation: activity order is not creation order
      const lastActiveAt = new Date(now - rank * rank * 20 * MINUTE);
      const lastMessage =
        rank === 30
          ? 'Try the zanzibar spice blend: clove, cardamom and a little black pepper.'
          : `${TOPICS[made % TOPICS.length]![1]} (reply ${made}), with more detail than fits on one line of the sidebar.`;
      await core.sessions.add({ sessionId, userId });
      await core.memory.add({
        sessionId,
        messages: [
          { role: 'user', content: TOPICS[made % TOPICS.length]![0], createdAt: new Date(lastActiveAt.getTime() - MINUTE) },
          { role: 'assistant', content: lastMessage, createdAt: lastActiveAt },
        ],
      });
      await core.collections.sessions.updateOne(
        { sessionId },
        { $set: { lastActiveAt, lastMessageAt: lastActiveAt, createdAt: new Date(lastActiveAt.getTime() - 60 * MINUTE) } },
      );
      all.push({ sessionId, userId, lastActiveAt, lastMessage });
    }
    // A long chat, the least recently active of all.
    await core.sessions.add({ sessionId: 'long-chat', userId: 'ada' });
    await core.memory.add({
      sessionId: 'long-chat',
      messages: Array.from({ length: 60 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `Long chat line ${i + 1}` })),
    });
    const old = new Date(now - 400 * 24 * 60 * MINUTE);
    await core.collections.sessions.updateOne(
      { sessionId: 'long-chat' },
      { $set: { lastActiveAt: old, lastMessageAt: old, createdAt: old } },
    );
    seeded = all.sort((a, b) => b.lastActiveAt.getTime() - a.lastActiveAt.getTime());
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

const rows = (page: Page) => page.locator('nav[aria-label="Sessions"] .session-rows .session');
const rowIds = (page: Page) => page.locator('nav[aria-label="Sessions"] .session-rows .session-id').allTextContents();
const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    return { tag: el?.tagName.toLowerCase(), session: (el as HTMLElement | null)?.dataset.sessionId, id: el?.id, text: el?.textContent };
  });
/** Where the open session's row is, and where the list's scrolling box is. */
const selectedInList = (page: Page) =>
  page.evaluate(() => {
    const row = document.querySelector('nav[aria-label="Sessions"] button[aria-current="page"]');
    const box = document.querySelector('nav[aria-label="Sessions"] .session-scroll');
    if (!row || !box) return undefined;
    const [r, b] = [row.getBoundingClientRect(), box.getBoundingClientRect()];
    return {
      id: (row as HTMLElement).dataset.sessionId,
      pinned: row.closest('.pinned') !== null,
      inView: r.top >= b.top - 1 && r.bottom <= b.bottom + 1,
      scrollTop: box.scrollTop,
      rowTop: r.top,
      rowBottom: r.bottom,
    };
  });
const restPost = (path: string, body: unknown) =>
  fetch(`${server.url}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const messageTexts = (page: Page) => page.locator('[aria-label="Messages"] .message .content').allTextContents();

describe('the session navigator (desktop)', () => {
  let page: WatchedPage;
  beforeAll(async () => {
    page = await newPage(browser, DESKTOP);
  });
  afterAll(async () => {
    await page?.close();
  });

  it('lists sessions by latest activity, with their last message and when it was', async () => {
    await page.goto(`${server.url}/#/sessions`);
    await eventually(
      () => rowIds(page),
      (ids) => expect(ids.slice(0, 25)).toEqual(seeded.slice(0, 25).map((s) => s.sessionId)),
    );
    const first = rows(page).first();
    expect(await first.locator('.session-user').textContent()).toBe(seeded[0]!.userId);
    expect(await first.locator('.session-preview').textContent()).toBe(seeded[0]!.lastMessage);
    // The preview is one line, cut with an ellipsis.
    const preview = await first.locator('.session-preview').evaluate((el) => ({
      overflow: getComputedStyle(el).textOverflow,
      clipped: el.scrollWidth > el.clientWidth,
      height: el.getBoundingClientRect().height,
      lineHeight: parseFloat(getComputedStyle(el).lineHeight),
    }));
    expect(preview.overflow).toBe('ellipsis');
    expect(preview.clipped).toBe(true);
    expect(preview.height).toBeLessThan(preview.lineHeight * 1.5);
    // Every previews in order, and each time: short on screen, the date itself in `datetime` and `title`.
    expect(await rows(page).locator('.session-preview').allTextContents()).toEqual(
      expect.arrayContaining(seeded.slice(0, 25).map((s) => s.lastMessage)),
    );
    const times = await rows(page)
      .locator('time')
      .evaluateAll((els) =>
        els.map((el) => ({ text: el.textContent, datetime: el.getAttribute('datetime'), title: el.getAttribute('title') })),
      );
    expect(times.map((t) => t.datetime)).toEqual(seeded.slice(0, times.length).map((s) => s.lastActiveAt.toISOString()));
    expect(times[0]!.text).toMatch(/^2\d min\. ago$/); // 20 minutes ago (and the time the test took)
    expect(times[3]!.text).toMatch(/^[56] hr\. ago$/); // rank 4: 320 minutes ago
    expect(times[8]!.text).toBe('yesterday'); // rank 9: 27 hours ago
    expect(times[11]!.text).toBe('2 days ago'); // rank 12: 48 hours ago
    expect(times[24]!.text).toMatch(/^[A-Z][a-z]{2} \d{1,2}(, \d{4})?$/); // rank 25: 8.7 days ago: the date
    for (const t of times) expect(t.title).toMatch(/\d{4}/);
  });

  it('filters by user, and by text (loading every page so that matches are not hidden)', async () => {
    await page.goto(`${server.url}/#/sessions`);
    await rows(page).first().waitFor();
    await page.getByLabel('Show sessions of').selectOption('bob');
    const bobs = seeded.filter((s) => s.userId === 'bob').map((s) => s.sessionId);
    await eventually(
      () => rowIds(page),
      (ids) => expect(ids).toEqual(bobs),
    );
    expect(new Set(await rows(page).locator('.session-user').allTextContents())).toEqual(new Set(['bob']));
    await page.getByLabel('Show sessions of').selectOption('');
    await eventually(
      () => rowIds(page),
      (ids) => expect(ids.slice(0, 25)).toEqual(seeded.slice(0, 25).map((s) => s.sessionId)),
    );

    // The least recently active session is on page 2: the filter finds it all the same.
    const filter = page.getByLabel('Filter the list');
    await filter.fill('zanzibar');
    await eventually(
      () => rowIds(page),
      (ids) => expect(ids).toEqual([seeded[29]!.sessionId]),
    );
    await page.getByRole('status').filter({ hasText: '1 session matches' }).waitFor();
    // By user name, over all pages, still by activity.
    await filter.fill('dee');
    const dees = seeded.filter((s) => s.userId === 'dee').map((s) => s.sessionId);
    await eventually(
      () => rowIds(page),
      (ids) => expect(ids).toEqual(dees),
    );
    // By id, and every word must match.
    await filter.fill('chat-1 deploy');
    await eventually(
      () => rowIds(page),
      (ids) => expect([...ids].sort()).toEqual(['chat-13', 'chat-19']),
    );
    await filter.fill('no such words');
    await page.getByText('No loaded session matches.').waitFor();
    await filter.fill('');
    await eventually(
      () => rowIds(page),
      (ids) => expect(ids.length).toBe(31),
    );
  });

  it('highlights the open session: scrolled into view in the list, pinned at the top when it is beyond the loaded pages', async () => {
    // The 20th most recent: on the first page, below the list's fold.
    const twentieth = seeded[19]!.sessionId;
    await page.goto(`${server.url}/#/sessions/${twentieth}`);
    await page.getByRole('heading', { name: twentieth, exact: true }).waitFor();
    await eventually(
      () => selectedInList(page),
      (row) => expect(row).toMatchObject({ id: twentieth, pinned: false, inView: true }),
    );
    expect((await selectedInList(page))!.scrollTop).toBeGreaterThan(0);
    expect(await page.locator('nav[aria-label="Sessions"] [aria-current="page"]').count()).toBe(1);

    // The least recently active: on page 2, not loaded. Shown above the list, highlighted.
    await page.goto(`${server.url}/#/sessions`);
    await rows(page).first().waitFor();
    await page.reload();
    const last = seeded[29]!.sessionId;
    await page.goto(`${server.url}/#/sessions/${last}`);
    await page.getByRole('heading', { name: last, exact: true }).waitFor();
    const pinned = page.locator('nav[aria-label="Sessions"] .pinned');
    await pinned.getByText(last).waitFor();
    expect(await pinned.locator('button').getAttribute('aria-current')).toBe('page');
    expect(await pinned.getByText('Open session').isVisible()).toBe(true);
    expect(await pinned.isVisible()).toBe(true);
    // With its last message, as every row has.
    await eventually(
      () => pinned.locator('.session-preview').textContent(),
      (text) => expect(text).toBe(seeded[29]!.lastMessage.slice(0, 200)),
    );
    expect(await rowIds(page)).not.toContain(last);
    expect(await rowIds(page)).toHaveLength(25);
    // Once its page is loaded, it is in its place instead.
    await page.getByRole('button', { name: 'Load more sessions' }).click();
    await eventually(
      () => selectedInList(page),
      (row) => expect(row).toMatchObject({ id: last, pinned: false, inView: true }),
    );
    expect(await pinned.count()).toBe(0);
  });

  it('shows a new session at the top at once, and a session written by another client moves to the top live', async () => {
    await page.goto(`${server.url}/#/sessions`);
    await rows(page).first().waitFor();
    await page.getByText('New session').click();
    await page.getByLabel('Session ID').fill('brand-new');
    // The creation is held until the session shows: only the optimistic update can show it then.
    let release!: () => void;
    const held = new Promise<void>((ok) => (release = ok));
    const adding = (url: URL) => url.pathname.startsWith('/trpc/') && url.pathname.includes('session.add');
    let added = false;
    await page.route(adding, async (route) => {
      await held;
      added = true;
      await route.continue().catch(() => {}); // the page may be closed by then
    });
    const clicked = Date.now();
    await page.getByRole('button', { name: 'Create session' }).click();
    await eventually(
      () => rowIds(page),
      (ids) => expect(ids[0]).toBe('brand-new'),
    );
    const shownAfter = Date.now() - clicked;
    expect(added).toBe(false);
    release();
    await page.unroute(adding);
    // Then opened, highlighted where it is.
    await eventually(
      () => rows(page).first().getAttribute('aria-current'),
      (current) => expect(current).toBe('page'),
    );
    expect(await rows(page).first().locator('.session-preview').textContent()).toBe('no messages');
    await page.getByRole('heading', { name: 'brand-new', exact: true }).waitFor();
    console.log(`new session at the top of the list ${shownAfter} ms after the click`);

    // A message posted through the REST API to the least recently active seeded session.
    const old = seeded[28]!.sessionId;
    expect(await rowIds(page)).toContain(old);
    const posted = Date.now();
    expect((await restPost(`/sessions/${old}/memory`, { messages: [{ role: 'user', content: 'Live ping from REST' }] })).ok).toBe(true);
    await eventually(
      () => rowIds(page),
      (ids) => expect(ids[0]).toBe(old),
    ); // live: the list does not poll
    console.log(`a session written through REST moved to the top ${Date.now() - posted} ms after the post`);
    expect(await rows(page).first().locator('.session-preview').textContent()).toBe('Live ping from REST');
    expect(await rows(page).first().locator('time').textContent()).toBe('just now');
    expect((await rowIds(page))[1]).toBe('brand-new');
  });

  it('deletes a session with Undo in a toast (it comes back with its messages); focus stays in the list', async () => {
    const ids = await rowIds(page);
    const [victim, next] = [ids[2]!, ids[3]!];
    const victimSeed = seeded.find((s) => s.sessionId === victim)!;
    await rows(page).nth(2).click();
    await page.getByRole('heading', { name: victim, exact: true }).waitFor();
    await eventually(
      () => messageTexts(page),
      (texts) => expect(texts).toContain(victimSeed.lastMessage),
    );
    await page.getByRole('button', { name: 'Delete session' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    const toast = page.locator('.toast');
    await toast.getByText(`Session “${victim}” deleted`).waitFor();
    await eventually(
      () => rowIds(page),
      (shown) => expect(shown).not.toContain(victim),
    );
    // Focus went to the session that followed it, never to <body>.
    await eventually(
      () => focused(page),
      (f) => expect(f).toMatchObject({ tag: 'button', session: next }),
    );
    expect(page.url()).toMatch(/#\/sessions$/);

    await toast.getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('heading', { name: victim, exact: true }).waitFor();
    // Focus follows it back to its row.
    await eventually(
      () => focused(page),
      (f) => expect(f).toMatchObject({ tag: 'button', session: victim }),
    );
    await eventually(
      () => messageTexts(page),
      (texts) => expect(texts).toEqual([expect.stringMatching(/\?$/), victimSeed.lastMessage]),
    );
    await eventually(
      () => rowIds(page),
      (shown) => expect(shown).toContain(victim),
    );
    expect(await toast.count()).toBe(0);
    expect((await fetch(`${server.url}/api/v1/sessions/${victim}`)).status).toBe(200);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'sessions.png') });
    expect(statSync(join(ARTIFACTS, 'sessions.png')).size).toBeGreaterThan(10_000);

    // Without Undo: gone, also after a reload. The last row has no next one: focus goes to the one before.
    await page.getByLabel('Filter the list').fill('bob');
    const bobs = await rowIds(page);
    const [before, lastBob] = bobs.slice(-2) as [string, string];
    await rows(page).last().click();
    await page.getByRole('heading', { name: lastBob, exact: true }).waitFor();
    await page.getByRole('button', { name: 'Delete session' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await toast.getByText(`Session “${lastBob}” deleted`).waitFor();
    await eventually(
      () => focused(page),
      (f) => expect(f).toMatchObject({ tag: 'button', session: before }),
    );
    await toast.getByRole('button', { name: 'Dismiss' }).click();
    await page.getByLabel('Filter the list').fill('');
    await page.reload();
    await rows(page).first().waitFor();
    await page.getByLabel('Filter the list').fill(lastBob);
    await page.getByText('No loaded session matches.').waitFor();
    expect((await fetch(`${server.url}/api/v1/sessions/${lastBob}`)).status).toBe(404);

    // The only row left by a filter: focus goes to the list's heading.
    await page.getByLabel('Filter the list').fill(before);
    await eventually(
      () => rowIds(page),
      (shown) => expect(shown).toEqual([before]),
    );
    await rows(page).first().click();
    await page.getByRole('heading', { name: before, exact: true }).waitFor();
    await page.getByRole('button', { name: 'Delete session' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await toast.getByText(`Session “${before}” deleted`).waitFor();
    await eventually(
      () => focused(page),
      (f) => expect(f).toMatchObject({ id: 'sessions-heading' }),
    );
    // Undo by keyboard (Alt+Z) brings it back too.
    await page.keyboard.press('Alt+z');
    await page.getByRole('heading', { name: before, exact: true }).waitFor();
    expect((await fetch(`${server.url}/api/v1/sessions/${before}`)).status).toBe(200);
    await page.getByLabel('Filter the list').fill('');
    expect(page.pageErrors).toEqual([]);
  });
});

describe('the phone layout (390×844)', () => {
  let page: WatchedPage;
  beforeAll(async () => {
    page = await newPage(browser, PHONE);
  });
  afterAll(async () => {
    await page?.close();
  });

  /** The page itself never scrolls: it is as tall and as wide as the window. */
  const pageSize = () =>
    page.evaluate(() => {
      window.scrollTo(0, 100_000);
      return {
        scrollHeight: document.documentElement.scrollHeight,
        scrollWidth: document.documentElement.scrollWidth,
        scrollY: window.scrollY,
        innerHeight: window.innerHeight,
      };
    });

  it('the chat fills the screen with the composer in view; sessions are in a drawer', async () => {
    await page.goto(`${server.url}/#/sessions/long-chat`);
    await page.getByRole('list', { name: 'Messages' }).getByText('Long chat line 60').waitFor();
    expect(await pageSize()).toEqual({ scrollHeight: 844, scrollWidth: 390, scrollY: 0, innerHeight: 844 });
    // The conversation scrolls inside its pane, and the newest message and the composer are on screen.
    const composer = await page.locator('#composer-text').boundingBox();
    expect(composer).not.toBeNull();
    expect(composer!.y).toBeGreaterThan(0);
    expect(composer!.y + composer!.height).toBeLessThanOrEqual(844);
    expect(composer!.x + composer!.width).toBeLessThanOrEqual(390);
    const newest = await page.getByRole('list', { name: 'Messages' }).getByText('Long chat line 60').boundingBox();
    expect(newest!.y + newest!.height).toBeLessThanOrEqual(composer!.y);
    const scrollingPanes = await page
      .locator('main#main *')
      .evaluateAll(
        (els) => els.filter((el) => /auto|scroll/.test(getComputedStyle(el).overflowY) && el.scrollHeight > el.clientHeight + 1).length,
      );
    expect(scrollingPanes).toBeGreaterThan(0);
    // The drawer is closed: its sessions are neither seen nor reachable.
    const toggle = page.getByRole('button', { name: 'Sessions', exact: true });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    expect(await toggle.getAttribute('aria-controls')).toBe('sessions-drawer');
    expect(await page.locator('#sessions-drawer').isVisible()).toBe(false);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'phone-chat.png') });

    // Opened by keyboard: focus goes into it (to the open session), Escape closes it and focus comes back.
    await toggle.focus();
    await page.keyboard.press('Enter');
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    await page.locator('#sessions-drawer').waitFor({ state: 'visible' });
    await eventually(
      () => page.evaluate(() => document.getElementById('sessions-drawer')!.contains(document.activeElement)),
      (inside) => expect(inside).toBe(true),
    );
    expect((await focused(page)).session).toBe('long-chat');
    // The page behind is out of reach while the drawer is open.
    expect(await page.locator('main#main').getAttribute('inert')).not.toBeNull();
    await page.keyboard.press('Escape');
    await page.locator('#sessions-drawer').waitFor({ state: 'hidden' });
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    expect(await focused(page)).toMatchObject({ tag: 'button', text: 'Sessions' });

    // Opened by a tap; it lies within the screen; axe finds nothing; picking a session closes it.
    await toggle.click();
    await page.locator('#sessions-drawer').waitFor({ state: 'visible' });
    await page.waitForTimeout(300); // the slide-in
    const drawer = await page.locator('#sessions-drawer').boundingBox();
    expect(drawer!.x).toBeGreaterThanOrEqual(0);
    expect(drawer!.x + drawer!.width).toBeLessThanOrEqual(390);
    expect((await pageSize()).scrollWidth).toBe(390);
    await page.screenshot({ path: join(ARTIFACTS, 'phone-drawer.png') });
    await expectNoAxeViolations(page);
    const target = seeded[0]!.sessionId;
    await page.locator('#sessions-drawer .session-rows .session', { hasText: target }).click();
    await page.getByRole('heading', { name: target, exact: true }).waitFor();
    await page.locator('#sessions-drawer').waitFor({ state: 'hidden' });
    expect(await focused(page)).toMatchObject({ tag: 'button', text: 'Sessions' });
    expect(await pageSize()).toEqual({ scrollHeight: 844, scrollWidth: 390, scrollY: 0, innerHeight: 844 });
    const composerNow = await page.locator('#composer-text').boundingBox();
    expect(composerNow!.y + composerNow!.height).toBeLessThanOrEqual(844);
    for (const name of ['phone-chat.png', 'phone-drawer.png']) expect(statSync(join(ARTIFACTS, name)).size).toBeGreaterThan(5_000);
  });

  it('after a delete on a phone the drawer opens with focus on the next session', async () => {
    const ids = await page.locator('#sessions-drawer .session-rows .session-id').allTextContents();
    const [victim, next] = [ids[0]!, ids[1]!];
    await page.goto(`${server.url}/#/sessions/${victim}`);
    await page.getByRole('heading', { name: victim, exact: true }).waitFor();
    await page.getByRole('button', { name: 'Delete session' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.locator('#sessions-drawer').waitFor({ state: 'visible' });
    await eventually(
      () => focused(page),
      (f) => expect(f).toMatchObject({ tag: 'button', session: next }),
    );
    await page.locator('.toast').getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('heading', { name: victim, exact: true }).waitFor();
  });

  it('the sessions page without a chat and the users page fit the screen; axe finds nothing on the users page', async () => {
    await page.goto(`${server.url}/#/sessions`);
    await page.getByText('Open “Sessions” above to pick a session, or create one.').waitFor();
    expect(await pageSize()).toEqual({ scrollHeight: 844, scrollWidth: 390, scrollY: 0, innerHeight: 844 });

    await page.goto(`${server.url}/#/users`);
    await page.getByRole('cell', { name: 'ada', exact: true }).waitFor();
    expect(await page.locator('.drawer-toggle').count()).toBe(0); // no drawer here
    expect(await pageSize()).toEqual({ scrollHeight: 844, scrollWidth: 390, scrollY: 0, innerHeight: 844 });
    // Each user a card within the screen.
    for (const box of await page
      .locator('table.users tbody tr')
      .evaluateAll((trs) => trs.map((tr) => tr.getBoundingClientRect().toJSON() as DOMRect)))
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    await page.getByRole('row', { name: /dee/ }).getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Delete dee and all their sessions?').waitFor();
    expect((await pageSize()).scrollWidth).toBe(390);
    await expectNoAxeViolations(page);
    await page.screenshot({ path: join(ARTIFACTS, 'phone-users.png') });
    await page.getByRole('button', { name: 'Cancel' }).click();
    // The users pane scrolls inside (it is taller than the screen), the page does not.
    const pane = await page.locator('main.users-page').evaluate((el) => ({ scrolls: el.scrollHeight > el.clientHeight }));
    expect(pane.scrolls).toBe(true);
    expect(page.pageErrors).toEqual([]);
  });
});
