/** Entities other subgraphs own, as the analytics subgraph refers to or extends them. */
import { EntityKey } from '@marketing/platform';
import { Directive, ObjectType } from 'type-graphql';

@ObjectType('Customer')
@Directive('@key(fields: "id")')
export class Customer extends EntityKey {}

@ObjectType('Campaign')
@Directive('@key(fields: "id")')
export class CampaignRef extends EntityKey {}
