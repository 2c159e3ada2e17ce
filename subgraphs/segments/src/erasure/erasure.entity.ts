/**
 * The erasure audit: who asked to erase whom (as a keyed hash, never the id), when, and when each
 * service reported completion. `erasure_work` holds the identifiers the final event-log sweep needs
 * and is deleted when the request completes; `erasure_key` is the random HMAC key of the hashes.
 */
import { Check, Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

@Entity({ tableName: 'erasure_request' })
@Index({ properties: ['subjectHash'] })
export class ErasureRequest {
  @PrimaryKey({ type: 'uuid' })
  id!: string;

  /** HMAC-SHA-256 of the customer id under `erasure_key`: findable by id, not reversible. */
  @Property({ type: 'text' })
  subjectHash!: string;

  /** The `sub` of the admin who asked. */
  @Property({ type: 'text' })
  requestedBy!: string;

  @Property({ type: 'datetime' })
  requestedAt!: Date;

  @Property({ type: 'datetime', nullable: true })
  completedAt?: Date | null;
}

@Entity({ tableName: 'erasure_completion' })
export class ErasureCompletion {
  @PrimaryKey({ type: 'uuid' })
  requestId!: string;

  @PrimaryKey({ type: 'text' })
  service!: string;

  @Property({ type: 'datetime' })
  completedAt!: Date;

  /** Rows erased per table (numbers only). */
  @Property({ type: 'jsonb' })
  counts: Record<string, number> = {};
}

@Entity({ tableName: 'erasure_work' })
export class ErasureWork {
  @PrimaryKey({ type: 'uuid' })
  requestId!: string;

  @Property({ type: 'text' })
  customerId!: string;

  /** The addresses known at request time, for the event-log sweep. */
  @Property({ type: 'jsonb' })
  emails: string[] = [];
}

/** One row: the migration writes it. */
@Entity({ tableName: 'erasure_key' })
@Check({ name: 'erasure_key_id_check', expression: 'id = 1' })
export class ErasureKey {
  @PrimaryKey({ type: 'integer', autoincrement: false })
  id!: number;

  @Property({ type: 'text' })
  key!: string;
}
