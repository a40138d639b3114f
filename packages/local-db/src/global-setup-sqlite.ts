import type { TestProject } from 'vitest/node';
import { startFor } from './global-setup';

/** Vitest global setup of the `core-sqlite` project: FerretDB on its SQLite backend (the last-resort fallback). */
export default function setup(project: TestProject) {
  return startFor(project, 'sqlite');
}
