import { defineConfig } from 'vitest/config';

// One database server for the whole run: started by globalSetup (MONGODB_URI if set, else mongod,
// else FerretDB); each test file then works in a database of its own (@mnemo/core/testing).
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
    globalSetup: ['./packages/local-db/src/global-setup.ts'],
  },
});
