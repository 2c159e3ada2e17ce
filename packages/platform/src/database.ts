/**
 * Database access for a service: one MikroORM instance bound to the service's own PostgreSQL schema,
 * with its committed migrations applied at start-up under an advisory lock (so replicas starting
 * together migrate once).
 */
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { Migrator } from '@mikro-orm/migrations';
import type { Migration } from '@mikro-orm/migrations';
import { defineConfig, MikroORM, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { CompiledQuery, type Kysely } from 'kysely';
import pg from 'pg';

export type MigrationClass = new (...args: ConstructorParameters<typeof Migration>) => Migration;

export interface DatabaseOptions {
  url: string;
  /** The service's own schema; every table of the service lives there. */
  schema: string;
  entities: Options['entities'];
  migrations: MigrationClass[];
  poolMax?: number;
  onQuery?: (sql: string) => void;
}

export async function openDatabase(options: DatabaseOptions): Promise<MikroORM> {
  return MikroORM.init(
    defineConfig({
      clientUrl: options.url,
      schema: options.schema,
      entities: options.entities,
      metadataProvider: ReflectMetadataProvider,
      extensions: [Migrator],
      migrations: {
        migrationsList: options.migrations.map((cls) => ({ name: cls.name, class: cls })),
        tableName: 'mikro_orm_migrations',
        schema: options.schema,
        snapshot: false,
        silent: true,
      },
      pool: { min: 0, max: options.poolMax ?? 10 },
      forceUtcTimezone: true,
      allowGlobalContext: false,
      discovery: { warnWhenNoEntities: false },
      // SQL functions are written by hand in migrations (e.g. safe casts for segment rules).
      schemaGenerator: { ignoreRoutines: true },
      onQuery: (sql) => {
        options.onQuery?.(sql);
        return sql;
      },
    }),
  );
}

/** Creates the schema and applies pending migrations, one replica at a time. */
export async function migrate(orm: MikroORM, url: string, schema: string): Promise<string[]> {
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock(hashtext($1))', [`migrate:${schema}`]);
    await lock.query(`create schema if not exists ${quoteIdent(schema)}`);
    const applied = await orm.migrator.up();
    return applied.map((m) => m.name);
  } finally {
    await lock
      .query('select pg_advisory_unlock(hashtext($1))', [`migrate:${schema}`])
      .catch(() => {});
    await lock.end();
  }
}

/**
 * Runs one statement with server-side parameters (`$1`, `$2`, ...) on the entity manager's
 * connection, inside its transaction when it has one. `em.execute` interpolates its `?` values into
 * the SQL text on the client; queries built from user input (segment rules) use this instead, so
 * values never become SQL text. Arrays bind as PostgreSQL arrays (`$1::text[]`).
 */
export async function queryWithParams<T>(
  em: EntityManager,
  sql: string,
  params: readonly unknown[],
): Promise<T[]> {
  const connection = em.getConnection();
  const executor = em.getTransactionContext<Kysely<unknown>>() ?? connection.getClient();
  const result = await executor.executeQuery(CompiledQuery.raw(sql, [...params]));
  return result.rows as T[];
}

export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`Unsafe SQL identifier: ${name}`);
  return `"${name}"`;
}

/** Runs `work` in one transaction on a pooled client: committed if it resolves, rolled back if not. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
