/**
 * Conversation trees in the chat UI, in Chromium against the real server process: a message with another version
 * shows "‹ 2 / 2 ›"; the previous arrow switches the conversation to the first version (session.setHead), and the
 * choice survives a reload. Editing a question adds the edited text as a new version beside it (the original and its
 * answer stay, one arrow away).
 */
import { createCore } from '@mnemo/core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { errorsIn, eventually, launchChromium, messageTexts, newPage } from './browser';
import { type RunningServer, startServer } from './server';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri')

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  server = await startServer(inject('mongoUri'));
  const core = createCore({ mongoUri: inject('mongoUri'), dbName: server.dbName });
  try {
    await core.init();
    await core.memory.add({
      sessionId: 'branches',
      messages: [
        { role: 'user', content: 'Name a tea', uuid: 'q' },
        { role: 'assistant', content: 'Sencha', uuid: 'a1' },
      ],
    });
    // A regenerated answer: a second version under the question, now the conversation.
    await core.memory.add({ sessionId: 'branches', parentId: 'q', messages: [{ role: 'assistant', content: 'Oolong', uuid: 'a2' }] });
    await core.memory.add({
      sessionId: 'regenerate',
      messages: [
        { role: 'user', content: 'Name a coffee' },
        { role: 'assistant', content: 'Espresso' },
      ],
    });
    await core.memory.add({
      sessionId: 'edit',
      messages: [
        { role: 'user', content: 'Name a juice' },
        { role: 'assistant', content: 'Orange' },
      ],
    });
  } finally {
    await core.close();
  }
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('branches in the chat UI', () => {
  it('shows 2 / 2 on the regenerated answer, switches to 1 / 2, and keeps it after a reload', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/#/sessions/branches`);
    await eventually(
      () => messageTexts(page),
      (texts) => expect(texts).toEqual(['Name a tea', 'Oolong']),
    );
    const picker = page.locator('li.message', { hasText: 'Oolong' }).getByRole('group', { name: 'Version 2 of 2' });
    await picker.waitFor();
    expect(await picker.getByRole('button', { name: 'Next version' }).isDisabled()).toBe(true);
    await picker.getByRole('button', { name: 'Previous version' }).click();
    await eventually(
      () => messageTexts(page),
      (texts) => expect(texts).toEqual(['Name a tea', 'Sencha']),
    );
    await page.locator('li.message', { hasText: 'Sencha' }).getByRole('group', { name: 'Version 1 of 2' }).waitFor();
    // The question has one version: no picker.
    expect(await page.locator('li.message', { hasText: 'Name a tea' }).locator('.branch-picker').count()).toBe(0);
    await page.reload();
    await eventually(
      () => messageTexts(page),
      (texts) => expect(texts).toEqual(['Name a tea', 'Sencha']),
    );
    await page.locator('li.message', { hasText: 'Sencha' }).getByRole('group', { name: 'Version 1 of 2' }).waitFor();
    expect(errorsIn(page)).toEqual([]);
  });

  it('"Regenerate from here" sets the answer aside, and the answer written next is version 2 of 2 beside it', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/#/sessions/regenerate`);
    const answer = page.locator('li.message', { hasText: 'Espresso' });
    await answer.getByRole('button', { name: /^Details/ }).click();
    await answer.getByRole('button', { name: 'Regenerate from here…' }).click();
    await answer.getByRole('button', { name: 'Set aside and regenerate' }).click();
    await eventually(
      () => messageTexts(page),
      (texts) => expect(texts).toEqual(['Name a coffee']),
    );
    // The app writes the new answer (here through Zep's REST route, as any backend may).
    const posted = await fetch(`${server.url}/api/v1/sessions/regenerate/memory`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'assistant', role_type: 'assistant', content: 'Flat white' }] }),
    });
    expect(posted.ok).toBe(true);
    await page.reload();
    await eventually(
      () => messageTexts(page),
      (texts) => expect(texts).toEqual(['Name a coffee', 'Flat white']),
    );
    const picker = page.locator('li.message', { hasText: 'Flat white' }).getByRole('group', { name: 'Version 2 of 2' });
    await picker.getByRole('button', { name: 'Previous version' }).click();
    await eventually(
      () => messageTexts(page),
      (texts) => expect(texts).toEqual(['Name a coffee', 'Espresso']),
    );
    expect(errorsIn(page)).toEqual([]);
  });

  it('Edit of a question adds a new version under its parent: 2 / 2 after a reload, 1 / 2 brings the original and its answer back', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}/#/sessions/edit`);
    // By id: while it is edited its text is in the editor, not in the row's text.
    const uuid = await page.locator('li.message', { hasText: 'Name a juice' }).getAttribute('data-uuid');
    const question = page.locator(`li.message[data-uuid="${uuid}"]`);
    await question.getByRole('button', { name: /^Details/ }).click();
    await question.getByRole('button', { name: 'Edit text' }).click();
    await question.getByLabel('Message text').fill('Name a smoothie');
    await question.getByRole('button', { name: 'Save as a new version' }).click();
    // The edited question is the conversation now; the old answer went with the old version.
    await eventually(
      () => messageTexts(page),
      (texts) => expect(texts).toEqual(['Name a smoothie']),
    );
    // The app writes the answer; it goes under the edited question (the head).
    const posted = await fetch(`${server.url}/api/v1/sessions/edit/memory`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'assistant', role_type: 'assistant', content: 'Mango' }] }),
    });
    expect(posted.ok).toBe(true);
    await page.reload();
    await eventually(
      () => messageTexts(page),
      (texts) => expect(texts).toEqual(['Name a smoothie', 'Mango']),
    );
    const picker = page.locator('li.message', { hasText: 'Name a smoothie' }).getByRole('group', { name: 'Version 2 of 2' });
    await picker.waitFor();
    await picker.getByRole('button', { name: 'Previous version' }).click();
    await eventually(
      () => messageTexts(page),
      (texts) => expect(texts).toEqual(['Name a juice', 'Orange']),
    );
    await page.locator('li.message', { hasText: 'Name a juice' }).getByRole('group', { name: 'Version 1 of 2' }).waitFor();
    await page.reload();
    await eventually(
      () => messageTexts(page),
      (texts) => expect(texts).toEqual(['Name a juice', 'Orange']),
    );
    await page.locator('li.message', { hasText: 'Name a juice' }).getByRole('group', { name: 'Version 1 of 2' }).waitFor();
    expect(errorsIn(page)).toEqual([]);
  });
});
