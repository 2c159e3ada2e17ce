import { Migration } from '@mikro-orm/migrations';

export class Migration20261125091500 extends Migration {

  override name = 'Migration20261125091500';

  override up(): void | Promise<void> {
    this.addSql(`create type "analytics"."destination_kind" as enum ('WEBHOOK', 'SEGMENT', 'GA4');`);
    this.addSql(`create table "analytics"."destination" ("id" uuid not null, "name" text not null, "kind" "analytics"."destination_kind" not null, "url" text not null, "secret" text not null, "events" jsonb not null, "enabled" boolean not null default true, "last_delivered_at" timestamptz null, "failure_count" int not null default 0, "created_by" text not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "analytics"."destination" add constraint "destination_name_unique" unique ("name");`);

    this.addSql(`create table "analytics"."destination_delivery" ("id" bigserial primary key, "destination_id" uuid not null, "event_id" text not null, "event_type" text not null, "event" jsonb not null, "state" text not null default 'PENDING', "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "last_error" text null, "created_at" timestamptz not null, "delivered_at" timestamptz null, "dead_at" timestamptz null);`);
    this.addSql(`create index "destination_delivery_dead_index" on "analytics"."destination_delivery" ("destination_id") where "state" = 'DEAD';`);
    this.addSql(`create index "destination_delivery_due_index" on "analytics"."destination_delivery" ("next_attempt_at") where "state" = 'PENDING';`);
    this.addSql(`alter table "analytics"."destination_delivery" add constraint "destination_delivery_destination_id_event_id_unique" unique ("destination_id", "event_id");`);

    this.addSql(`alter table "analytics"."destination_delivery" add constraint "destination_delivery_destination_id_foreign" foreign key ("destination_id") references "analytics"."destination" ("id") on delete cascade;`);
    this.addSql(`alter table "analytics"."destination_delivery" add constraint "destination_delivery_state_check" check ("state" in ('PENDING', 'DELIVERED', 'DEAD'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "analytics"."destination_delivery" drop constraint "destination_delivery_destination_id_foreign";`);

    this.addSql(`drop table if exists "analytics"."destination" cascade;`);
    this.addSql(`drop table if exists "analytics"."destination_delivery" cascade;`);

    this.addSql(`drop type "analytics"."destination_kind";`);
  }

}
