/**
 * Consent and suppression: what a customer agreed to (with its source and time), per topic, and
 * the addresses that must never be mailed (unsubscribed, bounced, complained, manual, erased).
 */
import { Entity, Enum, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { registerEnumType } from 'type-graphql';

export enum SuppressionReason {
  UNSUBSCRIBED = 'UNSUBSCRIBED',
  HARD_BOUNCE = 'HARD_BOUNCE',
  COMPLAINT = 'COMPLAINT',
  MANUAL = 'MANUAL',
  ERASED = 'ERASED',
}
registerEnumType(SuppressionReason, { name: 'SuppressionReason' });

@Entity({ tableName: 'email_consent' })
export class EmailConsent {
  @PrimaryKey({ type: 'text' })
  customerId!: string;

  /** Marketing email consent. */
  @Property({ type: 'boolean' })
  subscribed!: boolean;

  /** Where the change came from (form, import, support, unsubscribe link, ...). */
  @Property({ type: 'text' })
  source!: string;

  @Property({ type: 'datetime' })
  consentUpdatedAt: Date = new Date();
}

@Entity({ tableName: 'topic_subscription' })
export class TopicSubscription {
  @PrimaryKey({ type: 'text' })
  customerId!: string;

  @PrimaryKey({ type: 'text' })
  topic!: string;

  @Property({ type: 'boolean' })
  subscribed!: boolean;

  @Property({ type: 'datetime' })
  updatedAt: Date = new Date();
}

@Entity({ tableName: 'suppression' })
@Index({ properties: ['customerId'] })
export class Suppression {
  /** SHA-256 of the lower-cased address: kept even after erasure, so the person is never mailed. */
  @PrimaryKey({ type: 'text' })
  addressHash!: string;

  @Property({ type: 'text', nullable: true })
  customerId?: string | null;

  @Enum({ items: () => SuppressionReason, nativeEnumName: 'suppression_reason' })
  reason!: SuppressionReason;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();
}

/** Every consent change, kept as proof: what, where it came from, when and who made it. */
@Entity({ tableName: 'email_consent_event' })
@Index({ properties: ['customerId', 'at'] })
export class EmailConsentEvent {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'text' })
  customerId!: string;

  /** Null for marketing consent as a whole, else the topic. */
  @Property({ type: 'text', nullable: true })
  topic?: string | null;

  @Property({ type: 'boolean' })
  subscribed!: boolean;

  @Property({ type: 'text' })
  source!: string;

  /** Who made the change: a user, `customer` (a link in a message) or `system:<service>`. */
  @Property({ type: 'text' })
  actor!: string;

  @Property({ type: 'datetime' })
  at: Date = new Date();
}
