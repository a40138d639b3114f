/**
 * Editing users on the users page (issue 15, item 4's "users can't be edited"), in Chromium against
 * the app started the way `pnpm start` does: an Edit button per row opens an editor under the row
 * (email, names, a metadata merge with the `{"$delete": true}` marker); saving shows the new values
 * in the row and after a reload; a patch that is not JSON, or that the server refuses, says why and
 * keeps what was typed; Cancel and Escape close it, and focus goes back to the Edit button; on a
 * phone (390×844) the editor fits the screen; axe finds nothing with it open. Saves
 * test-artifacts/users-edit.png and users-edit-phone.png.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createCore } from '@mnemo/core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DESKTOP, eventually, expectNoAxeViolations, launchChromium, newPage, PHONE } from './browser';
import { ROOT, type RunningServer, startServer } from './server';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri')

const ARTIFACTS = join(ROOT, 'test-artifacts');

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  server = await startServer(inject('mongoUri'));
  const core = createCore({ mongoUri: inject('mongoUri'), dbName: server.dbName });
  try {
    await core.init();
    await core.users.add({
      userId: 'ada',
      firstName: 'Ada',
      lastName: 'Byron',
      email: 'ada@example.com',
      metadata: { plan: 'free', team: { name: 'core' }, legacy: true },
    });
    await core.users.add({ userId: 'bob', firstName: 'Bob', email: 'bob@example.com' });
    await core.users.add({ userId: 'cyd', firstName: 'Cyd', email: 'cyd@example.com', metadata: { plan: 'team' } });
  } finally {
    await core.close();
  }
  browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A user's row (not their editor's), found by the user id cell. */
const userRow = (page: Page, userId: string) =>
  page.locator('table.users tbody tr').filter({ has: page.getByRole('cell', { name: userId, exact: true }) });

/** What a user's row shows: name, email and metadata (parsed; null when the row shows none). */
async function rowOf(page: Page, userId: string) {
  const row = userRow(page, userId);
  const code = row.locator('td.user-metadata code');
  return {
    name: (await row.locator('td.user-name').textContent())?.trim(),
    email: (await row.locator('td.user-email').textContent())?.trim(),
    metadata: (await code.count()) === 1 ? (JSON.parse((await code.textContent()) ?? '') as unknown) : null,
  };
}

/** The focused element: its tag, accessible text, and the user id of the row it is in. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    const row = el?.closest('tr');
    return {
      tag: el?.tagName.toLowerCase(),
      text: el?.textContent?.trim(),
      label: el?.closest('label')?.firstChild?.textContent?.trim(),
      expanded: el?.getAttribute('aria-expanded'),
      user: row?.querySelector('td.user-id')?.textContent?.trim(),
    };
  });

const editor = (page: Page) => page.getByRole('form', { name: /^Edit / });

describe('editing users', () => {
  it('edits names, email and metadata; bad and refused patches keep what was typed; Cancel and Escape close', async () => {
    const page = await newPage(browser, DESKTOP);
    try {
      await page.goto(`${server.url}/#/users`);
      await page.getByRole('cell', { name: 'ada', exact: true }).waitFor();
      expect(await rowOf(page, 'ada')).toEqual({
        name: 'Ada Byron',
        email: 'ada@example.com',
        metadata: { plan: 'free', team: { name: 'core' }, legacy: true },
      });

      // Open by keyboard: the editor appears under the row, with the current values, focus in its first field.
      const edit = userRow(page, 'ada').getByRole('button', { name: 'Edit' });
      expect(await edit.getAttribute('aria-expanded')).toBe('false');
      await edit.focus();
      await page.keyboard.press('Enter');
      const form = editor(page);
      await form.waitFor();
      expect(await edit.getAttribute('aria-expanded')).toBe('true');
      expect(await form.getByRole('heading').textContent()).toBe('Edit ada');
      expect(await focused(page)).toMatchObject({ tag: 'input', label: 'Email' });
      expect(await form.getByLabel('Email').inputValue()).toBe('ada@example.com');
      expect(await form.getByLabel('First name').inputValue()).toBe('Ada');
      expect(await form.getByLabel('Last name').inputValue()).toBe('Byron');
      // The current metadata, read-only, and a hint on how to remove a key.
      const current = form.getByRole('figure', { name: 'Current metadata' });
      expect(JSON.parse((await current.locator('pre').textContent()) ?? '')).toEqual({
        plan: 'free',
        team: { name: 'core' },
        legacy: true,
      });
      const patchBox = form.getByLabel('Merge JSON into the metadata');
      expect(await patchBox.getAttribute('aria-describedby')).toBeTruthy();
      await form.getByText('{"key": {"$delete": true}} removes a key').waitFor();
      await expectNoAxeViolations(page);

      // Save: new names and email, a nested merge, a key removed.
      await form.getByLabel('Email').fill('augusta@example.com');
      await form.getByLabel('First name').fill('Augusta Ada');
      await form.getByLabel('Last name').fill(' King ');
      await patchBox.fill('{"plan": "pro", "team": {"size": 3}, "legacy": {"$delete": true}}');
      await page.screenshot({ path: join(ARTIFACTS, 'users-edit.png') });
      await form.getByRole('button', { name: 'Save' }).click();
      await form.waitFor({ state: 'detached' });
      const saved = { name: 'Augusta Ada King', email: 'augusta@example.com', metadata: { plan: 'pro', team: { name: 'core', size: 3 } } };
      await eventually(
        () => rowOf(page, 'ada'),
        (row) => expect(row).toEqual(saved),
      );
      expect(await focused(page)).toEqual({ tag: 'button', text: 'Edit', label: undefined, expanded: 'false', user: 'ada' });
      await page.locator('.toast', { hasText: 'Saved ada' }).waitFor();
      // The other rows are untouched.
      expect(await rowOf(page, 'bob')).toEqual({ name: 'Bob', email: 'bob@example.com', metadata: null });

      // The server has it: the same after a reload.
      await page.reload();
      await page.getByRole('cell', { name: 'ada', exact: true }).waitFor();
      expect(await rowOf(page, 'ada')).toEqual(saved);

      // A patch that is not JSON: said so, nothing sent, nothing typed lost.
      await userRow(page, 'ada').getByRole('button', { name: 'Edit' }).click();
      await form.waitFor();
      expect(JSON.parse((await current.locator('pre').textContent()) ?? '')).toEqual(saved.metadata);
      await form.getByLabel('Last name').fill('Lovelace');
      await patchBox.fill('{"plan": }');
      await form.getByRole('button', { name: 'Save' }).click();
      await form
        .getByRole('alert')
        .filter({ hasText: /^Not valid JSON: / })
        .waitFor();
      expect(await form.getByLabel('Last name').inputValue()).toBe('Lovelace');
      expect(await patchBox.inputValue()).toBe('{"plan": }');
      expect((await rowOf(page, 'ada')).name).toBe('Augusta Ada King');

      // JSON that is not an object.
      await patchBox.fill('["plan"]');
      await form.getByRole('button', { name: 'Save' }).click();
      await form.getByRole('alert').filter({ hasText: 'Metadata must be a JSON object' }).waitFor();

      // A patch the server refuses (a key starting with "$"): its 400 and its reason, what was typed kept.
      await patchBox.fill('{"$set": {"plan": "enterprise"}}');
      await form.getByRole('button', { name: 'Save' }).click();
      const refused = form.getByRole('alert').filter({ hasText: 'The changes were not saved' });
      await refused.waitFor();
      expect(await refused.textContent()).toContain('HTTP 400');
      expect(await refused.textContent()).toContain('metadata key "$set" at metadata must not start with "$"');
      expect(await form.getByRole('alert').count()).toBe(1); // the JSON problem is gone
      expect(await form.getByLabel('Last name').inputValue()).toBe('Lovelace');
      expect(await patchBox.inputValue()).toBe('{"$set": {"plan": "enterprise"}}');
      expect(await rowOf(page, 'ada')).toEqual(saved);
      await expectNoAxeViolations(page);

      // Escape closes without saving; focus back on Edit.
      await patchBox.focus();
      await page.keyboard.press('Escape');
      await form.waitFor({ state: 'detached' });
      expect(await focused(page)).toMatchObject({ tag: 'button', text: 'Edit', expanded: 'false', user: 'ada' });
      expect(await rowOf(page, 'ada')).toEqual(saved);

      // Cancel too; reopened, the editor starts from the saved values.
      await page.keyboard.press('Enter');
      await form.waitFor();
      expect(await form.getByLabel('Last name').inputValue()).toBe('King');
      expect(await patchBox.inputValue()).toBe('');
      await form.getByLabel('First name').fill('Nobody');
      await form.getByRole('button', { name: 'Cancel' }).click();
      await form.waitFor({ state: 'detached' });
      expect(await focused(page)).toMatchObject({ tag: 'button', text: 'Edit', user: 'ada' });
      expect(await rowOf(page, 'ada')).toEqual(saved);

      // An emptied field clears it; the fields left alone stay as they are.
      await userRow(page, 'bob').getByRole('button', { name: 'Edit' }).click();
      await form.waitFor();
      await form.getByLabel('Email').fill('');
      await form.getByLabel('Last name').fill('Builder');
      await form.getByLabel('Last name').press('Enter'); // submits
      await form.waitFor({ state: 'detached' });
      expect(await rowOf(page, 'bob')).toEqual({ name: 'Bob Builder', email: '—', metadata: null });
      await page.reload();
      await page.getByRole('cell', { name: 'bob', exact: true }).waitFor();
      expect(await rowOf(page, 'bob')).toEqual({ name: 'Bob Builder', email: '—', metadata: null });
      expect(await rowOf(page, 'ada')).toEqual(saved);
      expect(page.pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('on a phone the editor fits the screen and axe finds nothing', async () => {
    const page = await newPage(browser, PHONE);
    try {
      await page.goto(`${server.url}/#/users`);
      await page.getByRole('cell', { name: 'cyd', exact: true }).waitFor();
      await userRow(page, 'cyd').getByRole('button', { name: 'Edit' }).click();
      const form = editor(page);
      await form.waitFor();
      await form.getByLabel('Merge JSON into the metadata').fill('{"plan": {"$delete": true}, "seats": 5}');
      await form.getByLabel('Merge JSON into the metadata').press('Tab');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
      // Every field and button of the editor is within the screen's width.
      const boxes = await form
        .locator('input, textarea, button, pre')
        .evaluateAll((els) => els.map((el) => el.getBoundingClientRect().toJSON() as DOMRect));
      expect(boxes.length).toBeGreaterThan(5);
      for (const box of boxes) {
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
      }
      await expectNoAxeViolations(page);
      await page.screenshot({ path: join(ARTIFACTS, 'users-edit-phone.png') });
      await form.getByRole('button', { name: 'Save' }).click();
      await form.waitFor({ state: 'detached' });
      await eventually(
        () => rowOf(page, 'cyd'),
        (row) => expect(row.metadata).toEqual({ seats: 5 }),
      );
      expect(await focused(page)).toMatchObject({ tag: 'button', text: 'Edit', user: 'cyd' });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
      expect(page.pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
