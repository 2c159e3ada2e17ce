/**
 * `npm run bench -- <name>`: runs bench/src/<name>.bench.ts against a real PostgreSQL
 * (DATABASE_URL's server, else an embedded one started for the run).
 */
import 'reflect-metadata';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '@marketing/platform';

const BENCHES: Record<string, () => Promise<{ run: () => Promise<void> }>> = {
  broadcast: () => import('./broadcast.bench.js'),
  email: () => import('./email.bench.js'),
  federation: () => import('./federation.bench.js'),
  ingest: () => import('./ingest.bench.js'),
  live: () => import('./live.bench.js'),
  segments: () => import('./segments.bench.js'),
};

const name = process.argv[2];
if (!name || !BENCHES[name]) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join('|')}>`);
  process.exit(2);
}
let embedded: EmbeddedDatabase | undefined;
if (!process.env.DATABASE_URL) {
  embedded = await startEmbeddedPostgres({
    dir: '.data/bench-postgres',
    port: 54329,
    database: 'postgres',
  });
  process.env.DATABASE_URL = embedded.adminUrl;
}
try {
  await (await BENCHES[name]()).run();
} finally {
  await embedded?.stop();
}
