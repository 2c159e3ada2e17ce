/** The campaign connection (cursor pagination). */
import { PageInfo } from '@marketing/platform';
import { Field, Int, ObjectType } from 'type-graphql';
import { Campaign } from './campaign.entity.js';

@ObjectType('CampaignEdge')
export class CampaignEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Campaign)
  node!: Campaign;
}

@ObjectType('CampaignConnection')
export class CampaignConnection {
  constructor(private readonly count: () => Promise<number>) {}

  @Field(() => [CampaignEdge])
  edges!: CampaignEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int)
  get totalCount(): Promise<number> {
    return this.count();
  }
}
