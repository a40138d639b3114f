import { defineConfig } from 'tsdown';

/**
 * The published build (`pnpm pack` runs it as `prepack`; `publishConfig.exports` points at dist/). In the
 * workspace `exports` point at src/, so tests, typecheck and Vite use the source and need no build.
 * @mnemo/core's isomorphic subpaths (schemas, errors, metadata, zep, auth-tokens) are bundled in, and the
 * server's `AppRouter` type is inlined into the .d.ts, so a consumer installs neither @mnemo/core (mongodb)
 * nor @mnemo/server.
 */
export default defineConfig({
  entry: { index: 'src/index.ts', ai: 'src/ai.ts', langchain: 'src/langchain.ts', tokens: 'src/tokens.ts' },
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  outDir: 'dist',
  clean: true,
  tsconfig: 'tsconfig.build.json',
  dts: { resolve: [/^@mnemo\//], eager: true, compilerOptions: { stripInternal: true } },
  deps: { alwaysBundle: [/^@mnemo\//] },
});
