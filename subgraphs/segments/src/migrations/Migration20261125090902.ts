import { Migration } from '@mikro-orm/migrations';

export class Migration20261125090902 extends Migration {

  override name = 'Migration20261125090902';

  override up(): void | Promise<void> {
    this.addSql(`create table "segments"."erasure_completion" ("request_id" uuid not null, "service" text not null, "completed_at" timestamptz not null, "counts" jsonb not null, primary key ("request_id", "service"));`);

    this.addSql(`create table "segments"."erasure_key" ("id" int not null, "key" text not null, primary key ("id"), check ("id" = 1));`);
    // The HMAC key of the audit's customer hashes: 244 random bits from gen_random_uuid().
    this.addSql(`insert into "segments"."erasure_key" ("id", "key") values (1, encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex'));`);

    this.addSql(`create table "segments"."erasure_request" ("id" uuid not null, "subject_hash" text not null, "requested_by" text not null, "requested_at" timestamptz not null, "completed_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "erasure_request_subject_hash_index" on "segments"."erasure_request" ("subject_hash");`);

    this.addSql(`create table "segments"."erasure_work" ("request_id" uuid not null, "customer_id" text not null, "emails" jsonb not null, primary key ("request_id"));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "segments"."erasure_completion" cascade;`);
    this.addSql(`drop table if exists "segments"."erasure_key" cascade;`);
    this.addSql(`drop table if exists "segments"."erasure_request" cascade;`);
    this.addSql(`drop table if exists "segments"."erasure_work" cascade;`);
  }

}
