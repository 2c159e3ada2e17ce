/** The campaign connection (cursor pagination). */
import { CountedConnection } from '@marketing/platform';
import { Field, ObjectType } from 'type-graphql';
import { Campaign } from './campaign.entity.js';

@ObjectType('CampaignEdge')
export class CampaignEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Campaign)
  node!: Campaign;
}

@ObjectType('CampaignConnection')
export class CampaignConnection extends CountedConnection {
  @Field(() => [CampaignEdge])
  edges!: CampaignEdge[];
}
