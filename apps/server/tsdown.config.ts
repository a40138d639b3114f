import { cpSync } from 'node:fs';
import { defineConfig } from 'tsdown';

/**
 * The published `mnemo` command (`pnpm build`, which `pnpm pack` runs as `prepack`): dist/bin.js and its
 * chunks, plain JavaScript for Node (no tsx at run time). The workspace's own code (@mnemo/core, @mnemo/local-db) is
 * bundled in; npm packages stay imports (this package's `dependencies`). Beside the code: the SQL local-db installs
 * into its PostgreSQL cluster (read relative to the code) and, built there by the `build` script right after this
 * (its own output folder, so it never races a build of apps/web/dist), the web UI in dist/web, served at `/`.
 */
export default defineConfig({
  entry: { bin: 'src/bin.ts' },
  format: 'esm',
  platform: 'node',
  target: 'node22.12',
  outDir: 'dist',
  clean: true,
  dts: false,
  fixedExtension: false,
  deps: { alwaysBundle: [/^@mnemo\//] },
  hooks: {
    'build:done': () => {
      cpSync('../../packages/local-db/src/gin-twins.sql', 'dist/gin-twins.sql');
    },
  },
});
