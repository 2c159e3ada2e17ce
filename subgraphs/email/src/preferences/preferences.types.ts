/** What a client sees of a customer's email preferences. */
import { Field, InputType, ObjectType } from 'type-graphql';
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

@InputType('TopicSubscriptionInput')
export class TopicSubscriptionInput {
  @Field(() => String)
  topic!: string;

  @Field(() => Boolean)
  subscribed!: boolean;
}

@InputType('EmailPreferencesInput')
export class EmailPreferencesInput {
  @Field(() => Boolean, { nullable: true })
  subscribed?: boolean | null;

  @Field(() => [TopicSubscriptionInput], { nullable: true })
  topics?: TopicSubscriptionInput[] | null;

  @Field(() => String, {
    description: 'Where the consent change came from (form, import, support, ...)',
  })
  source!: string;
}
