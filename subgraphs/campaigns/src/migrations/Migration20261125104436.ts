import { Migration } from '@mikro-orm/migrations';

export class Migration20261125104436 extends Migration {

  override name = 'Migration20261125104436';

  override up(): void | Promise<void> {
    this.addSql(`create index "campaign_enrollment_broadcast_queue" on "campaigns"."campaign_enrollment" ("campaign_id", "status", "entered_at", "id") where "entry_key" = 'broadcast' and "status" in ('ACTIVE', 'HELD');`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "campaigns"."campaign_enrollment_broadcast_queue";`);
  }

}
