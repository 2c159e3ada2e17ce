import { Migration } from '@mikro-orm/migrations';

export class Migration20261125091855 extends Migration {

  override name = 'Migration20261125091855';

  override up(): void | Promise<void> {
    this.addSql(`alter table "analytics"."destination_delivery" add "customer_id" text null;`);
    this.addSql(`create index "destination_delivery_customer_id_index" on "analytics"."destination_delivery" ("customer_id");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "analytics"."destination_delivery_customer_id_index";`);
    this.addSql(`alter table "analytics"."destination_delivery" drop column "customer_id";`);
  }

}
