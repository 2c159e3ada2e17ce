/**
 * The Campaign Manager's campaigns as analytics knows them, from its `campaign.changed` events: the
 * highest version seen of each. A/B results take the test's settings and the variants' order
 * (the first is the control) from here.
 */
import type { AbTestSettingsData, CampaignChanged } from '@marketing/platform';
import { BigIntType } from '@mikro-orm/core';
import { Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

@Entity({ tableName: 'campaign_snapshot' })
export class CampaignSnapshot {
  @PrimaryKey({ type: 'uuid' })
  campaignId!: string;

  /** Any non-negative integer the Campaign Manager counts with (a timestamp fits too). */
  @Property({ type: new BigIntType('number') })
  version!: number;

  @Property({ type: 'text' })
  name!: string;

  /** BROADCAST or AUTOMATION. */
  @Property({ type: 'text' })
  kind!: string;

  @Property({ type: 'text' })
  status!: string;

  /** In order: the first is the control. */
  @Property({ type: 'jsonb' })
  variants!: CampaignChanged['variants'];

  @Property({ type: 'jsonb', nullable: true })
  abTest?: AbTestSettingsData | null;

  @Property({ type: 'datetime', nullable: true })
  launchedAt?: Date | null;

  @Property({ type: 'datetime' })
  changedAt!: Date;
}
