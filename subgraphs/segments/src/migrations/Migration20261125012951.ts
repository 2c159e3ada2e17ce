import { Migration } from '@mikro-orm/migrations';

export class Migration20261125012951 extends Migration {

  override name = 'Migration20261125012951';

  override up(): void | Promise<void> {
    this.addSql(`create schema if not exists "segments";`);
    this.addSql(`create table "segments"."customer_profile" ("customer_id" text not null, "email" text null, "first_name" text null, "last_name" text null, "country" text null, "timezone" text null, "traits" jsonb not null, "trait_versions" jsonb not null, "order_count" int not null default 0, "total_spent" numeric(14,2) not null default 0, "first_order_at" timestamptz null, "last_order_at" timestamptz null, "last_seen_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("customer_id"));`);
    this.addSql(`create index "customer_profile_email_prefix_index" on "segments"."customer_profile" ("email" text_pattern_ops);`);

    this.addSql(`create table "segments"."segment" ("id" uuid not null, "name" text not null, "description" text null, "definition" jsonb not null, "member_count" int not null default 0, "version" int not null default 1, "deleted_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);

    this.addSql(`create table "segments"."segment_membership" ("id" bigserial primary key, "segment_id" uuid not null, "customer_id" text not null, "entered_at" timestamptz not null, "exited_at" timestamptz null);`);
    this.addSql(`create index "segment_membership_segment_id_customer_id_index" on "segments"."segment_membership" ("segment_id", "customer_id");`);
    this.addSql(`create index "segment_membership_current_index" on "segments"."segment_membership" ("customer_id", "segment_id") where "exited_at" is null;`);

    this.addSql(`alter table "segments"."segment_membership" add constraint "segment_membership_segment_id_foreign" foreign key ("segment_id") references "segments"."segment" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "segments"."segment_membership" drop constraint "segment_membership_segment_id_foreign";`);

    this.addSql(`drop table if exists "segments"."customer_profile" cascade;`);
    this.addSql(`drop table if exists "segments"."segment" cascade;`);
    this.addSql(`drop table if exists "segments"."segment_membership" cascade;`);

    this.addSql(`drop schema if exists "segments";`);
  }

}
