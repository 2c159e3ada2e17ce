import { Migration } from '@mikro-orm/migrations';

export class Migration20261125060531 extends Migration {

  override name = 'Migration20261125060531';

  override up(): void | Promise<void> {
    this.addSql(`create table "analytics"."attributed_order" ("order_id" text not null, "customer_id" text not null, "delivery_id" uuid not null, "campaign_id" uuid not null, "variant_id" uuid null, "touch" text not null, "revenue" numeric(14,2) not null, "ordered_at" timestamptz not null, primary key ("order_id"));`);

    this.addSql(`create table "analytics"."delivery_fact" ("delivery_id" uuid not null, "campaign_id" uuid null, "variant_id" uuid null, "customer_id" text not null, "sent_at" timestamptz null, "delivered_at" timestamptz null, "bounced_at" timestamptz null, "first_open_at" timestamptz null, "first_click_at" timestamptz null, "unsubscribed_at" timestamptz null, "complained_at" timestamptz null, primary key ("delivery_id"));`);
    this.addSql(`create index "delivery_fact_customer_id_first_open_at_index" on "analytics"."delivery_fact" ("customer_id", "first_open_at");`);
    this.addSql(`create index "delivery_fact_customer_id_first_click_at_index" on "analytics"."delivery_fact" ("customer_id", "first_click_at");`);

    this.addSql(`create table "analytics"."processed_message" ("consumer" text not null, "message_id" text not null, "processed_at" timestamptz not null, primary key ("consumer", "message_id"));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "analytics"."attributed_order" cascade;`);
    this.addSql(`drop table if exists "analytics"."delivery_fact" cascade;`);
    this.addSql(`drop table if exists "analytics"."processed_message" cascade;`);
  }

}
