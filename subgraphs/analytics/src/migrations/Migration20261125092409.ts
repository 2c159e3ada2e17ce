import { Migration } from '@mikro-orm/migrations';

export class Migration20261125092409 extends Migration {

  override name = 'Migration20261125092409';

  override up(): void | Promise<void> {
    this.addSql(`create index "destination_delivery_delivered_index" on "analytics"."destination_delivery" ("delivered_at") where "state" = 'DELIVERED';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "analytics"."destination_delivery_delivered_index";`);
  }

}
