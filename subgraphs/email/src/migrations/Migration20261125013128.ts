import { Migration } from '@mikro-orm/migrations';

export class Migration20261125013128 extends Migration {

  override name = 'Migration20261125013128';

  override up(): void | Promise<void> {
    this.addSql(`create schema if not exists "email";`);
    this.addSql(`create type "email"."delivery_status" as enum ('QUEUED', 'SENT', 'DELIVERED', 'DEFERRED', 'BOUNCED', 'COMPLAINED', 'FAILED', 'SUPPRESSED');`);
    this.addSql(`create type "email"."suppression_reason" as enum ('UNSUBSCRIBED', 'HARD_BOUNCE', 'COMPLAINT', 'MANUAL', 'ERASED');`);
    this.addSql(`create table "email"."email_consent" ("customer_id" text not null, "subscribed" boolean not null, "source" text not null, "consent_updated_at" timestamptz not null, primary key ("customer_id"));`);

    this.addSql(`create table "email"."email_delivery" ("id" uuid not null, "dedupe_key" text not null, "campaign_id" uuid null, "customer_id" text not null, "variant_id" uuid null, "status" "email"."delivery_status" not null default 'QUEUED', "message_id" text null, "queued_at" timestamptz not null, "sent_at" timestamptz null, "first_opened_at" timestamptz null, "first_clicked_at" timestamptz null, "error" text null, primary key ("id"));`);
    this.addSql(`alter table "email"."email_delivery" add constraint "email_delivery_dedupe_key_unique" unique ("dedupe_key");`);
    this.addSql(`create index "email_delivery_customer_id_queued_at_index" on "email"."email_delivery" ("customer_id", "queued_at");`);

    this.addSql(`create table "email"."email_delivery_event" ("id" bigserial primary key, "delivery_id" uuid not null, "status" "email"."delivery_status" not null, "detail" text null, "at" timestamptz not null);`);
    this.addSql(`create index "email_delivery_event_delivery_id_index" on "email"."email_delivery_event" ("delivery_id");`);

    this.addSql(`create table "email"."email_template" ("id" uuid not null, "name" text not null, "subject" text not null, "preheader" text null, "mjml" text null, "html" text not null, "text" text null, "version" int not null default 1, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);

    this.addSql(`create table "email"."suppression" ("address_hash" text not null, "customer_id" text null, "reason" "email"."suppression_reason" not null, "created_at" timestamptz not null, primary key ("address_hash"));`);
    this.addSql(`create index "suppression_customer_id_index" on "email"."suppression" ("customer_id");`);

    this.addSql(`create table "email"."topic_subscription" ("customer_id" text not null, "topic" text not null, "subscribed" boolean not null, "updated_at" timestamptz not null, primary key ("customer_id", "topic"));`);

    this.addSql(`alter table "email"."email_delivery_event" add constraint "email_delivery_event_delivery_id_foreign" foreign key ("delivery_id") references "email"."email_delivery" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "email"."email_delivery_event" drop constraint "email_delivery_event_delivery_id_foreign";`);

    this.addSql(`drop table if exists "email"."email_consent" cascade;`);
    this.addSql(`drop table if exists "email"."email_delivery" cascade;`);
    this.addSql(`drop table if exists "email"."email_delivery_event" cascade;`);
    this.addSql(`drop table if exists "email"."email_template" cascade;`);
    this.addSql(`drop table if exists "email"."suppression" cascade;`);
    this.addSql(`drop table if exists "email"."topic_subscription" cascade;`);

    this.addSql(`drop type "email"."delivery_status";`);
    this.addSql(`drop type "email"."suppression_reason";`);
    this.addSql(`drop schema if exists "email";`);
  }

}
