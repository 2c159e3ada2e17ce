/**
 * Erasing a customer's rows from a schema found at run time: every `customer_id` table, a child
 * before the parent it references (no cascade needed), `except` kept, other customers and other
 * tables untouched; outbox rows and processed ids that name the customer go, look-alikes stay.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import { openDatabase } from '../database.js';
import { createTestDatabase, type TestDatabase } from '../testing/test-database.js';
import { deleteCustomerRows, scrubMessageTables } from './customer-rows.js';

let db: TestDatabase;
let orm: MikroORM;

beforeAll(async () => {
  db = await createTestDatabase('customer_rows');
  orm = await openDatabase({ url: db.url, schema: 'shop', entities: [], migrations: [] });
  await orm.em.getConnection().execute(`
    create schema shop;
    create table shop.aa_parent (id text primary key, customer_id text not null);
    create table shop.zz_child (id serial primary key, parent_id text not null
      references shop.aa_parent (id), customer_id text not null);
    create table shop.kept (customer_id text not null);
    create table shop.lookup (name text);
    create table shop.outbox (seq bigserial primary key, subject text not null,
      message_id text not null, data jsonb not null);
    create table shop.processed_message (consumer text, message_id text, primary key (consumer, message_id));
    insert into shop.aa_parent values ('p1', 'c1'), ('p2', 'c12');
    insert into shop.zz_child (parent_id, customer_id) values ('p1', 'c1'), ('p2', 'c12');
    insert into shop.kept values ('c1');
    insert into shop.lookup values ('c1');
    insert into shop.outbox (subject, message_id, data) values
      ('s', 'm1', '{"customerId": "c1"}'), ('s', 'm2', '{"to": ["Ann@Mail.example"]}'),
      ('s', 'm3', '{"customerId": "c12", "note": "about c1"}');
    insert into shop.processed_message values ('x', 'segment.entered:seg:c1'), ('x', 'seg:c12'), ('x', 'c1x');
  `);
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

const rows = (sql: string) => orm.em.fork().getConnection().execute(sql);

it("deletes the customer's rows, children first, sparing exceptions, others and other tables", async () => {
  const counts = await orm.em
    .fork()
    .transactional((em) => deleteCustomerRows(em, 'shop', 'c1', ['kept']));
  expect(counts).toEqual({ zz_child: 1, aa_parent: 1 });
  expect(await rows('select id from shop.aa_parent')).toEqual([{ id: 'p2' }]);
  expect(await rows('select customer_id from shop.zz_child')).toEqual([{ customer_id: 'c12' }]);
  expect(await rows('select customer_id from shop.kept')).toEqual([{ customer_id: 'c1' }]);
  expect(await rows('select name from shop.lookup')).toEqual([{ name: 'c1' }]);
});

it('drops outbox rows and processed ids that name the customer or their address', async () => {
  const counts = await orm.em
    .fork()
    .transactional((em) =>
      scrubMessageTables(em, 'shop', { ids: ['c1'], emails: ['ann@mail.example'] }),
    );
  expect(counts).toEqual({ outbox: 2, processed_message: 1 });
  expect(await rows('select message_id from shop.outbox')).toEqual([{ message_id: 'm3' }]);
  expect(await rows('select message_id from shop.processed_message order by 1')).toEqual([
    { message_id: 'c1x' },
    { message_id: 'seg:c12' },
  ]);
});
