import { defineProject } from 'vitest/config';
import { sharedTestOptions } from '../../vitest.shared';

// Browser end-to-end tests: build the UI once (e2e/build.ts), start the real server process, drive Chromium.
export default defineProject({
  test: {
    ...sharedTestOptions,
    name: 'web',
    include: ['e2e/**/*.test.ts'],
    globalSetup: ['e2e/build.ts'],
    environment: 'node',
    testTimeout: 90_000,
  },
});
