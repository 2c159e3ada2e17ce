import { Migration } from '@mikro-orm/migrations';

export class Migration20261125012742 extends Migration {

  override name = 'Migration20261125012742';

  override up(): void | Promise<void> {
    this.addSql(`create schema if not exists "ecommerce";`);
    this.addSql(`create table "ecommerce"."customer" ("id" text not null, "email" text not null, "first_name" text null, "last_name" text null, "country" text null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "ecommerce"."customer" add constraint "customer_email_unique" unique ("email");`);

    this.addSql(`create table "ecommerce"."order" ("id" text not null, "customer_id" text not null, "total" numeric(12,2) not null, "currency" text not null default 'EUR', "status" text not null default 'COMPLETED', "placed_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "order_customer_id_placed_at_index" on "ecommerce"."order" ("customer_id", "placed_at");`);

    this.addSql(`create table "ecommerce"."product" ("id" text not null, "sku" text not null, "name" text not null, "category" text not null, "price" numeric(12,2) not null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "ecommerce"."product" add constraint "product_sku_unique" unique ("sku");`);

    this.addSql(`create table "ecommerce"."order_line" ("id" bigserial primary key, "order_id" text not null, "product_id" text not null, "quantity" int not null, "unit_price" numeric(12,2) not null);`);
    this.addSql(`create index "order_line_order_id_index" on "ecommerce"."order_line" ("order_id");`);

    this.addSql(`alter table "ecommerce"."order" add constraint "order_customer_id_foreign" foreign key ("customer_id") references "ecommerce"."customer" ("id") on delete cascade;`);

    this.addSql(`alter table "ecommerce"."order_line" add constraint "order_line_order_id_foreign" foreign key ("order_id") references "ecommerce"."order" ("id") on delete cascade;`);
    this.addSql(`alter table "ecommerce"."order_line" add constraint "order_line_product_id_foreign" foreign key ("product_id") references "ecommerce"."product" ("id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "ecommerce"."order" drop constraint "order_customer_id_foreign";`);
    this.addSql(`alter table "ecommerce"."order_line" drop constraint "order_line_order_id_foreign";`);
    this.addSql(`alter table "ecommerce"."order_line" drop constraint "order_line_product_id_foreign";`);

    this.addSql(`drop table if exists "ecommerce"."customer" cascade;`);
    this.addSql(`drop table if exists "ecommerce"."order" cascade;`);
    this.addSql(`drop table if exists "ecommerce"."product" cascade;`);
    this.addSql(`drop table if exists "ecommerce"."order_line" cascade;`);

    this.addSql(`drop schema if exists "ecommerce";`);
  }

}
