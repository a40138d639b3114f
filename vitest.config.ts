import { configDefaults, defineConfig } from 'vitest/config';

// One database server for the whole run: started by globalSetup (MONGODB_URI if set, else mongod,
// else FerretDB on PostgreSQL); each test file then works in a database of its own
// (@mnemo/core/testing). The `core-sqlite` project runs core's suite again on FerretDB's SQLite
// backend, the last-resort fallback, so that keeps working; `core-shared` runs it with nothing held
// in memory, as on MONGODB_URI (CoreConfig.singleWriter).
export default defineConfig({
  test: {
    projects: [
      'packages/*',
      'apps/*',
      'tests/*',
      { test: { name: 'docs', root: './docs', include: ['*.test.ts'] } },
      {
        // Core's suite as on MONGODB_URI, where other instances may write: nothing held in memory.
        extends: './packages/core/vitest.config.ts',
        test: { name: 'core-shared', root: './packages/core', provide: { singleWriter: false } },
      },
      {
        extends: './packages/core/vitest.config.ts',
        test: {
          name: 'core-sqlite',
          root: './packages/core',
          globalSetup: ['../local-db/src/global-setup-sqlite.ts'], // relative to root
          // SQLite pushes down nothing but {_id}: that test is about the default database.
          exclude: [...configDefaults.exclude, 'src/pushdown.test.ts'],
        },
      },
    ],
    globalSetup: ['./packages/local-db/src/global-setup.ts'],
  },
});
