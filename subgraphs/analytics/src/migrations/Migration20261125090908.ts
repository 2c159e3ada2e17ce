import { Migration } from '@mikro-orm/migrations';

export class Migration20261125090908 extends Migration {

  override name = 'Migration20261125090908';

  override up(): void | Promise<void> {
    this.addSql(`create table "analytics"."ab_decision" ("request_id" uuid not null, "campaign_id" uuid not null, "metric" text not null, "confidence" double precision not null, "variant_ids" jsonb not null, "winner_variant_id" uuid null, "best_variant_id" uuid null, "reason" text not null, "decided_at" timestamptz not null, primary key ("request_id"));`);
    this.addSql(`create index "ab_decision_campaign_id_decided_at_index" on "analytics"."ab_decision" ("campaign_id", "decided_at");`);

    this.addSql(`create table "analytics"."campaign_snapshot" ("campaign_id" uuid not null, "version" bigint not null, "name" text not null, "kind" text not null, "status" text not null, "variants" jsonb not null, "ab_test" jsonb null, "launched_at" timestamptz null, "changed_at" timestamptz not null, primary key ("campaign_id"));`);

    this.addSql(`create index "attributed_order_campaign_id_index" on "analytics"."attributed_order" ("campaign_id");`);

    this.addSql(`create index "delivery_fact_campaign_id_variant_id_index" on "analytics"."delivery_fact" ("campaign_id", "variant_id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "analytics"."ab_decision" cascade;`);
    this.addSql(`drop table if exists "analytics"."campaign_snapshot" cascade;`);

    this.addSql(`drop index "analytics"."attributed_order_campaign_id_index";`);

    this.addSql(`drop index "analytics"."delivery_fact_campaign_id_variant_id_index";`);
  }

}
