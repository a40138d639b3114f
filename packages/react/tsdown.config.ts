import { defineConfig, type UserConfig } from 'tsdown';

/**
 * The published build (`pnpm pack` runs it as `prepack`; `publishConfig.exports` points at dist/). In the
 * workspace `exports` point at src/, so tests, typecheck and Vite use the source and need no build.
 * @mnemo/core's isomorphic `metadata` helpers are bundled in; @mnemo/client (and with it the `AppRouter` type),
 * tRPC, TanStack Query, React and assistant-ui (the `assistant-ui` entry's optional peers) stay imports.
 * Two builds: the hooks' declarations are generated eagerly (their types come through @mnemo/core's), the
 * `assistant-ui` entry's lazily (eagerly, assistant-ui's types take the declaration build past 6 GB of heap).
 */
const shared: UserConfig = {
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  outDir: 'dist',
  clean: false, // the build script empties dist/ once, before both
  deps: { alwaysBundle: [/^@mnemo\/core/] },
};

export default defineConfig([
  { ...shared, entry: { index: 'src/index.ts' }, tsconfig: 'tsconfig.build.json', dts: { resolve: [/^@mnemo\/core/], eager: true } },
  { ...shared, entry: { 'assistant-ui': 'src/assistant-ui.ts' }, tsconfig: 'tsconfig.json', dts: { resolve: [/^@mnemo\/core/] } },
]);
