import { buildWeb } from './server';

/** The browser tests' global setup: one production build of the UI for the whole run (test files run in parallel and must not rebuild `dist` under each other's pages). */
export default async function setup(): Promise<void> {
  await buildWeb();
}
