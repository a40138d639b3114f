import { defineConfig } from 'tsdown';

/**
 * The published build (`pnpm pack` runs it as `prepack`; `publishConfig.exports` points at dist/). In the
 * workspace `exports` point at src/, so tests, typecheck and Vite use the source and need no build.
 * @mnemo/core's isomorphic `metadata` helpers are bundled in; @mnemo/client (and with it the `AppRouter` type),
 * tRPC, TanStack Query, React and assistant-ui (the `assistant-ui` entry's optional peers) stay imports.
 */
export default defineConfig({
  entry: { index: 'src/index.ts', 'assistant-ui': 'src/assistant-ui.ts' },
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  outDir: 'dist',
  clean: true,
  tsconfig: 'tsconfig.build.json',
  dts: { resolve: [/^@mnemo\/core/], eager: true },
  deps: { alwaysBundle: [/^@mnemo\/core/] },
});
