/**
 * Each service's committed migrations create exactly what its entities describe: after applying
 * them, MikroORM finds nothing left to change.
 */
import { migrate, openDatabase } from '@marketing/platform';
import { createTestDatabase, type TestDatabase } from '@marketing/platform/testing';
import { SUBGRAPHS } from './services.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('migrations');
});
afterAll(() => db.drop());

describe.each(SUBGRAPHS.map((s) => [s.name, s] as const))('%s migrations', (_name, entry) => {
  it('apply to an empty database, leave no schema difference, and apply once only', async () => {
    const orm = await openDatabase({ ...entry.definition.database, url: db.url });
    try {
      const applied = await migrate(orm, db.url, entry.definition.database.schema);
      expect(applied.length).toBe(entry.definition.database.migrations.length);
      const diff = await orm.schema.getUpdateSchemaSQL({
        wrap: false,
        schema: entry.definition.database.schema,
      });
      expect(diff.trim()).toBe('');
      expect(await migrate(orm, db.url, entry.definition.database.schema)).toEqual([]);
    } finally {
      await orm.close();
    }
  });
});
