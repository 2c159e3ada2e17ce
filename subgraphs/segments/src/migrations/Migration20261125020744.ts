import { Migration } from '@mikro-orm/migrations';

export class Migration20261125020744 extends Migration {

  override name = 'Migration20261125020744';

  override up(): void | Promise<void> {
    this.addSql(`create table "segments"."customer_event" ("id" bigserial primary key, "message_id" text not null, "customer_id" text not null, "event" text not null, "properties" jsonb not null, "occurred_at" timestamptz not null);`);
    this.addSql(`alter table "segments"."customer_event" add constraint "customer_event_message_id_unique" unique ("message_id");`);
    this.addSql(`create index "customer_event_event_occurred_at_index" on "segments"."customer_event" ("event", "occurred_at");`);
    this.addSql(`create index "customer_event_customer_id_event_occurred_at_index" on "segments"."customer_event" ("customer_id", "event", "occurred_at");`);

    this.addSql(`create table "segments"."customer_order" ("order_id" text not null, "customer_id" text not null, "total" numeric(14,2) not null, "currency" text null, "completed_at" timestamptz not null, "version" text not null, primary key ("order_id"));`);
    this.addSql(`create index "customer_order_customer_id_index" on "segments"."customer_order" ("customer_id");`);

    this.addSql(`create table "segments"."customer_order_refund" ("message_id" text not null, "order_id" text not null, "customer_id" text not null, "amount" numeric(14,2) null, "refunded_at" timestamptz not null, primary key ("message_id"));`);
    this.addSql(`create index "customer_order_refund_order_id_index" on "segments"."customer_order_refund" ("order_id");`);

    this.addSql(`create table "segments"."outbox" ("seq" bigserial primary key, "subject" text not null, "message_id" text not null, "data" jsonb not null, "created_at" timestamptz not null);`);

    this.addSql(`create table "segments"."processed_message" ("consumer" text not null, "message_id" text not null, "processed_at" timestamptz not null, primary key ("consumer", "message_id"));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "segments"."customer_event" cascade;`);
    this.addSql(`drop table if exists "segments"."customer_order" cascade;`);
    this.addSql(`drop table if exists "segments"."customer_order_refund" cascade;`);
    this.addSql(`drop table if exists "segments"."outbox" cascade;`);
    this.addSql(`drop table if exists "segments"."processed_message" cascade;`);
  }

}
