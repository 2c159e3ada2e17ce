import { Migration } from '@mikro-orm/migrations';

export class Migration20261125093417 extends Migration {

  override name = 'Migration20261125093417';

  override up(): void | Promise<void> {
    this.addSql(`alter table "analytics"."destination" add "paused_until" timestamptz null;`);

    this.addSql(`alter table "analytics"."destination_delivery" add "claimed_until" timestamptz null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "analytics"."destination" drop column "paused_until";`);

    this.addSql(`alter table "analytics"."destination_delivery" drop column "claimed_until";`);
  }

}
