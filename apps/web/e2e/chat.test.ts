/**
 * The chat UI end to end, in a real Chromium, against the app started the way `pnpm start` does.
 * Saves a screenshot of the chat view to test-artifacts/chat-view.png.
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createCore } from '@mnemo/core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eventually, launchChromium, messageTexts, newPage, type WatchedPage } from './browser';
import { ROOT, type RunningServer, startServer } from './server';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri')

const SCREENSHOT = join(ROOT, 'test-artifacts/chat-view.png');

let server: RunningServer;
let browser: Browser;
let page: WatchedPage;

beforeAll(async () => {
  server = await startServer(inject('mongoUri'));
  browser = await launchChromium();
  page = await newPage(browser);
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

const metadata = async () => JSON.parse((await page.getByLabel('Session metadata').textContent()) ?? 'null') as unknown;
const sessionIds = () => page.locator('nav[aria-label="Sessions"] .session-id').allTextContents();

describe('the chat UI served by the Mnemo server', () => {
  it('creates a user and a session, chats, merges metadata, survives a reload, deletes the session', async () => {
    await page.goto(server.url);
    await page.getByRole('heading', { name: 'Mnemo' }).waitFor();
    await page.getByText('No sessions yet').waitFor();

    // A user, on the users page.
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByText('No users yet').waitFor();
    await page.getByLabel('User ID').fill('ada');
    await page.getByLabel('First name').fill('Ada');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('cell', { name: 'ada', exact: true }).waitFor();

    // A session for that user, with metadata.
    await page.getByRole('link', { name: 'Sessions' }).click();
    await page.getByText('New session').click();
    await page.getByLabel('Session ID').fill('tea-chat');
    await page.locator('#new-session-user').selectOption('ada');
    await page.getByLabel('Metadata (JSON, optional)').fill('{"topic": "tea", "prefs": {"lang": "en"}}');
    await page.getByRole('button', { name: 'Create session' }).click();
    await page.getByRole('heading', { name: 'tea-chat' }).waitFor();
    await page.getByText('User ada').waitFor();
    await page.getByText('No messages yet').waitFor();
    expect(page.url()).toMatch(/#\/sessions\/tea-chat$/);

    // Three messages, three roles, in order.
    const send = async (role: string, text: string) => {
      await page.getByLabel('Role', { exact: true }).selectOption(role);
      await page.getByLabel('Message', { exact: true }).fill(text);
      await page.getByLabel('Message', { exact: true }).press('Enter');
    };
    await send('user', 'Which tea goes with lemon?');
    await send('assistant', 'Earl Grey, or a plain black tea.');
    await send('system', 'Keep answers short.');
    await eventually(
      () => messageTexts(page),
      (texts) => expect(texts).toEqual(['Which tea goes with lemon?', 'Earl Grey, or a plain black tea.', 'Keep answers short.']),
    );
    await eventually(
      () => page.locator('li.message[data-pending]').count(),
      (n) => expect(n).toBe(0),
    );
    expect(await page.locator('li.message .role').allTextContents()).toEqual(['user', 'assistant', 'system']);
    expect(await page.locator('li.message .message-meta .stats').allTextContents()).toEqual([
      expect.stringMatching(/^#1 · \d+ tokens$/),
      expect.stringMatching(/^#2 · \d+ tokens$/),
      expect.stringMatching(/^#3 · \d+ tokens$/),
    ]);

    // Metadata merges (nested objects key by key).
    expect(await metadata()).toEqual({ topic: 'tea', prefs: { lang: 'en' } });
    await page.getByLabel('Merge JSON into the metadata').fill('{"prefs": {"theme": "dark"}, "mood": "curious"}');
    await page.getByRole('button', { name: 'Merge' }).click();
    const merged = { topic: 'tea', prefs: { lang: 'en', theme: 'dark' }, mood: 'curious' };
    await eventually(metadata, (m) => expect(m).toEqual(merged));
    await eventually(
      () => page.getByLabel('Merge JSON into the metadata').inputValue(),
      (v) => expect(v).toBe(''),
    );

    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);

    // A rejected merge is shown, and changes nothing.
    await page.getByLabel('Merge JSON into the metadata').fill('{"a.b": 1}');
    await page.getByRole('button', { name: 'Merge' }).click();
    await page.getByRole('alert').filter({ hasText: 'must not contain "."' }).waitFor();
    await eventually(metadata, (m) => expect(m).toEqual(merged));

    // The same state after a reload (it lives on the server; the URL says which session).
    await page.reload();
    await page.getByRole('heading', { name: 'tea-chat' }).waitFor();
    await eventually(
      () => messageTexts(page),
      (texts) => expect(texts).toEqual(['Which tea goes with lemon?', 'Earl Grey, or a plain black tea.', 'Keep answers short.']),
    );
    expect(await metadata()).toEqual(merged);
    expect(await page.locator('.session.selected .session-id').textContent()).toBe('tea-chat');

    // The user filter: a session without a user is hidden when filtering by ada.
    await page.getByText('New session').click();
    await page.getByLabel('Session ID').fill('loose-chat');
    await page.getByRole('button', { name: 'Create session' }).click();
    await page.getByRole('heading', { name: 'loose-chat' }).waitFor();
    // Most recent activity first: the new session, then the chat whose last message came before it.
    await eventually(sessionIds, (ids) => expect(ids).toEqual(['loose-chat', 'tea-chat']));
    await page.getByLabel('Show sessions of').selectOption('ada');
    await eventually(sessionIds, (ids) => expect(ids).toEqual(['tea-chat']));
    await page.getByLabel('Show sessions of').selectOption('');
    await eventually(sessionIds, (ids) => expect(ids).toEqual(['loose-chat', 'tea-chat']));

    // Delete, with confirmation.
    await page.locator('.session', { hasText: 'tea-chat' }).click();
    await page.getByRole('heading', { name: 'tea-chat' }).waitFor();
    await page.getByRole('button', { name: 'Delete session' }).click();
    await page.getByText('Delete “tea-chat” and all its messages?').waitFor();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.getByText('Pick a session on the left, or create one.').waitFor();
    await eventually(sessionIds, (ids) => expect(ids).toEqual(['loose-chat']));
    await page.reload();
    await eventually(sessionIds, (ids) => expect(ids).toEqual(['loose-chat']));

    // Its old address now shows the server's answer.
    await page.goto(`${server.url}/#/sessions/tea-chat`);
    await page.getByRole('alert').filter({ hasText: 'HTTP 404' }).waitFor();

    expect(page.pageErrors).toEqual([]);
    expect(page.consoleErrors).toEqual([]);
  });

  it('two tabs of one session see each other’s messages live, and new sessions appear in the list', async () => {
    const tabB = await newPage(browser);
    try {
      await page.goto(`${server.url}/#/sessions`);
      await page.getByText('New session').click();
      await page.getByLabel('Session ID').fill('two-tabs');
      await page.getByRole('button', { name: 'Create session' }).click();
      await page.getByText('No messages yet').waitFor();
      await tabB.goto(`${server.url}/#/sessions/two-tabs`);
      await tabB.getByText('No messages yet').waitFor();

      for (const [from, to, text] of [
        [tabB, page, 'Hello from tab B'],
        [page, tabB, 'And back from tab A'],
      ] as const) {
        await from.getByLabel('Message', { exact: true }).fill(text);
        await from.getByLabel('Message', { exact: true }).press('Enter');
        // The other tab neither polls nor reloads: only the live update can show it the message.
        await eventually(
          () => messageTexts(to),
          (shown) => expect(shown.at(-1)).toBe(text),
        );
      }

      // A session made in tab B shows up in tab A's list without a reload.
      await tabB.getByText('New session').click();
      await tabB.getByLabel('Session ID').fill('made-in-tab-b');
      await tabB.getByRole('button', { name: 'Create session' }).click();
      await eventually(sessionIds, (ids) => expect(ids).toContain('made-in-tab-b'), 2000);
    } finally {
      await tabB.close();
    }
  });

  it('loads more sessions as the list scrolls, and deletes a user after confirmation', async () => {
    const core = createCore({ mongoUri: inject('mongoUri'), dbName: server.dbName });
    try {
      for (let i = 1; i <= 30; i++) await core.sessions.add({ sessionId: `bulk-${String(i).padStart(2, '0')}` });
    } finally {
      await core.close();
    }
    await page.goto(`${server.url}/#/sessions`);
    await page.reload(); // the sessions were written behind the UI's back
    await eventually(sessionIds, (ids) => expect(ids.length).toBeGreaterThanOrEqual(25));
    const firstPage = (await sessionIds()).length;
    expect(firstPage).toBeLessThan(33); // one page of 25 (+ maybe the next, if it was in view)
    await page.locator('nav[aria-label="Sessions"] .session').last().scrollIntoViewIfNeeded();
    await page
      .locator('.load-more')
      .scrollIntoViewIfNeeded()
      .catch(() => {});
    await eventually(sessionIds, (ids) => expect(ids).toHaveLength(33)); // loose-chat, two-tabs, made-in-tab-b + 30

    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('cell', { name: 'ada', exact: true }).waitFor();
    await page.getByRole('row', { name: /ada/ }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.getByText('No users yet').waitFor();
    expect(page.pageErrors).toEqual([]);
    expect(page.consoleErrors).toEqual([]);
  });
});
