#!/usr/bin/env node
/**
 * The `mnemo` command: the published package's bin (built to dist/bin.js by tsdown.config.ts) and, in a checkout,
 * `pnpm mnemo` (tsx src/bin.ts). Commands, help and exit codes: cli.ts.
 */
import { runCli } from './cli';

// The exit code is set, not forced: `serve` keeps running after runCli resolves, and piped output is flushed.
process.exitCode = await runCli(process.argv.slice(2));
