/**
 * What the automation engine keeps besides enrolments: the customer's identify traits (for
 * attribute conditions and the timezone of local-time waits and quiet hours), the events of
 * customers while they are enrolled (for "did they do X since entry" conditions), and the log of
 * marketing emails requested per customer (for the frequency cap across campaigns).
 */
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

@Entity({ tableName: 'automation_customer' })
export class AutomationCustomer {
  @PrimaryKey({ type: 'text' })
  customerId!: string;

  @Property({ type: 'jsonb' })
  traits: Record<string, unknown> = {};

  /** Source version per trait (event time, then messageId): the merge keeps the newest. */
  @Property({ type: 'jsonb' })
  traitVersions: Record<string, string> = {};

  @Property({ type: 'text', nullable: true })
  timezone?: string | null;
}

@Entity({ tableName: 'automation_event' })
@Index({ properties: ['customerId', 'event', 'occurredAt'] })
export class AutomationEvent {
  /** The ingested message's id: an event is recorded once. */
  @PrimaryKey({ type: 'text' })
  messageId!: string;

  @Property({ type: 'text' })
  customerId!: string;

  @Property({ type: 'text' })
  event!: string;

  @Property({ type: 'jsonb' })
  properties: Record<string, unknown> = {};

  @Property({ type: 'datetime' })
  occurredAt!: Date;
}

@Entity({ tableName: 'automation_send_log' })
@Index({ properties: ['customerId', 'sentAt'] })
export class AutomationSendLog {
  /** The send request's dedupe key. */
  @PrimaryKey({ type: 'text' })
  dedupeKey!: string;

  @Property({ type: 'text' })
  customerId!: string;

  @Property({ type: 'uuid' })
  campaignId!: string;

  @Property({ type: 'datetime' })
  sentAt!: Date;
}
