/** EmailDelivery's references to entities other subgraphs own. */
import { FieldResolver, Resolver, Root } from 'type-graphql';
import { CampaignRef, Customer } from '../customer/references.type.js';
import { EmailDelivery } from './delivery.entity.js';

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
}
