#!/usr/bin/env node
/**
 * The `mnemo` command of the published @mnemo/server package (built to dist/bin.js by tsdown.config.ts):
 *   mnemo serve        run the server, as `pnpm start` does (main.ts)
 *   mnemo <command>    token, purge, forget-user, move-to-postgres, export, import, import-zep (cli.ts)
 * Configuration comes from the same environment variables (README, "Configuration").
 */
if (process.argv[2] === 'serve') {
  if (process.argv.length > 3) {
    console.error(`mnemo serve takes no arguments (configure it with environment variables): ${process.argv.slice(3).join(' ')}`);
    process.exit(2);
  }
  await import('./main');
} else {
  await import('./cli');
}
