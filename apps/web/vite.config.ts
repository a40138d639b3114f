import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The built UI is served by the Mnemo server at `/` and talks to the same origin. In `vite dev`,
// tRPC calls are proxied to a server on MNEMO_URL (default http://127.0.0.1:8000).
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    proxy: { '/trpc': process.env.MNEMO_URL ?? 'http://127.0.0.1:8000' },
  },
});
