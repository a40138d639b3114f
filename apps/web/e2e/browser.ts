/**
 * The browser side of the browser tests: Chromium, pages that record what went wrong in them,
 * waiting for the UI, and axe-core.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AxeResults } from 'axe-core';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Debian's Chromium (browsers cannot be downloaded here; CHROMIUM_PATH overrides), headless. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** A page that keeps what went wrong in it, for a test to check that nothing did. */
export type WatchedPage = Page & {
  /** Uncaught errors. */
  pageErrors: string[];
  /** console.error messages, less Chromium's "Failed to load resource" (an HTTP error such as a 404 a test asks for). */
  consoleErrors: string[];
};

/** A new page at `viewport` (desktop by default) that waits 15 s at the most and records its errors. */
export async function newPage(browser: Browser, viewport = DESKTOP): Promise<WatchedPage> {
  const page: WatchedPage = Object.assign(await browser.newPage({ viewport }), { pageErrors: [], consoleErrors: [] });
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (error) => page.pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().includes('Failed to load resource')) page.consoleErrors.push(message.text());
  });
  return page;
}

/** Both kinds of errors a page recorded. */
export const errorsIn = (page: WatchedPage): string[] => [...page.pageErrors, ...page.consoleErrors];

/** Retries a read until its value passes the check (the UI updates asynchronously); after `timeout` ms, the check's failure. */
export async function eventually<T>(read: () => T | Promise<T>, check: (value: T) => void, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await read();
    try {
      check(value);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((ok) => setTimeout(ok, 50));
    }
  }
}

/** The texts of the messages in the open conversation, oldest first. */
export const messageTexts = (page: Page): Promise<string[]> =>
  page.locator('ol[aria-label="Messages"] li.message .content').allTextContents();

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core (injected into the page) on the page as it is now; fails listing its violations, one line each. */
export async function expectNoAxeViolations(page: Page): Promise<void> {
  await page.addScriptTag({ content: AXE_SOURCE });
  const results = await page.evaluate(() => (window as unknown as { axe: { run(): Promise<AxeResults> } }).axe.run());
  const violations = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(violations, 'axe-core violations').toEqual([]);
}
