/**
 * happy-dom, but with modules transformed the way Node runs them ("ssr") instead of for a browser.
 * The hook tests start the real Mnemo server in this process, and Vite's browser transform rewrites
 * server code (`new URL('…', import.meta.url)` becomes a page-relative URL).
 */
import type { Environment } from 'vitest/environments';
import { builtinEnvironments } from 'vitest/environments';

export default {
  ...builtinEnvironments['happy-dom'],
  name: 'happy-dom-ssr',
  viteEnvironment: 'ssr',
} satisfies Environment;
