import { Migration } from '@mikro-orm/migrations';

export class Migration20261125052435 extends Migration {

  override name = 'Migration20261125052435';

  override up(): void | Promise<void> {
    this.addSql(`create table "email"."email_consent_event" ("id" bigserial primary key, "customer_id" text not null, "topic" text null, "subscribed" boolean not null, "source" text not null, "actor" text not null, "at" timestamptz not null);`);
    this.addSql(`create index "email_consent_event_customer_id_at_index" on "email"."email_consent_event" ("customer_id", "at");`);

    this.addSql(`create table "email"."email_link" ("delivery_id" uuid not null, "link_index" int not null, "url" text not null, primary key ("delivery_id", "link_index"));`);

    this.addSql(`create table "email"."email_recipient" ("customer_id" text not null, "email" text null, "first_name" text null, "last_name" text null, "timezone" text null, "traits" jsonb not null, "trait_versions" jsonb not null, "updated_at" timestamptz not null, primary key ("customer_id"));`);

    this.addSql(`create table "email"."email_template_version" ("id" bigserial primary key, "template_id" uuid not null, "version" int not null, "subject" text not null, "preheader" text null, "mjml" text null, "html" text null, "text" text null, "created_by" text not null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "email"."email_template_version" add constraint "email_template_version_template_id_version_unique" unique ("template_id", "version");`);

    this.addSql(`create table "email"."outbox" ("seq" bigserial primary key, "subject" text not null, "message_id" text not null, "data" jsonb not null, "created_at" timestamptz not null);`);

    this.addSql(`create table "email"."processed_message" ("consumer" text not null, "message_id" text not null, "processed_at" timestamptz not null, primary key ("consumer", "message_id"));`);

    this.addSql(`alter type "email"."delivery_status" add value if not exists 'SENDING' after 'QUEUED';`);
    this.addSql(`alter table "email"."email_delivery" add "template_id" uuid not null, add "template_version" int not null, add "topic" text null, add "context" jsonb null, add "email" text null, add "attempts" int not null default 0, add "next_attempt_at" timestamptz not null, add "claimed_until" timestamptz null, add "delivered_at" timestamptz null, add "open_count" int not null default 0, add "click_count" int not null default 0;`);
    // Templates saved before versions existed get their current content as a version.
    this.addSql(`insert into "email"."email_template_version" (template_id, version, subject, preheader, mjml, html, text, created_by, created_at) select id, version, subject, preheader, mjml, html, text, 'migration', updated_at from "email"."email_template" on conflict do nothing;`);
    this.addSql(`create index "email_delivery_due_index" on "email"."email_delivery" ("next_attempt_at") where "status" in ('QUEUED', 'DEFERRED');`);

  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "email"."email_consent_event" cascade;`);
    this.addSql(`drop table if exists "email"."email_link" cascade;`);
    this.addSql(`drop table if exists "email"."email_recipient" cascade;`);
    this.addSql(`drop table if exists "email"."email_template_version" cascade;`);
    this.addSql(`drop table if exists "email"."outbox" cascade;`);
    this.addSql(`drop table if exists "email"."processed_message" cascade;`);

    this.addSql(`drop index "email"."email_delivery_due_index";`);
    this.addSql(`alter table "email"."email_delivery" drop column "template_id", drop column "template_version", drop column "topic", drop column "context", drop column "email", drop column "attempts", drop column "next_attempt_at", drop column "claimed_until", drop column "delivered_at", drop column "open_count", drop column "click_count";`);
  }

}
