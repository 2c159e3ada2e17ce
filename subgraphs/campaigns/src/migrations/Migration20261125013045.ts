import { Migration } from '@mikro-orm/migrations';

export class Migration20261125013045 extends Migration {

  override name = 'Migration20261125013045';

  override up(): void | Promise<void> {
    this.addSql(`create schema if not exists "campaigns";`);
    this.addSql(`create type "campaigns"."campaign_kind" as enum ('BROADCAST', 'AUTOMATION');`);
    this.addSql(`create type "campaigns"."campaign_status" as enum ('DRAFT', 'SCHEDULED', 'RUNNING', 'PAUSED', 'COMPLETED', 'ARCHIVED');`);
    this.addSql(`create table "campaigns"."campaign" ("id" uuid not null, "name" text not null, "kind" "campaigns"."campaign_kind" not null, "status" "campaigns"."campaign_status" not null default 'DRAFT', "segment_id" uuid null, "ab_test" jsonb null, "trigger" jsonb null, "steps" jsonb null, "topic" text null, "scheduled_at" timestamptz null, "launched_at" timestamptz null, "completed_at" timestamptz null, "created_by" text not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "campaign_status_id_index" on "campaigns"."campaign" ("status", "id");`);

    this.addSql(`create table "campaigns"."campaign_audit" ("id" bigserial primary key, "campaign_id" uuid not null, "actor" text not null, "action" text not null, "changes" jsonb not null, "at" timestamptz not null);`);
    this.addSql(`create index "campaign_audit_campaign_id_at_index" on "campaigns"."campaign_audit" ("campaign_id", "at");`);

    this.addSql(`create table "campaigns"."campaign_enrollment" ("id" uuid not null, "campaign_id" uuid not null, "customer_id" text not null, "entry_key" text not null, "variant_id" uuid null, "status" text not null default 'ACTIVE', "current_step" text null, "entered_at" timestamptz not null, "exited_at" timestamptz null, "exit_reason" text null, primary key ("id"));`);
    this.addSql(`create index "campaign_enrollment_customer_id_entered_at_index" on "campaigns"."campaign_enrollment" ("customer_id", "entered_at");`);
    this.addSql(`alter table "campaigns"."campaign_enrollment" add constraint "campaign_enrollment_campaign_id_customer_id_entry_key_unique" unique ("campaign_id", "customer_id", "entry_key");`);

    this.addSql(`create table "campaigns"."campaign_variant" ("id" uuid not null, "campaign_id" uuid not null, "position" int not null, "name" text not null, "weight" double precision not null, "template_id" uuid not null, "template_version" int not null, primary key ("id"));`);
    this.addSql(`create index "campaign_variant_campaign_id_index" on "campaigns"."campaign_variant" ("campaign_id");`);

    this.addSql(`alter table "campaigns"."campaign_audit" add constraint "campaign_audit_campaign_id_foreign" foreign key ("campaign_id") references "campaigns"."campaign" ("id") on delete cascade;`);

    this.addSql(`alter table "campaigns"."campaign_enrollment" add constraint "campaign_enrollment_campaign_id_foreign" foreign key ("campaign_id") references "campaigns"."campaign" ("id") on delete cascade;`);

    this.addSql(`alter table "campaigns"."campaign_variant" add constraint "campaign_variant_campaign_id_foreign" foreign key ("campaign_id") references "campaigns"."campaign" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "campaigns"."campaign_audit" drop constraint "campaign_audit_campaign_id_foreign";`);
    this.addSql(`alter table "campaigns"."campaign_enrollment" drop constraint "campaign_enrollment_campaign_id_foreign";`);
    this.addSql(`alter table "campaigns"."campaign_variant" drop constraint "campaign_variant_campaign_id_foreign";`);

    this.addSql(`drop table if exists "campaigns"."campaign" cascade;`);
    this.addSql(`drop table if exists "campaigns"."campaign_audit" cascade;`);
    this.addSql(`drop table if exists "campaigns"."campaign_enrollment" cascade;`);
    this.addSql(`drop table if exists "campaigns"."campaign_variant" cascade;`);

    this.addSql(`drop type "campaigns"."campaign_kind";`);
    this.addSql(`drop type "campaigns"."campaign_status";`);
    this.addSql(`drop schema if exists "campaigns";`);
  }

}
