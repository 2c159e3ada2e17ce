/** GraphQL input of destinations (the contract's DestinationInput). */
import { Field, InputType } from 'type-graphql';
import { DestinationKind } from './destination.entity.js';

@InputType('DestinationInput')
export class DestinationInput {
  @Field(() => String)
  name!: string;

  @Field(() => DestinationKind)
  kind!: DestinationKind;

  @Field(() => String, {
    description:
      'WEBHOOK: the endpoint; SEGMENT: the API base (e.g. https://api.segment.io); GA4: the collect URL with measurement_id (https://www.google-analytics.com/mp/collect?measurement_id=G-XXXX)',
  })
  url!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'HMAC key (WEBHOOK), write key (SEGMENT) or API secret (GA4); write-only. Required on create; omitted on update keeps the current one',
  })
  secret?: string | null;

  @Field(() => [String], {
    nullable: true,
    description:
      'Event types forwarded (email.opened, segment.entered, Order Completed, ...); empty or omitted = all',
  })
  events?: string[] | null;

  @Field(() => Boolean, { nullable: true, defaultValue: true })
  enabled?: boolean | null;
}
