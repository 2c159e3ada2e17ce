/** EmailDelivery's references to entities other subgraphs own, and its status history. */
import { Ctx, Field, FieldResolver, ObjectType, Resolver, Root } from 'type-graphql';
import type { EmailContext } from '../context.js';
import { CampaignRef, Customer } from '../customer/references.type.js';
import { DeliveryStatus, EmailDelivery } from './delivery.entity.js';

@ObjectType('DeliveryStatusChange')
export class DeliveryStatusChange {
  @Field(() => DeliveryStatus)
  status!: DeliveryStatus;

  @Field(() => String, { nullable: true, description: 'SMTP answer or reason' })
  detail!: string | null;

  @Field(() => Date)
  at!: Date;
}

@Resolver(() => EmailDelivery)
export class EmailDeliveryResolver {
  @FieldResolver(() => CampaignRef, { nullable: true })
  campaign(@Root() delivery: EmailDelivery): CampaignRef | null {
    return delivery.campaignId ? { id: delivery.campaignId } : null;
  }

  @FieldResolver(() => Customer)
  customer(@Root() delivery: EmailDelivery): Customer {
    return { id: delivery.customerId };
  }

  @FieldResolver(() => [DeliveryStatusChange], { description: 'Every status, oldest first' })
  history(
    @Root() delivery: EmailDelivery,
    @Ctx() ctx: EmailContext,
  ): Promise<DeliveryStatusChange[]> {
    return ctx.loaders.historyByDelivery.load(delivery.id);
  }
}
