/** One step of a customer's journey as clients read it. */
import { GraphQLJSON } from 'graphql-scalars';
import { Field, ObjectType } from 'type-graphql';
import { CampaignRef } from '../customer/references.type.js';

@ObjectType('JourneyEvent')
export class JourneyEvent {
  @Field(() => Date) at!: Date;
  @Field(() => String, { description: 'e.g. "Order Completed", "email.opened"' }) type!: string;
  @Field(() => String, { description: 'ECOMMERCE or MARKETING' }) source!: string;
  @Field(() => CampaignRef, { nullable: true }) campaign!: CampaignRef | null;
  @Field(() => GraphQLJSON) properties!: Record<string, unknown>;
}
