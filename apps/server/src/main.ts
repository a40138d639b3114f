/** `pnpm start`: `mnemo serve` from the checkout's source (cli.ts, serve.ts). */
import { runCli } from './cli';

process.exitCode = await runCli(['serve']);
