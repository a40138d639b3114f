import { defineConfig } from 'vitest/config';

// One database server for the whole run: started by globalSetup, each test file
// then works in a database of its own (see packages/core/src/test/db.ts).
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
    globalSetup: ['./packages/local-db/src/global-setup.ts'],
    restoreMocks: true,
    testTimeout: 30_000,
    hookTimeout: 180_000,
  },
});
