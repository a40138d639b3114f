import { defineProject } from 'vitest/config';
import { sharedTestOptions } from '../../vitest.shared';

// Packs @mnemo/client, @mnemo/react and @mnemo/server and uses them as an app outside the workspace would.
export default defineProject({
  test: { ...sharedTestOptions, name: 'consumer', testTimeout: 240_000, hookTimeout: 300_000 },
});
