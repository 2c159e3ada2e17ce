/**
 * A fresh PostgreSQL database per test file, on the server named by DATABASE_URL (CI) or on the
 * embedded server that jest's global setup started. Dropped when the file's tests are done.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export function serverUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url)
    throw new Error(
      'DATABASE_URL is not set: run the tests through `npm test` (jest global setup)',
    );
  return url;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `t_${label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = withDatabase(serverUrl(), 'postgres');
  await adminQuery(admin, `create database "${name}"`);
  return {
    url: withDatabase(serverUrl(), name),
    name,
    drop: () => adminQuery(admin, `drop database if exists "${name}" with (force)`),
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
