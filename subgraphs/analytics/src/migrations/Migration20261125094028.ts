import { Migration } from '@mikro-orm/migrations';

export class Migration20261125094028 extends Migration {

  override name = 'Migration20261125094028';

  override up(): void | Promise<void> {
    this.addSql(`drop index "analytics"."destination_delivery_due_index";`);
    this.addSql(`create index "destination_delivery_due_by_destination_index" on "analytics"."destination_delivery" ("destination_id", "next_attempt_at", "id") where "state" = 'PENDING';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "analytics"."destination_delivery_due_by_destination_index";`);
    this.addSql(`create index "destination_delivery_due_index" on "analytics"."destination_delivery" ("next_attempt_at") where state = 'PENDING'::text;`);
  }

}
