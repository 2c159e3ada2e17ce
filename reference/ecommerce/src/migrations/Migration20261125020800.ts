import { Migration } from '@mikro-orm/migrations';

export class Migration20261125020800 extends Migration {

  override name = 'Migration20261125020800';

  override up(): void | Promise<void> {
    this.addSql(`create table "ecommerce"."outbox" ("seq" bigserial primary key, "subject" text not null, "message_id" text not null, "data" jsonb not null, "created_at" timestamptz not null);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "ecommerce"."outbox" cascade;`);
  }

}
