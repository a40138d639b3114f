/**
 * The published packages, as a new user meets them: the install lines and snippets of the README ("Install and use
 * in your app") and the recipes of docs/ai-sdk.md and docs/langchain.md, read from those files (never copied here)
 * and run as written in fresh apps outside the workspace, with npm, on every Node version Mnemo supports (22, 24).
 * The packages are not on the registry yet, so `pnpm pack:packages` makes their tarballs and each `@mnemo/…` of an
 * install line is replaced by its tarball's path, as the README tells users to do. Everything else an install line
 * names comes from the registry at its newest version, as it would for a user. On each Node:
 *   backend: the server line, `npx mnemo serve` (from the installed bin, on the test run's database), `npx mnemo
 *            token`, `help`; the client line and snippet, typechecked (strict) and run with node against that server;
 *   web:     the React line and component, typechecked and built with Vite: no `mongodb` or `node:` in the bundle;
 *   recipes: the AI SDK recipe's files typechecked, its chat handler run with the AI SDK's mock model; the
 *            LangChain script run as written.
 * It prints the min+gzip sizes of the client and the hooks (README, "Install and use in your app").
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { freePort } from '@mnemo/local-db';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri')
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { blocksOf, commands, fileBlock, ROOT } from './markdown';

/** The Node versions Mnemo supports (README, "Node versions"; `engines` of the published packages). */
export const NODE_VERSIONS = ['22', '24'];
const PACKAGES = ['client', 'react', 'server'] as const;

interface Run {
  stdout: string;
  stderr: string;
}

/** Runs `command` with sh in `cwd`, `node` (and so npm, npx and every bin) being that Node; fails with its output. */
function sh(command: string, cwd: string, { node, env = {} }: { node: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env: withNode(node, env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('close', (code) =>
      code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`\`${command}\` (in ${cwd}) exited ${code}:\n${stdout}\n${stderr}`)),
    );
  });
}

/** The environment of a user on `node`: it comes first on PATH; npm keeps quiet about audits and funding. */
function withNode(node: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(npm_|MNEMO_|MONGODB_URI$|PORT$|HOST$|INIT_CWD$)/.test(name)),
  );
  return {
    ...base,
    PATH: `${dirname(node)}:${process.env.PATH}`,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'error',
    npm_config_prefer_offline: 'true',
    ...env,
  };
}

const timings: Record<string, number> = {};
async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    timings[step] = (timings[step] ?? 0) + (Date.now() - started) / 1000;
  }
}

let tmp: string;
const tarballs: Record<(typeof PACKAGES)[number], string> = { client: '', react: '', server: '' };
const started = Date.now();

/** An install line of the docs as a user runs it today: each `@mnemo/…` replaced by its tarball. */
const withTarballs = (line: string) =>
  line.replace(/(?<=\s)@mnemo\/(client|react|server)(?=\s|$)/g, (_, name: keyof typeof tarballs) => tarballs[name]);

/** A fresh app: a folder with a package.json, as `npm init` leaves it (ESM). */
function freshApp(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }, null, 2));
  return dir;
}

function write(dir: string, file: string, text: string) {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), text);
}

/** The workspace's version of a dev tool (TypeScript, Vite, types), so the checks use what the workspace tests with. */
function catalogVersion(name: string): string {
  const yaml = readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8');
  const match = new RegExp(`^\\s+"?${name.replace(/[/@.]/g, '\\$&')}"?:\\s*(\\S+)\\s*$`, 'm').exec(yaml);
  if (!match) throw new Error(`${name} is not in the pnpm catalog`);
  return match[1]!.replace(/^\^/, '');
}
const devTools = (...names: string[]) => `npm install -D ${names.map((n) => `${n}@${catalogVersion(n)}`).join(' ')}`;

const STRICT = {
  target: 'ES2022',
  lib: ['ES2023'],
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  isolatedModules: true,
  verbatimModuleSyntax: true,
  // As in Vite's and Next's templates: tRPC's declarations name Node modules (http, ws) a browser app lacks.
  skipLibCheck: true,
  noEmit: true,
};

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'mnemo-consumer-'));
  // The README's way to the tarballs: each pack runs the package's `prepack` (its build) and rewrites
  // workspace:/catalog: versions into real ones.
  await timed('pack', () => sh('pnpm pack:packages', ROOT, { node: process.execPath }));
  for (const name of PACKAGES) {
    const file = readdirSync(join(ROOT, 'packed')).find((f) => f.startsWith(`mnemo-${name}-`) && f.endsWith('.tgz'));
    if (!file) throw new Error(`no tarball for @mnemo/${name} in packed/`);
    tarballs[name] = join(ROOT, 'packed', file);
  }
});

afterAll(() => {
  console.log(
    `[consumer] ${Object.entries(timings)
      .map(([step, s]) => `${step} ${s.toFixed(1)} s`)
      .join(', ')}; total ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed packages', () => {
  it('declare what an app needs: Node 22 or later, no mongodb for the client and the hooks, tRPC by range', () => {
    const manifest = (name: string) =>
      JSON.parse(readFileSync(join(ROOT, name === 'server' ? 'apps' : 'packages', name, 'package.json'), 'utf8'));
    for (const name of PACKAGES) expect(manifest(name).engines).toEqual({ node: '>=22.12' });
    expect(manifest('client').peerDependencies).toMatchObject({ '@trpc/client': '^11.19.0', '@trpc/server': '^11.19.0' });
    expect(manifest('react').peerDependencies).toMatchObject({ '@trpc/client': '^11.19.0', '@trpc/react-query': '^11.19.0' });
  });
});

describe.each(NODE_VERSIONS)('on Node %s, in fresh apps outside the workspace, with npm', (version) => {
  let node: string;
  let url: string;
  let backend: string;
  let server: ChildProcess | undefined;
  let serverOutput = '';
  const at = (step: string) => `${step} (Node ${version})`;

  beforeAll(async () => {
    // A real Node binary of that line from the npm registry (the `node` package), as the README's CI does.
    node = (await sh(`npx -y node@${version} -p process.execPath`, tmp, { node: process.execPath })).stdout.trim();
    expect((await sh('node --version', tmp, { node })).stdout).toMatch(new RegExp(`^v${version}\\.`));
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((ok) => server!.once('exit', ok));
      server.kill('SIGTERM');
      await exited;
    }
    expect(serverOutput).not.toMatch(/"level":(50|60)/);
  });

  it('README: installs the server and runs `npx mnemo serve`, `token` and `help` from it', async () => {
    backend = freshApp(`backend-${version}`);
    const [install, serve, token, help] = commands(blocksOf('README.md', 'Install and use in your app', 'sh')[0]!);
    expect([install, serve, token, help]).toEqual([
      'npm install @mnemo/server',
      'npx mnemo serve',
      'MNEMO_AUTH_SECRET=… npx mnemo token',
      'npx mnemo help',
    ]);
    const installed = await timed(at('npm install'), () => sh(withTarballs(install!), backend, { node }));
    expect(installed.stderr).not.toMatch(/EBADENGINE|ERESOLVE|deprecated @mnemo/);

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = spawn('sh', ['-c', serve!], {
      cwd: backend,
      env: withNode(node, {
        PORT: String(port),
        MONGODB_URI: inject('mongoUri'),
        MNEMO_DB: `consumer_${version}_${randomUUID().slice(0, 8)}`,
        MNEMO_DATA_DIR: join(tmp, `data-${version}`),
        MNEMO_PURGE_EVERY: '0',
        LOG_LEVEL: 'warn',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (chunk) => (serverOutput += chunk));
    server.stderr!.on('data', (chunk) => (serverOutput += chunk));
    await timed(at('server start'), async () => {
      for (const deadline = Date.now() + 60_000; ; ) {
        if (server!.exitCode !== null) throw new Error(`mnemo serve exited with ${server!.exitCode}:\n${serverOutput}`);
        if (Date.now() > deadline) throw new Error(`mnemo serve did not answer in 60 s:\n${serverOutput}`);
        if (
          await fetch(`${url}/healthz`).then(
            (r) => r.ok,
            () => false,
          )
        )
          break;
        await new Promise((ok) => setTimeout(ok, 100));
      }
    });
    // It serves the web UI it ships.
    expect(await (await fetch(`${url}/`)).text()).toContain('<div id="root">');

    const secret = randomBytes(32).toString('base64');
    const { stdout: jwt } = await sh(token!.replace('…', secret), backend, { node });
    expect(jwt.trim()).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect((await sh(help!, backend, { node })).stdout).toMatch(/^ {2}serve +run the server/m);
    const version_ = JSON.parse(readFileSync(join(ROOT, 'apps/server/package.json'), 'utf8')).version;
    expect((await sh('npx mnemo --version', backend, { node })).stdout).toBe(`mnemo ${version_}\n`);
  });

  it('README: installs the typed client, whose snippet typechecks (strict) and runs with node against that server', async () => {
    const section = blocksOf('README.md', 'Install and use in your app');
    const [install] = commands(section.filter((b) => b.lang === 'sh')[1]!);
    expect(install).toBe('npm install @mnemo/client');
    await timed(at('npm install'), () => sh(withTarballs(install!), backend, { node }));
    write(backend, 'client.ts', section.find((b) => b.lang === 'ts')!.code);
    // Types are real, not `any`: wrong calls must be errors.
    write(
      backend,
      'types.ts',
      `import { createMnemoClient } from '@mnemo/client';
const mnemo = createMnemoClient({ url: 'http://localhost:8000' });
export async function wrong() {
  // @ts-expect-error sessionId is required
  await mnemo.memory.get.query({ lastn: 12 });
  // @ts-expect-error no such procedure
  await mnemo.memory.nope.query();
  const created: Date = (await mnemo.session.get.query({ sessionId: 'x' })).createdAt;
  return created;
}
`,
    );
    write(
      backend,
      'tsconfig.json',
      JSON.stringify({
        compilerOptions: { ...STRICT, module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'] },
        include: ['*.ts'],
      }),
    );
    await timed(at('npm install'), () => sh(devTools('typescript', '@types/node'), backend, { node }));
    await timed(at('tsc'), () => sh('npx tsc -p tsconfig.json', backend, { node }));

    // What the package brings: its changelog, and no zod schema built at import (no file of it imports zod).
    const dist = join(backend, 'node_modules/@mnemo/client');
    expect(existsSync(join(dist, 'CHANGELOG.md'))).toBe(true);
    expect(
      readdirSync(join(dist, 'dist')).filter(
        (f) => f.endsWith('.js') && /from\s*["']zod["']/.test(readFileSync(join(dist, 'dist', f), 'utf8')),
      ),
    ).toEqual([]);

    const { stdout } = await timed(at('run'), () => sh('node client.ts', backend, { node, env: { MNEMO_URL: url } }));
    expect(stdout.trim()).toBe('NOT_FOUND');
    const memory = (await (await fetch(`${url}/api/v1/sessions/chat-1/memory`)).json()) as { messages: { content: string }[] };
    expect(memory.messages.map((m) => m.content)).toContain('Hi, I am Ada.');
  });

  it('README: installs the hooks in a fresh React app, whose component typechecks and builds with Vite (nothing of mongodb or node:)', async () => {
    const web = freshApp(`web-${version}`);
    // What `npm create vite` (react-ts) gives, before the README's line.
    await timed(at('npm install'), () => sh(devTools('vite', 'typescript', '@types/react', '@types/react-dom'), web, { node }));
    const section = blocksOf('README.md', 'Install and use in your app');
    const [install] = commands(section.filter((b) => b.lang === 'sh')[2]!);
    expect(install).toMatch(/^npm install @mnemo\/react /);
    const installed = await timed(at('npm install'), () => sh(withTarballs(install!), web, { node }));
    expect(installed.stderr).not.toMatch(/EBADENGINE|ERESOLVE/);
    write(web, 'src/App.tsx', section.find((b) => b.lang === 'tsx')!.code);
    write(
      web,
      'src/main.tsx',
      `import { createRoot } from 'react-dom/client';\nimport { App } from './App';\n\ncreateRoot(document.getElementById('root')!).render(<App />);\n`,
    );
    write(
      web,
      'src/types.tsx',
      `import { useAddMemory, useMemory } from '@mnemo/react';
export function WrongInputs() {
  // @ts-expect-error a session id is a string
  useMemory(42);
  const addMemory = useAddMemory();
  // @ts-expect-error messages are required
  addMemory.mutate({ sessionId: 'chat-1' });
  return null;
}
`,
    );
    write(
      web,
      'index.html',
      '<!doctype html>\n<html lang="en"><head><meta charset="UTF-8" /><title>Mnemo</title></head>\n<body><div id="root"></div><script type="module" src="/src/main.tsx"></script></body></html>\n',
    );
    write(
      web,
      'tsconfig.json',
      JSON.stringify({
        compilerOptions: {
          ...STRICT,
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          module: 'ESNext',
          moduleResolution: 'Bundler',
          jsx: 'react-jsx',
          types: [],
        },
        include: ['src'],
      }),
    );
    await timed(at('tsc'), () => sh('npx tsc -p tsconfig.json', web, { node }));
    await timed(at('vite build'), () => sh('npx vite build --logLevel warn', web, { node }));
    const assets = join(web, 'dist/assets');
    const code = readdirSync(assets)
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(assets, f), 'utf8'))
      .join('\n');
    expect(code).toContain('mnemo.memory.add'); // the hooks are in it (useAddMemory's mutation scope)
    expect(code).not.toMatch(/["'`]mongodb["'`]/);
    expect(code).not.toMatch(/["'`]node:[a-z_/]+["'`]/);
    if (version === NODE_VERSIONS[0]) await timed('sizes', () => measureSizes(web, node));
  });

  it('docs/ai-sdk.md: the install line and the recipe typecheck in a fresh app; its chat handler saves a chat in Mnemo', async () => {
    const recipes = freshApp(`recipes-${version}`);
    const blocks = blocksOf('docs/ai-sdk.md', 'The recipe');
    const [install] = commands(blocks.find((b) => b.lang === 'sh')!);
    expect(install).toMatch(/^npm install @mnemo\/client ai /);
    // A Next.js app has React and TypeScript already.
    await timed(at('npm install'), () =>
      sh(`${devTools('typescript', '@types/node', '@types/react')} && npm install react@${catalogVersion('react')}`, recipes, { node }),
    );
    const installed = await timed(at('npm install'), () => sh(withTarballs(install!), recipes, { node }));
    expect(installed.stderr).not.toMatch(/EBADENGINE|ERESOLVE/);
    const files = [
      'lib/chat.ts',
      'lib/mnemo.ts',
      'app/api/chat/route.ts',
      'app/api/chat/[id]/stream/route.ts',
      'app/api/chat/[id]/stop/route.ts',
    ];
    for (const file of [...files, 'app/chat/[id]/page.tsx', 'app/chat/[id]/chat.tsx']) {
      write(recipes, file, fileBlock(blocks, file).code);
    }
    write(
      recipes,
      'tsconfig.json',
      // The tsconfig.json `create-next-app` writes (strict; its `@/*` alias).
      JSON.stringify({
        compilerOptions: {
          target: 'ES2017',
          lib: ['dom', 'dom.iterable', 'esnext'],
          allowJs: true,
          skipLibCheck: true,
          strict: true,
          noEmit: true,
          esModuleInterop: true,
          module: 'esnext',
          moduleResolution: 'bundler',
          resolveJsonModule: true,
          isolatedModules: true,
          jsx: 'preserve',
          paths: { '@/*': ['./*'] },
        },
        include: ['lib', 'app'],
      }),
    );
    await timed(at('tsc'), () => sh('npx tsc -p tsconfig.json', recipes, { node }));

    // The browser's request, as useChat posts it, to the recipe's handler, with the AI SDK's mock model.
    write(
      recipes,
      'drive.ts',
      `import { createMnemoClient } from '@mnemo/client';
import { simulateReadableStream } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { chatRoutes } from './lib/chat.ts';

const mnemo = createMnemoClient({ url: process.env.MNEMO_URL! });
const usage = { inputTokens: { total: 3, noCache: 3, cacheRead: undefined, cacheWrite: undefined }, outputTokens: { total: 2, text: 2, reasoning: undefined } };
const model = new MockLanguageModelV4({
  doStream: async () => ({
    stream: simulateReadableStream({
      chunks: [
        { type: 'text-start', id: 't' },
        { type: 'text-delta', id: 't', delta: 'Hello, Ada.' },
        { type: 'text-end', id: 't' },
        { type: 'finish', finishReason: { unified: 'stop', raw: undefined }, usage },
      ],
    }),
  }),
});
const routes = chatRoutes({ mnemo, model });
const id = 'ai-chat-${version}';
const response = await routes.saveOnFinish(
  new Request('http://app.test/api/chat', {
    method: 'POST',
    body: JSON.stringify({ id, messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'Hi, I am Ada.' }] }] }),
  }),
);
await response.text();
for (let i = 0; i < 50 && (await routes.history(id)).length < 2; i++) await new Promise((ok) => setTimeout(ok, 100));
console.log(JSON.stringify((await routes.history(id)).map((m) => [m.role, m.parts.map((p) => (p.type === 'text' ? p.text : '')).join('')])));
`,
    );
    const { stdout } = await timed(at('run'), () => sh('node drive.ts', recipes, { node, env: { MNEMO_URL: url } }));
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual([
      ['user', 'Hi, I am Ada.'],
      ['assistant', 'Hello, Ada.'],
    ]);
  });

  it('docs/langchain.md: the install line and the script run as written, against that server', async () => {
    const recipes = join(tmp, `recipes-${version}`);
    const blocks = blocksOf('docs/langchain.md', 'LangChain.js chat history on Mnemo');
    const [install] = commands(blocks.find((b) => b.lang === 'sh')!);
    expect(install).toBe('npm install @mnemo/client @langchain/core');
    const installed = await timed(at('npm install'), () => sh(withTarballs(install!), recipes, { node }));
    expect(installed.stderr).not.toMatch(/EBADENGINE|ERESOLVE/);
    write(recipes, 'langchain-demo.ts', blocks.find((b) => b.lang === 'ts')!.code);
    const { stdout } = await timed(at('run'), () => sh('node langchain-demo.ts', recipes, { node, env: { MNEMO_URL: url } }));
    expect(stdout).toContain("[ 'human: Hi, I am Ada.', 'ai: Hello Ada!' ]");
    expect(stdout.trim().split('\n').at(-1)).toBe('You are Ada.');
  });
});

/** Min+gzip sizes, each bundled alone by Vite: a package with everything it imports but React, and its own code. */
async function measureSizes(app: string, node: string) {
  const sizes: Record<string, string> = {};
  const measure = async (label: string, source: string, external: string[]) => {
    const dir = join(tmp, `size-${label.replace(/\W+/g, '-')}`);
    mkdirSync(dir);
    writeFileSync(join(app, 'size-entry.js'), source);
    writeFileSync(
      join(app, 'vite.size.config.mjs'),
      `export default { logLevel: 'warn', build: { outDir: ${JSON.stringify(dir)}, emptyOutDir: true, minify: true,
        lib: { entry: 'size-entry.js', formats: ['es'], fileName: 'bundle' },
        rollupOptions: { external: (id) => ${JSON.stringify(external)}.some((e) => id === e || id.startsWith(e + '/')) } } };`,
    );
    await sh('npx vite build --config vite.size.config.mjs', app, { node });
    const file = readdirSync(dir).find((f) => f.endsWith('.js'))!;
    const bytes = readFileSync(join(dir, file));
    sizes[label] = `${(bytes.length / 1024).toFixed(1)} kB min, ${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1)} kB min+gzip`;
  };
  const react = ['react', 'react-dom'];
  await measure(
    '@mnemo/client (createMnemoClient), with @trpc/client and superjson',
    `export { createMnemoClient } from '@mnemo/client';`,
    [],
  );
  await measure('@mnemo/client, its own code', `export * from '@mnemo/client';`, ['@trpc/client', '@trpc/server', 'superjson']);
  await measure('@mnemo/react (all hooks), with @mnemo/client, tRPC, TanStack Query (not React)', `export * from '@mnemo/react';`, react);
  await measure('@mnemo/react, its own code', `export * from '@mnemo/react';`, [
    ...react,
    '@mnemo/client',
    '@trpc/client',
    '@trpc/server',
    '@trpc/react-query',
    '@tanstack/react-query',
  ]);
  const assets = join(app, 'dist/assets');
  const appJs = readdirSync(assets)
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(assets, f)));
  sizes['the whole React app (React included)'] =
    `${(appJs.reduce((n, b) => n + b.length, 0) / 1024).toFixed(1)} kB min, ${(appJs.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0) / 1024).toFixed(1)} kB min+gzip`;
  console.log(
    `[consumer] bundle sizes:\n${Object.entries(sizes)
      .map(([what, size]) => `  ${what}: ${size}`)
      .join('\n')}`,
  );
  expect(existsSync(assets)).toBe(true);
}
