import { Migration } from '@mikro-orm/migrations';

export class Migration20261125060210 extends Migration {

  override name = 'Migration20261125060210';

  override up(): void | Promise<void> {
    this.addSql(`create table "campaigns"."outbox" ("seq" bigserial primary key, "subject" text not null, "message_id" text not null, "data" jsonb not null, "created_at" timestamptz not null);`);

    this.addSql(`create table "campaigns"."processed_message" ("consumer" text not null, "message_id" text not null, "processed_at" timestamptz not null, primary key ("consumer", "message_id"));`);

    this.addSql(`create table "campaigns"."segment_member" ("segment_id" uuid not null, "customer_id" text not null, "member" boolean not null, "changed_at" timestamptz not null, primary key ("segment_id", "customer_id"));`);
    this.addSql(`create index "segment_member_current_index" on "campaigns"."segment_member" ("segment_id", "customer_id") where "member";`);

    this.addSql(`create table "campaigns"."template_version" ("template_id" uuid not null, "version" int not null, "name" text not null, primary key ("template_id"));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "campaigns"."outbox" cascade;`);
    this.addSql(`drop table if exists "campaigns"."processed_message" cascade;`);
    this.addSql(`drop table if exists "campaigns"."segment_member" cascade;`);
    this.addSql(`drop table if exists "campaigns"."template_version" cascade;`);
  }

}
