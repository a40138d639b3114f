import { defineProject } from 'vitest/config';
import { sharedTestOptions } from '../../vitest.shared';

// Browser end-to-end tests: build the UI, start the real server process, drive Chromium.
export default defineProject({
  test: { ...sharedTestOptions, name: 'web', include: ['e2e/**/*.test.ts'], environment: 'node', testTimeout: 90_000 },
});
