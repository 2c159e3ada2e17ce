/**
 * What the Campaign Manager knows of other services, from their events: segment membership (the
 * audience a broadcast snapshots at launch) and the current version of each email template (the
 * version a campaign pins when it is saved).
 */
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

@Entity({ tableName: 'segment_member' })
@Index({
  name: 'segment_member_current_index',
  expression:
    'create index "segment_member_current_index" on "campaigns"."segment_member" ("segment_id", "customer_id") where "member"',
})
export class SegmentMember {
  @PrimaryKey({ type: 'uuid' })
  segmentId!: string;

  @PrimaryKey({ type: 'text' })
  customerId!: string;

  @Property({ type: 'boolean' })
  member!: boolean;

  /** Time of the membership change applied; an older one arriving late changes nothing. */
  @Property({ type: 'datetime' })
  changedAt!: Date;
}

@Entity({ tableName: 'template_version' })
export class TemplateVersion {
  @PrimaryKey({ type: 'uuid' })
  templateId!: string;

  @Property({ type: 'integer' })
  version!: number;

  @Property({ type: 'text' })
  name!: string;
}
