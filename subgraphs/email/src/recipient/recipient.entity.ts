/**
 * Who the email service can write to: the customer's address, name and traits, projected from the
 * e-commerce identify events (traits merged per field by source version, like the profile).
 * Templates personalise from it (`customer.*`).
 */
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

@Entity({ tableName: 'email_recipient' })
export class EmailRecipient {
  @PrimaryKey({ type: 'text' })
  customerId!: string;

  @Property({ type: 'text', nullable: true })
  email?: string | null;

  @Property({ type: 'text', nullable: true })
  firstName?: string | null;

  @Property({ type: 'text', nullable: true })
  lastName?: string | null;

  @Property({ type: 'text', nullable: true })
  timezone?: string | null;

  @Property({ type: 'jsonb' })
  traits: Record<string, unknown> = {};

  @Property({ type: 'jsonb' })
  traitVersions: Record<string, string> = {};

  @Property({ type: 'datetime' })
  updatedAt: Date = new Date();
}
