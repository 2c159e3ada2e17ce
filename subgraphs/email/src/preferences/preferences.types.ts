/** What a client sees of a customer's email preferences. */
import { Field, ObjectType } from 'type-graphql';
import { SuppressionReason } from './preferences.entity.js';

@ObjectType('TopicSubscription')
export class TopicSubscriptionView {
  @Field(() => String)
  topic!: string;

  @Field(() => Boolean)
  subscribed!: boolean;
}

@ObjectType('EmailPreferences')
export class EmailPreferences {
  @Field(() => Boolean, { description: 'Marketing email consent' })
  subscribed!: boolean;

  @Field(() => [TopicSubscriptionView])
  topics!: TopicSubscriptionView[];

  @Field(() => Boolean)
  suppressed!: boolean;

  @Field(() => SuppressionReason, { nullable: true })
  suppressionReason!: SuppressionReason | null;

  @Field(() => Date, { nullable: true })
  consentUpdatedAt!: Date | null;
}
