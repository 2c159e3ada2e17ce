import { Migration } from '@mikro-orm/migrations';

export class Migration20261125013220 extends Migration {

  override name = 'Migration20261125013220';

  override up(): void | Promise<void> {
    this.addSql(`create schema if not exists "analytics";`);
    this.addSql(`create table "analytics"."campaign_stats" ("campaign_id" uuid not null, "sent" int not null default 0, "delivered" int not null default 0, "unique_opens" int not null default 0, "unique_clicks" int not null default 0, "conversions" int not null default 0, "revenue" numeric(14,2) not null default 0, "recipients" int not null default 0, "bounced" int not null default 0, "unsubscribed" int not null default 0, "complained" int not null default 0, "updated_at" timestamptz not null, primary key ("campaign_id"));`);

    this.addSql(`create table "analytics"."stats_bucket" ("campaign_id" uuid not null, "size" text not null, "start" timestamptz not null, "sent" int not null default 0, "delivered" int not null default 0, "unique_opens" int not null default 0, "unique_clicks" int not null default 0, "conversions" int not null default 0, "revenue" numeric(14,2) not null default 0, primary key ("campaign_id", "size", "start"));`);
    this.addSql(`create index "stats_bucket_campaign_id_size_start_index" on "analytics"."stats_bucket" ("campaign_id", "size", "start");`);

    this.addSql(`create table "analytics"."touchpoint" ("id" bigserial primary key, "message_id" text not null, "customer_id" text not null, "at" timestamptz not null, "type" text not null, "source" text not null, "campaign_id" uuid null, "properties" jsonb not null);`);
    this.addSql(`alter table "analytics"."touchpoint" add constraint "touchpoint_message_id_unique" unique ("message_id");`);
    this.addSql(`create index "touchpoint_customer_id_at_index" on "analytics"."touchpoint" ("customer_id", "at");`);

    this.addSql(`create table "analytics"."variant_stats" ("campaign_id" uuid not null, "variant_id" uuid not null, "sent" int not null default 0, "delivered" int not null default 0, "unique_opens" int not null default 0, "unique_clicks" int not null default 0, "conversions" int not null default 0, "revenue" numeric(14,2) not null default 0, primary key ("campaign_id", "variant_id"));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "analytics"."campaign_stats" cascade;`);
    this.addSql(`drop table if exists "analytics"."stats_bucket" cascade;`);
    this.addSql(`drop table if exists "analytics"."touchpoint" cascade;`);
    this.addSql(`drop table if exists "analytics"."variant_stats" cascade;`);

    this.addSql(`drop schema if exists "analytics";`);
  }

}
