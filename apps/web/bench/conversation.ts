import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { countOptions, machine, ms, percentile, table } from '@mnemo/core/bench';
import { withBenchServer } from '@mnemo/server/bench';
import { type Browser, chromium, type Page } from 'playwright-core';
import { mixedMessage } from './messages';

const USAGE = 'usage: bench:ui [--messages 5000] [--loads 5]';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BATCH = 1000;
const WHEEL_STEP = -400;
const SCROLL_LIMIT_MS = 180_000;

/** Records, in the page, when the first message row and the first rendered Markdown appear (ms since navigation start). */
const WATCH_FIRST_MESSAGE = () => {
  const marks: Record<string, number> = {};
  (window as unknown as { __bench: Record<string, number> }).__bench = marks;
  new MutationObserver((_, observer) => {
    if (marks.row === undefined && document.querySelector('li.message')) marks.row = performance.now();
    if (marks.markdown === undefined && document.querySelector('li.message .markdown:not(.plain)')) {
      marks.markdown = performance.now();
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
};

async function coldLoad(browser: Browser, url: string): Promise<{ row: number; markdown: number; rows: number }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.addInitScript(WATCH_FIRST_MESSAGE);
    await page.goto(url);
    await page.waitForFunction(() => (window as unknown as { __bench: { markdown?: number } }).__bench.markdown !== undefined, null, {
      timeout: 60_000,
    });
    const marks = await page.evaluate(() => (window as unknown as { __bench: { row: number; markdown: number } }).__bench);
    return { ...marks, rows: await page.locator('li.message').count() };
  } finally {
    await context.close();
  }
}

interface ScrollResult {
  frames: number[];
  steps: number;
  seconds: number;
  maxRows: number;
  loaded: number;
}

/** Wheel steps over the message list until `done` (read in the page) holds; rAF deltas meanwhile. */
async function scroll(page: Page, deltaY: number, done: () => boolean): Promise<ScrollResult> {
  const box = (await page.locator('.messages').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  // As a string: tsx would wrap named functions in a helper the page does not have.
  await page.evaluate(`(() => {
    const w = window;
    w.__frames = [];
    w.__rows = 0;
    w.__stop = false;
    let last = performance.now();
    const tick = (now) => {
      w.__frames.push(now - last);
      last = now;
      w.__rows = Math.max(w.__rows, document.querySelectorAll('li.message').length);
      if (!w.__stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })()`);
  const started = Date.now();
  let steps = 0;
  while (!(await page.evaluate(done)) && Date.now() - started < SCROLL_LIMIT_MS) {
    await page.mouse.wheel(0, deltaY);
    steps++;
  }
  const seconds = (Date.now() - started) / 1000;
  const result = await page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __rows: number; __stop: boolean };
    w.__stop = true;
    return { frames: w.__frames.slice(1), maxRows: w.__rows };
  });
  const loaded = await page.evaluate(() => Number(document.querySelector('li.message')?.getAttribute('aria-setsize') ?? 0));
  return { ...result, steps, seconds, loaded };
}

async function main() {
  const { messages, loads } = countOptions(process.argv.slice(2), { messages: 5000, loads: 5 }, USAGE);
  console.log(machine());
  const webDir = mkdtempSync(join(tmpdir(), 'mnemo-bench-ui-web-'));
  let browser: Browser | undefined;
  try {
    const built = performance.now();
    // Into a folder of its own: a build of apps/web/dist meanwhile (a test run) would swap the chunks under the page.
    await promisify(execFile)(
      'pnpm',
      ['--filter', '@mnemo/web', 'exec', 'vite', 'build', '--logLevel', 'warn', '--outDir', webDir, '--emptyOutDir'],
      {
        cwd: ROOT,
      },
    );
    console.log(`web UI built in ${((performance.now() - built) / 1000).toFixed(1)} s`);

    await withBenchServer(
      'ui',
      async ({ url: origin, core, db }) => {
        const sessionId = 'long-markdown';
        const seeded = performance.now();
        await core.sessions.add({ sessionId, metadata: { purpose: 'ui bench' } });
        for (let from = 1; from <= messages; from += BATCH) {
          const batch = Array.from({ length: Math.min(BATCH, messages - from + 1) }, (_, i) => mixedMessage(from + i));
          await core.memory.add({ sessionId, messages: batch });
        }
        console.log(`${messages} messages seeded in ${((performance.now() - seeded) / 1000).toFixed(1)} s`);

        const url = `${origin}/#/sessions/${sessionId}`;
        console.log(`Mnemo (in this process) at ${url}, database ${db ? db.backend : 'MONGODB_URI'}\n`);

        browser = await chromium.launch({
          executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
          args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
        });

        await coldLoad(browser, url); // untimed: the server's and database's first reads
        const timed = [];
        for (let i = 0; i < loads; i++) timed.push(await coldLoad(browser, url));
        const rowTimes = timed.map((t) => t.row).sort((a, b) => a - b);
        const markdownTimes = timed.map((t) => t.markdown).sort((a, b) => a - b);

        const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        const page = await context.newPage();
        await page.goto(url);
        await page.locator('li.message .markdown:not(.plain)').first().waitFor();
        await page.waitForTimeout(500);
        const up = await scroll(page, WHEEL_STEP, () => {
          const list = document.querySelector('.messages');
          const first = document.querySelector('li.message[aria-posinset="1"]');
          return Boolean(list && first && list.scrollTop <= 0 && !document.querySelector('[aria-busy="true"]'));
        });
        const reachedFirst = await page.locator('li.message[aria-posinset="1"]').count();
        const down = await scroll(page, -WHEEL_STEP, () => {
          const list = document.querySelector('.messages');
          return Boolean(list && list.scrollHeight - list.scrollTop - list.clientHeight < 2);
        });
        await context.close();

        const loadRows = [['cold load (ms from navigation start)', 'median', 'min', 'max']];
        loadRows.push(['first message row in the DOM', ms(percentile(rowTimes, 50)), ms(rowTimes[0]!), ms(rowTimes.at(-1)!)]);
        loadRows.push([
          'first message rendered as Markdown',
          ms(percentile(markdownTimes, 50)),
          ms(markdownTimes[0]!),
          ms(markdownTimes.at(-1)!),
        ]);
        console.log(`${loads} cold loads of a ${messages}-message session, 1280×800\n\n${table(loadRows)}\n`);

        const scrollRows = [
          [
            'scrolling (mouse wheel, 400 px a step)',
            'steps',
            's',
            'frames',
            'p50 ms',
            'p95 ms',
            'max ms',
            'frames > 50 ms',
            'most rows in the DOM',
          ],
        ];
        for (const [name, run] of [
          [`up, newest → #1 (${up.loaded} messages, older pages loading)`, up],
          ['down, #1 → newest (all loaded)', down],
        ] as const) {
          const sorted = [...run.frames].sort((a, b) => a - b);
          scrollRows.push([
            name,
            String(run.steps),
            run.seconds.toFixed(1),
            String(sorted.length),
            ms(percentile(sorted, 50)),
            ms(percentile(sorted, 95)),
            ms(sorted.at(-1) ?? 0),
            String(sorted.filter((f) => f > 50).length),
            String(run.maxRows),
          ]);
        }
        console.log(`${table(scrollRows)}\n`);
        console.log(
          `message rows in the DOM after a cold load: ${timed[0]!.rows}; message #1 reached by scrolling: ${reachedFirst === 1 ? 'yes' : 'no'}`,
        );
      },
      { durable: false, webDir },
    );
  } finally {
    await browser?.close().catch(() => {});
    rmSync(webDir, { recursive: true, force: true });
  }
}

await main();
