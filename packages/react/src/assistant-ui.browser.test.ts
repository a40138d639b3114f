// @vitest-environment node
/**
 * The assistant-ui recipe of docs/assistant-ui.md, as written, in Chromium: the real @assistant-ui/react and
 * @assistant-ui/react-ai-sdk runtime over a real Mnemo server. The recipe's code block is read from the Markdown,
 * bundled with Vite beside a small entry (a local chat transport: no model, no network), and the page is served
 * from the Mnemo server's origin (Playwright fulfils /aui/ from the bundle; tRPC goes to the real server).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import react from '@vitejs/plugin-react';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueId, useTestServer } from './test/harness';

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Inside the package, so the bundle resolves the package's own dependencies.
const WORK = join(PACKAGE, 'node_modules', '.cache', `assistant-ui-page-${process.pid}`);

/** The ```tsx block under "## The recipe" in docs/assistant-ui.md. */
function recipe(): string {
  const markdown = readFileSync(join(PACKAGE, '../../docs/assistant-ui.md'), 'utf8');
  const section = markdown.slice(markdown.indexOf('## The recipe'));
  const match = /```tsx\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('docs/assistant-ui.md: no tsx block under "The recipe"');
  return match[1]!;
}

const ENTRY = `
import { createMnemoClient } from '@mnemo/client';
import type { ChatTransport, UIMessage, UIMessageChunk } from 'ai';
import { createRoot } from 'react-dom/client';
import { MnemoChat } from './chat';

const textOf = (m: UIMessage) => m.parts.map((p) => (p.type === 'text' ? p.text : '')).join('');
// A local model: each reply is numbered (across reloads) and names the question it answers.
const transport: ChatTransport<UIMessage> = {
  async sendMessages({ messages }) {
    const n = Number(localStorage.getItem('replies') ?? '0') + 1;
    localStorage.setItem('replies', String(n));
    const question = textOf(messages.findLast((m) => m.role === 'user')!);
    const text = 'Answer ' + n + ' to: ' + question;
    return new ReadableStream<UIMessageChunk>({
      start(c) {
        c.enqueue({ type: 'start', messageId: crypto.randomUUID() });
        c.enqueue({ type: 'text-start', id: 't' });
        c.enqueue({ type: 'text-delta', id: 't', delta: text });
        c.enqueue({ type: 'text-end', id: 't' });
        c.enqueue({ type: 'finish' });
        c.close();
      },
    });
  },
  async reconnectToStream() {
    return null;
  },
};
const params = new URLSearchParams(location.search);
createRoot(document.getElementById('root')!).render(
  <MnemoChat client={createMnemoClient({ url: location.origin })} userId={params.get('user')!} threadId={params.get('thread') ?? undefined} transport={transport} />,
);
`;

const server = useTestServer();
const USER = uniqueId('aui-user');
let browser: Browser;
let dist: string;

beforeAll(async () => {
  mkdirSync(WORK, { recursive: true });
  writeFileSync(join(WORK, 'chat.tsx'), recipe());
  writeFileSync(join(WORK, 'main.tsx'), ENTRY);
  writeFileSync(
    join(WORK, 'index.html'),
    '<!doctype html><html><body><div id="root"></div><script type="module" src="./main.tsx"></script></body></html>',
  );
  dist = join(WORK, 'dist');
  // A production build: vitest sets NODE_ENV=test, which would compile JSX for React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  await build({
    root: WORK,
    base: '/aui/',
    mode: 'production',
    logLevel: 'warn',
    configFile: false,
    plugins: [react()],
    resolve: { alias: { '@mnemo/react/assistant-ui': join(PACKAGE, 'src/assistant-ui.ts') } },
    define: { 'process.env.NODE_ENV': '"production"' },
    build: { outDir: dist, emptyOutDir: true, minify: false },
  }).finally(() => {
    process.env.NODE_ENV = nodeEnv;
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  rmSync(WORK, { recursive: true, force: true });
});

/** A page on the Mnemo server's origin whose /aui/ is the bundle (`?user=…&thread=…`); it records its errors. */
async function openChat(sessionId?: string, userId = USER): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.route(`${server().url}/aui/**`, async (route) => {
    const path = new URL(route.request().url()).pathname.replace(/^\/aui\/?/, '') || 'index.html';
    const type = path.endsWith('.js') ? 'text/javascript' : path.endsWith('.css') ? 'text/css' : 'text/html';
    await route.fulfill({ body: readFileSync(join(dist, path)), contentType: type });
  });
  await page.goto(`${server().url}/aui/?user=${userId}${sessionId ? `&thread=${sessionId}` : ''}`);
  await page
    .getByLabel('Message', { exact: true })
    .waitFor()
    .catch((error: Error) => {
      throw new Error(`the chat did not render: ${error.message}\npage errors: ${errors.join('\n')}`);
    });
  return { page, errors };
}

const texts = (page: Page) => page.locator('.message .text').allTextContents();
const picker = (page: Page, role: 'user' | 'assistant') => page.locator(`.message.${role} .branch`).first();
/** The active path as stored, for waiting until the runtime's writes have landed before a reload. */
const storedPath = async (sessionId: string) => (await server().core.memory.get({ sessionId })).messages.map((m) => m.content);

describe('assistant-ui on Mnemo, in Chromium', () => {
  it('the recipe typechecks as written (strict, with the page that renders it)', async () => {
    // The package's compiler settings; the recipe's import of this subpath maps to its source.
    const tsconfig = {
      extends: join(PACKAGE, '../../tsconfig.base.json'),
      compilerOptions: {
        lib: ['ES2023', 'DOM', 'DOM.Iterable'],
        jsx: 'react-jsx',
        noEmit: true,
        paths: { '@mnemo/react/assistant-ui': [join(PACKAGE, 'src/assistant-ui.ts')] },
      },
      files: ['chat.tsx', 'main.tsx'],
    };
    writeFileSync(join(WORK, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = join(PACKAGE, 'node_modules/.bin/tsc');
    await promisify(execFile)(tsc, ['-p', join(WORK, 'tsconfig.json')], { cwd: WORK }).catch((error: { stdout?: string }) => {
      throw new Error(`tsc failed:\n${error.stdout}`);
    });
  }, 120_000);

  it('edit → 2/2 after a reload; back to 1/2 stays after a reload; a regenerated answer keeps both after a reload', async () => {
    const sessionId = uniqueId('aui-browser');
    // The thread to open: a session of the user, as the thread list's "New" would create it.
    await server().core.users.add({ userId: USER });
    await server().core.sessions.add({ sessionId, userId: USER });
    const { page, errors } = await openChat(sessionId);

    await page.getByLabel('Message', { exact: true }).fill('Name a tea');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => texts(page)).toEqual(['Name a tea', 'Answer 1 to: Name a tea']);

    // Edit the question: a new branch beside the first.
    await page.locator('.message.user').getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Edit message').fill('Name a green tea');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => texts(page)).toEqual(['Name a green tea', 'Answer 2 to: Name a green tea']);
    await expect.poll(() => storedPath(sessionId)).toEqual(['Name a green tea', 'Answer 2 to: Name a green tea']);

    await page.reload();
    await expect.poll(() => texts(page)).toEqual(['Name a green tea', 'Answer 2 to: Name a green tea']);
    expect(await picker(page, 'user').textContent()).toBe('2/2');

    // Back to the first version: the runtime reports the switch, the adapter stores the head.
    await page.locator('.message.user').getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => texts(page)).toEqual(['Name a tea', 'Answer 1 to: Name a tea']);
    await expect.poll(() => storedPath(sessionId)).toEqual(['Name a tea', 'Answer 1 to: Name a tea']);
    await page.reload();
    await expect.poll(() => texts(page)).toEqual(['Name a tea', 'Answer 1 to: Name a tea']);
    expect(await picker(page, 'user').textContent()).toBe('1/2');

    // Regenerate the answer: both answers stay, the new one shown.
    await page.locator('.message.assistant').getByRole('button', { name: 'Regenerate' }).click();
    await expect.poll(() => texts(page)).toEqual(['Name a tea', 'Answer 3 to: Name a tea']);
    await expect.poll(() => storedPath(sessionId)).toEqual(['Name a tea', 'Answer 3 to: Name a tea']);
    await page.reload();
    await expect.poll(() => texts(page)).toEqual(['Name a tea', 'Answer 3 to: Name a tea']);
    expect(await picker(page, 'assistant').textContent()).toBe('2/2');
    await page.locator('.message.assistant').getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => texts(page)).toEqual(['Name a tea', 'Answer 1 to: Name a tea']);
    expect(await picker(page, 'assistant').textContent()).toBe('1/2');

    // The whole tree is in Mnemo: two questions, three answers.
    const tree = await server().core.memory.tree({ sessionId });
    expect(tree.items.map((m) => m.content).sort()).toEqual(
      ['Answer 1 to: Name a tea', 'Answer 2 to: Name a green tea', 'Answer 3 to: Name a tea', 'Name a green tea', 'Name a tea'].sort(),
    );
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('a new thread becomes a session of the user, with its messages and a title from the first question', async () => {
    const user = server().core.users;
    await user.add({ userId: USER }).catch(() => undefined);
    const before = new Set((await server().core.sessions.list({ userId: USER })).items.map((s) => s.sessionId));
    const { page, errors } = await openChat();
    await page.getByLabel('Message', { exact: true }).fill('Which tea for winter?');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect
      .poll(() => texts(page))
      .toEqual(['Which tea for winter?', expect.stringMatching(/^Answer \d+ to: Which tea for winter\?$/)]);
    const created = async () => (await server().core.sessions.list({ userId: USER })).items.filter((s) => !before.has(s.sessionId));
    await expect.poll(async () => (await created()).length).toBe(1);
    const [session] = await created();
    await expect.poll(() => storedPath(session!.sessionId)).toEqual(['Which tea for winter?', expect.stringMatching(/^Answer \d+/)]);
    await expect
      .poll(async () => (await server().core.sessions.get({ sessionId: session!.sessionId })).metadata.title)
      .toBe('Which tea for winter?');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('the thread list: sessions by activity, a click opens one with its messages, archive and unarchive, delete', async () => {
    const userId = uniqueId('aui-list');
    await server().core.users.add({ userId });
    const add = async (sessionId: string, title: string, text: string) => {
      await server().core.sessions.add({ sessionId, userId, metadata: { title } });
      await server().core.memory.add({
        sessionId,
        messages: [
          { role: 'user', content: text },
          { role: 'assistant', content: `On ${text}` },
        ],
      });
    };
    await add(`${userId}-a`, 'Oolong', 'oolong');
    await add(`${userId}-b`, 'Sencha', 'sencha');
    const { page, errors } = await openChat(undefined, userId);
    const chats = page.getByRole('list', { name: 'Chats', exact: true });
    const archived = page.getByRole('list', { name: 'Archived chats' });
    // Most recent activity first.
    await expect.poll(() => chats.locator('.title').allTextContents()).toEqual(['Sencha', 'Oolong']);

    await chats.getByRole('button', { name: 'Oolong' }).click();
    await expect.poll(() => texts(page)).toEqual(['oolong', 'On oolong']);

    await chats.locator('.thread', { hasText: 'Sencha' }).getByRole('button', { name: 'Archive' }).click();
    await expect.poll(() => archived.locator('.title').allTextContents()).toEqual(['Sencha']);
    await expect.poll(async () => (await server().core.sessions.get({ sessionId: `${userId}-b` })).metadata.archived).toBe(true);
    await page.reload();
    await expect.poll(() => archived.locator('.title').allTextContents()).toEqual(['Sencha']);
    await archived.getByRole('button', { name: 'Unarchive' }).click();
    await expect.poll(() => chats.locator('.title').allTextContents()).toEqual(['Sencha', 'Oolong']);
    await expect.poll(async () => (await server().core.sessions.get({ sessionId: `${userId}-b` })).metadata).toEqual({ title: 'Sencha' });

    await chats.locator('.thread', { hasText: 'Oolong' }).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => chats.locator('.title').allTextContents()).toEqual(['Sencha']);
    await expect.poll(async () => (await server().core.sessions.list({ userId })).items.map((s) => s.sessionId)).toEqual([`${userId}-b`]);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
