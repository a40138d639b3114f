/**
 * The published packages, used as an app outside this workspace uses them (issue 14): `pnpm pack` @mnemo/client,
 * @mnemo/react and @mnemo/server (each pack runs the package's build), `npm install` the tarballs into a fresh app in
 * a temporary folder (src/app copied there), then
 *   (a) `tsc --noEmit` a typed client call (Node) and a React component on the hooks (browser), strict, zero errors
 *       (and wrong calls marked @ts-expect-error, so the types cannot have degraded to `any`);
 *   (b) run that client call against `mnemo serve` started from the installed package's bin (on the test run's
 *       database, a database of its own), which also serves the web UI it ships;
 *   (c) build the React app with Vite: no `mongodb` and no `node:` import in the bundle.
 * It prints the min+gzip sizes of the client and the hooks (README, "Install and use in your app").
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { freePort } from '@mnemo/local-db';
import type {} from '@mnemo/local-db/testing'; // vitest's inject('mongoUri')
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HERE = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(HERE, 'node_modules/.bin');
const PACKAGES = { client: 'packages/client', react: 'packages/react', server: 'apps/server' } as const;

const exec = promisify(execFile);
async function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  try {
    return await exec(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** The workspace catalog's version of a package, so the app gets what the workspace tests with. */
function catalogVersion(name: string): string {
  const yaml = readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8');
  const match = new RegExp(`^\\s+"?${name.replace(/[/@.]/g, '\\$&')}"?:\\s*(\\S+)\\s*$`, 'm').exec(yaml);
  if (!match) throw new Error(`${name} is not in the pnpm catalog`);
  return match[1]!;
}

const timings: Record<string, number> = {};
async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    timings[step] = (Date.now() - started) / 1000;
  }
}

let tmp: string;
let app: string;
const started = Date.now();

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'mnemo-consumer-'));
  app = join(tmp, 'app');
  const tarballs = join(tmp, 'tarballs');
  mkdirSync(tarballs);
  // Each pack runs the package's `prepack` (its build) and rewrites workspace:/catalog: versions.
  await timed('pack', () =>
    Promise.all(Object.values(PACKAGES).map((dir) => run('pnpm', ['pack', '--pack-destination', tarballs], join(ROOT, dir)))),
  );
  const tarball = (name: string) => {
    const file = readdirSync(tarballs).find((f) => f.startsWith(`mnemo-${name}-`) && f.endsWith('.tgz'));
    if (!file) throw new Error(`no tarball for @mnemo/${name} in ${readdirSync(tarballs).join(', ')}`);
    return `file:${join(tarballs, file)}`;
  };
  cpSync(join(HERE, 'src/app'), app, { recursive: true });
  const deps = ['@tanstack/react-query', '@trpc/client', '@trpc/react-query', '@trpc/server', 'react', 'react-dom'];
  const devDeps = ['@types/react', '@types/react-dom', '@types/node'];
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'mnemo-consumer-app',
        private: true,
        type: 'module',
        dependencies: {
          '@mnemo/client': tarball('client'),
          '@mnemo/react': tarball('react'),
          '@mnemo/server': tarball('server'),
          ...Object.fromEntries(deps.map((name) => [name, catalogVersion(name)])),
        },
        devDependencies: Object.fromEntries(devDeps.map((name) => [name, catalogVersion(name).replace(/^\^/, '')])),
      },
      null,
      2,
    ),
  );
  await timed('npm install', () =>
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', '--ignore-scripts'], app),
  );
});

afterAll(() => {
  console.log(
    `[consumer] ${Object.entries(timings)
      .map(([step, s]) => `${step} ${s.toFixed(1)} s`)
      .join(', ')}; total ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed packages in an app outside the workspace', () => {
  it('installs only what the packages need at run time', () => {
    const manifest = (name: string) => JSON.parse(readFileSync(join(app, 'node_modules/@mnemo', name, 'package.json'), 'utf8'));
    for (const name of ['client', 'react']) {
      const { dependencies = {}, engines, version, license } = manifest(name);
      expect(Object.keys(dependencies).filter((dep) => dep.startsWith('@mnemo/') && dep !== '@mnemo/client')).toEqual([]);
      expect(dependencies).not.toHaveProperty('mongodb');
      expect({ engines, version, license }).toEqual({ engines: { node: '>=20.19' }, version: '0.1.0', license: 'MIT' });
    }
    expect(manifest('server').bin).toEqual({ mnemo: './dist/bin.js' });
  });

  it('(a) typechecks a typed client call and a React component on the hooks, strict, with zero errors', async () => {
    const tsc = join(BIN, 'tsc');
    await timed('tsc', () => Promise.all([run(tsc, ['-p', 'tsconfig.json'], app), run(tsc, ['-p', 'tsconfig.node.json'], app)]));
  });

  it('(b) runs the client call against `mnemo serve` from the installed package, which serves its web UI', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      MONGODB_URI: inject('mongoUri'),
      MNEMO_DB: `consumer_${randomUUID().slice(0, 8)}`,
      MNEMO_DATA_DIR: join(tmp, 'data'),
      MNEMO_PURGE_EVERY: '0',
      LOG_LEVEL: 'warn',
    };
    delete env.MNEMO_AUTH_SECRET;
    const server: ChildProcess = spawn(join(app, 'node_modules/.bin/mnemo'), ['serve'], {
      cwd: app,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    server.stdout!.on('data', (chunk) => (output += chunk));
    server.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise((ok) => server.once('exit', ok));
    try {
      await timed('server start', async () => {
        for (const deadline = Date.now() + 60_000; ; ) {
          if (server.exitCode !== null) throw new Error(`mnemo serve exited with ${server.exitCode}:\n${output}`);
          if (Date.now() > deadline) throw new Error(`mnemo serve did not answer in 60 s:\n${output}`);
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
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');

      const { stdout } = await timed('client call', () =>
        run(join(BIN, 'tsx'), ['node/client.ts'], app, { ...process.env, MNEMO_URL: url }),
      );
      expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toEqual({
        count: 1,
        first: 'Hi, I am Ada.',
        createdIsDate: true,
        missing: 'NOT_FOUND',
      });

      const { stdout: help } = await run(join(app, 'node_modules/.bin/mnemo'), ['--help'], app, env);
      expect(help).toContain('serve');
    } finally {
      server.kill('SIGTERM');
      await exited;
    }
    expect(output).not.toMatch(/"level":(50|60)/);
  });

  it('(c) builds the React app with Vite, with nothing of mongodb or node: in the bundle', async () => {
    await timed('vite build', () => run(join(BIN, 'vite'), ['build', '--logLevel', 'warn'], app));
    const assets = join(app, 'dist/assets');
    const code = readdirSync(assets)
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(assets, f), 'utf8'))
      .join('\n');
    expect(code).toContain('mnemo.memory.add'); // the hooks are in it (useAddMemory's mutation scope)
    expect(code).not.toMatch(/["'`]mongodb["'`]/);
    expect(code).not.toMatch(/["'`]node:[a-z_/]+["'`]/);
    expect(code).not.toMatch(/\bfrom\s*["'](?:mongodb|node:)/);

    // Sizes (min+gzip), each bundled alone by Vite: the package with everything it imports but React, and its own code.
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
      await run(join(BIN, 'vite'), ['build', '--config', 'vite.size.config.mjs'], app);
      const file = readdirSync(dir).find((f) => f.endsWith('.js'))!;
      const bytes = readFileSync(join(dir, file));
      sizes[label] = `${(bytes.length / 1024).toFixed(1)} kB min, ${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1)} kB min+gzip`;
    };
    const react = ['react', 'react-dom'];
    await timed('sizes', async () => {
      await measure(
        '@mnemo/client (createMnemoClient), with @trpc/client and superjson',
        `export { createMnemoClient } from '@mnemo/client';`,
        [],
      );
      await measure('@mnemo/client, its own code', `export * from '@mnemo/client';`, ['@trpc/client', '@trpc/server', 'superjson']);
      await measure(
        '@mnemo/react (all hooks), with @mnemo/client, tRPC, TanStack Query (not React)',
        `export * from '@mnemo/react';`,
        react,
      );
      await measure('@mnemo/react, its own code', `export * from '@mnemo/react';`, [
        ...react,
        '@mnemo/client',
        '@trpc/client',
        '@trpc/server',
        '@trpc/react-query',
        '@tanstack/react-query',
      ]);
    });
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
  });
});
