/**
 * A reply being written, in Chromium against the app started the way `pnpm start` does: its text
 * grows live, a reload mid-reply shows what is stored and goes on growing, and its Stop button
 * ends it for the writer too.
 */
import { createMnemoTRPCClient } from '@mnemo/react';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { errorsIn, eventually, launchChromium, newPage } from './browser';
import { type RunningServer, startServer } from './server';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri')

let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  server = await startServer(inject('mongoUri'));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('a streaming reply in the chat UI', () => {
  it('grows live, continues after a reload, and Stop ends it for its writer too', async () => {
    // The writer: a backend saving a model's reply as it streams, through the server.
    const writer = createMnemoTRPCClient({ url: server.url });
    const sessionId = 'streaming-reply';
    await writer.memory.add.mutate({
      sessionId,
      messages: [
        { role: 'user', content: 'Tell me a story' },
        { role: 'assistant', content: 'Once upon', uuid: 'reply-1', status: 'streaming' },
      ],
    });
    const page = await newPage(browser);
    try {
      await page.goto(`${server.url}/#/sessions/${sessionId}`);
      const reply = page.locator('li.message[data-uuid="reply-1"]');
      await reply.getByText('Once upon').waitFor();
      expect(await reply.locator('.status').textContent()).toBe('streaming');
      const stop = reply.getByRole('button', { name: 'Stop' });
      await stop.waitFor();

      await writer.message.update.mutate({ sessionId, uuid: 'reply-1', append: ' a time' });
      await eventually(
        () => reply.locator('.content').textContent(),
        (text) => expect(text).toBe('Once upon a time'),
      );

      // A reload mid-reply: what is stored, then it goes on.
      await page.reload();
      await reply.getByText('Once upon a time').waitFor();
      await writer.message.update.mutate({ sessionId, uuid: 'reply-1', append: ' there was a test' });
      await eventually(
        () => reply.locator('.content').textContent(),
        (text) => expect(text).toBe('Once upon a time there was a test'),
      );

      await reply.getByRole('button', { name: 'Stop' }).click();
      await eventually(
        () => reply.locator('.status').textContent(),
        (status) => expect(status).toBe('stopped'),
      );
      expect(await reply.getByRole('button', { name: 'Stop' }).count()).toBe(0);
      // The writer's next append is answered 'stopped' and changes nothing.
      expect(await writer.message.update.mutate({ sessionId, uuid: 'reply-1', append: '…' })).toMatchObject({
        content: 'Once upon a time there was a test',
        status: 'stopped',
      });
      expect(await reply.locator('.content').textContent()).toBe('Once upon a time there was a test');
      expect(errorsIn(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
