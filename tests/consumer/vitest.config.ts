import { defineProject } from 'vitest/config';
import { sharedTestOptions } from '../../vitest.shared';

// Packs @mnemo/client, @mnemo/react and @mnemo/server and uses them as an app outside the workspace would, on
// Node 22 and 24. Generous limits: packing builds three packages while the rest of the suite runs beside it.
export default defineProject({
  test: { ...sharedTestOptions, name: 'consumer', testTimeout: 300_000, hookTimeout: 600_000 },
});
