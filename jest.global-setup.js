/**
 * Points the tests at a real PostgreSQL. With DATABASE_URL set (CI), that server is used; otherwise
 * an embedded PostgreSQL is started in .data/test-postgres and stopped by the global teardown.
 * Each test file then creates and drops its own database on that server.
 */
import { startEmbeddedPostgres } from '@marketing/platform';

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    console.log(`\ntests use PostgreSQL at ${redact(process.env.DATABASE_URL)}`);
  } else {
    const port = 54330 + Math.floor(Math.random() * 500);
    const db = await startEmbeddedPostgres({
      dir: '.data/test-postgres',
      port,
      database: 'postgres',
    });
    process.env.DATABASE_URL = db.adminUrl;
    globalThis.__embeddedPostgres = db;
    console.log(`\ntests use embedded PostgreSQL on port ${port} (DATABASE_URL is not set)`);
  }
  if (process.env.NATS_URL) console.log(`tests use NATS at ${process.env.NATS_URL}`);
  else console.log('NATS_URL is not set: tests that need NATS JetStream are skipped');
}

function redact(url) {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}
