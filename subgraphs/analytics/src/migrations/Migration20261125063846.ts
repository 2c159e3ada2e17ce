import { Migration } from '@mikro-orm/migrations';

export class Migration20261125063846 extends Migration {

  override name = 'Migration20261125063846';

  override up(): void | Promise<void> {
    this.addSql(`create table "analytics"."customer_rfm" ("customer_id" text not null, "model_id" bigint not null, "frequency" int not null, "recency" double precision not null, "age" double precision not null, "monetary_value" double precision not null, primary key ("customer_id"));`);
    this.addSql(`create index "customer_rfm_model_id_index" on "analytics"."customer_rfm" ("model_id");`);

    this.addSql(`create table "analytics"."outbox" ("seq" bigserial primary key, "subject" text not null, "message_id" text not null, "data" jsonb not null, "created_at" timestamptz not null);`);

    this.addSql(`create table "analytics"."prediction_model" ("id" bigserial primary key, "fitted_at" timestamptz not null, "observation_end" timestamptz not null, "bg_nbd" jsonb not null, "gamma_gamma" jsonb not null, "diagnostics" jsonb not null);`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "analytics"."customer_rfm" cascade;`);
    this.addSql(`drop table if exists "analytics"."outbox" cascade;`);
    this.addSql(`drop table if exists "analytics"."prediction_model" cascade;`);
  }

}
