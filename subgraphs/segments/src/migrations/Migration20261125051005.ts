import { Migration } from '@mikro-orm/migrations';

export class Migration20261125051005 extends Migration {

  override name = 'Migration20261125051005';

  override up(): void | Promise<void> {
    this.addSql(`create table "segments"."customer_prediction" ("customer_id" text not null, "probability_alive" double precision null, "churn_risk" double precision null, "expected_purchases90d" double precision null, "predicted_clv365d" double precision null, "predicted_at" timestamptz not null, primary key ("customer_id"));`);

    this.addSql(`create table "segments"."email_engagement" ("message_id" text not null, "customer_id" text not null, "action" text not null, "campaign_id" text null, "occurred_at" timestamptz not null, primary key ("message_id"));`);
    this.addSql(`create index "email_engagement_action_occurred_at_index" on "segments"."email_engagement" ("action", "occurred_at");`);
    this.addSql(`create index "email_engagement_customer_id_action_occurred_at_index" on "segments"."email_engagement" ("customer_id", "action", "occurred_at");`);

    this.addSql(`alter table "segments"."segment" add "evaluated_at" timestamptz null, add "created_by" text not null default 'system', add "updated_by" text not null default 'system';`);
    this.addSql(`alter table "segments"."segment" alter column "created_by" drop default, alter column "updated_by" drop default;`);
    // Membership counts are counted from the membership table; existing segments get evaluated again.
    this.addSql(`alter table "segments"."segment" rename column "member_count" to "evaluated_version";`);
    this.addSql(`update "segments"."segment" set "evaluated_version" = 0;`);

    // At most one current membership per (segment, customer).
    this.addSql(`drop index if exists "segments"."segment_membership_current_index";`);
    this.addSql(`create unique index "segment_membership_current_index" on "segments"."segment_membership" ("segment_id", "customer_id") where "exited_at" is null;`);
    this.addSql(`create index "segment_membership_customer_index" on "segments"."segment_membership" ("customer_id") where "exited_at" is null;`);

    // Timezone names this PostgreSQL knows: the projection keeps a profile's timezone only when it
    // is one of them, so "at time zone" in segment queries can never fail on a customer's value.
    this.addSql(`create table "segments"."time_zone" ("name" text primary key);`);
    this.addSql(`insert into "segments"."time_zone" (name) select name from pg_timezone_names on conflict do nothing;`);
    this.addSql(`update "segments"."customer_profile" p set "timezone" = null where "timezone" is not null and not exists (select 1 from "segments"."time_zone" t where t.name = p."timezone");`);

    // A trait or event property read as a timestamp: null, never an error, when it is not one.
    // ISO dates and date-times without an offset are UTC.
    this.addSql(`create or replace function "segments"."json_timestamptz"(value text) returns timestamptz
      language plpgsql immutable parallel safe as $$
      begin
        if value is null or value !~ '^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:?\\d{2})?)?$' then
          return null;
        end if;
        if value ~ '(Z|[+-]\\d{2}:?\\d{2})$' then
          return value::timestamptz;
        end if;
        return value::timestamp at time zone 'UTC';
      exception when others then
        return null;
      end $$;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "segments"."customer_prediction" cascade;`);
    this.addSql(`drop table if exists "segments"."email_engagement" cascade;`);

    this.addSql(`alter table "segments"."segment" drop column "evaluated_at", drop column "created_by", drop column "updated_by";`);
    this.addSql(`alter table "segments"."segment" rename column "evaluated_version" to "member_count";`);

    this.addSql(`drop index "segments"."segment_membership_customer_index";`);
    this.addSql(`drop index "segments"."segment_membership_current_index";`);
    this.addSql(`create index "segment_membership_current_index" on "segments"."segment_membership" ("customer_id", "segment_id") where "exited_at" is null;`);
    this.addSql(`drop table if exists "segments"."time_zone";`);
    this.addSql(`drop function if exists "segments"."json_timestamptz"(text);`);
  }

}
