import { Migration } from '@mikro-orm/migrations';

export class Migration20261125091146 extends Migration {

  override name = 'Migration20261125091146';

  override up(): void | Promise<void> {
    this.addSql(`create table "campaigns"."automation_customer" ("customer_id" text not null, "traits" jsonb not null, "trait_versions" jsonb not null, "timezone" text null, primary key ("customer_id"));`);

    this.addSql(`create table "campaigns"."automation_event" ("message_id" text not null, "customer_id" text not null, "event" text not null, "properties" jsonb not null, "occurred_at" timestamptz not null, primary key ("message_id"));`);
    this.addSql(`create index "automation_event_customer_id_event_occurred_at_index" on "campaigns"."automation_event" ("customer_id", "event", "occurred_at");`);

    this.addSql(`create table "campaigns"."automation_send_log" ("dedupe_key" text not null, "customer_id" text not null, "campaign_id" uuid not null, "sent_at" timestamptz not null, primary key ("dedupe_key"));`);
    this.addSql(`create index "automation_send_log_customer_id_sent_at_index" on "campaigns"."automation_send_log" ("customer_id", "sent_at");`);

    this.addSql(`alter table "campaigns"."campaign" add "scheduled_local" boolean not null default false, add "version" int not null default 0, add "ab_state" text null, add "ab_decision_due_at" timestamptz null, add "ab_request_id" uuid null, add "ab_outcome" jsonb null;`);

    this.addSql(`alter table "campaigns"."campaign_enrollment" add "seq" int not null default 0, add "awaiting" jsonb null, add "context" jsonb null, add "wake_at" timestamptz null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "campaigns"."automation_customer" cascade;`);
    this.addSql(`drop table if exists "campaigns"."automation_event" cascade;`);
    this.addSql(`drop table if exists "campaigns"."automation_send_log" cascade;`);

    this.addSql(`alter table "campaigns"."campaign" drop column "scheduled_local", drop column "version", drop column "ab_state", drop column "ab_decision_due_at", drop column "ab_request_id", drop column "ab_outcome";`);

    this.addSql(`alter table "campaigns"."campaign_enrollment" drop column "seq", drop column "awaiting", drop column "context", drop column "wake_at";`);
  }

}
