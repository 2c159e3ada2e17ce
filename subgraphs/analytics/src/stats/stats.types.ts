/** Campaign performance as clients read it (contract: CampaignStats, VariantStats, StatsBucket). */
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CampaignRef } from '../customer/references.type.js';

export enum StatsBucketSize {
  MINUTE = 'MINUTE',
  HOUR = 'HOUR',
  DAY = 'DAY',
}
registerEnumType(StatsBucketSize, { name: 'StatsBucketSize' });

@ObjectType('VariantStats')
export class VariantStats {
  @Field(() => ID) variantId!: string;
  @Field(() => Int) sent!: number;
  @Field(() => Int) delivered!: number;
  @Field(() => Int) uniqueOpens!: number;
  @Field(() => Int) uniqueClicks!: number;
  @Field(() => Int) conversions!: number;
  @Field(() => Float) revenue!: number;
}

@ObjectType('StatsBucket')
export class StatsBucket {
  @Field(() => Date) start!: Date;
  @Field(() => Int) sent!: number;
  @Field(() => Int) uniqueOpens!: number;
  @Field(() => Int) uniqueClicks!: number;
  @Field(() => Int) conversions!: number;
  @Field(() => Float) revenue!: number;
}

@ObjectType('CampaignStats')
export class CampaignStats {
  @Field(() => CampaignRef, { description: 'Resolved through the federation (campaigns subgraph)' })
  campaign!: CampaignRef;

  @Field(() => Int) recipients!: number;
  @Field(() => Int) sent!: number;
  @Field(() => Int) delivered!: number;
  @Field(() => Int) bounced!: number;
  @Field(() => Int) uniqueOpens!: number;
  @Field(() => Int) uniqueClicks!: number;
  @Field(() => Int) unsubscribed!: number;
  @Field(() => Int) complained!: number;
  @Field(() => Int) conversions!: number;
  @Field(() => Float) revenue!: number;
  @Field(() => Date) updatedAt!: Date;

  @Field(() => Float, { description: 'uniqueOpens / delivered' })
  get openRate(): number {
    return rate(this.uniqueOpens, this.delivered);
  }

  @Field(() => Float, { description: 'uniqueClicks / delivered' })
  get clickRate(): number {
    return rate(this.uniqueClicks, this.delivered);
  }

  @Field(() => Float, { description: 'conversions / delivered' })
  get conversionRate(): number {
    return rate(this.conversions, this.delivered);
  }
}

function rate(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}
