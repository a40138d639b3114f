import { startLocalDb } from '@mnemo/local-db';

// Placeholder until the server lands (issue 3): start the local database and wait.
const db = await startLocalDb({ dataDir: process.env.MNEMO_DATA_DIR ?? '.data', log: console.log });
console.log('Mnemo: the database is up; the HTTP server comes with the next issue. Ctrl-C to stop.');
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void db.stop().then(() => process.exit(0)));
