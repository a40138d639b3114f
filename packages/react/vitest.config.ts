import { defineProject } from 'vitest/config';
import { sharedTestOptions } from '../../vitest.shared';

// Hooks render in happy-dom and talk over real HTTP to a real Mnemo server started in the same
// process. In production the server serves the UI from its own origin; here the page (happy-dom's
// http://localhost:3000) and the server differ, so the same-origin check is off, as if they matched.
export default defineProject({
  test: {
    ...sharedTestOptions,
    name: 'react',
    environment: './src/test/happy-dom-ssr.ts',
    setupFiles: ['./src/test/setup.ts'],
    environmentOptions: { happyDOM: { settings: { fetch: { disableSameOriginPolicy: true } } } },
  },
});
