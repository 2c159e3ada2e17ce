/** The e-commerce graph's Customer, as the segments subgraph extends it (profile, segments). */
import { EntityKey } from '@marketing/platform';
import { Directive, ObjectType } from 'type-graphql';

@ObjectType('Customer')
@Directive('@key(fields: "id")')
export class Customer extends EntityKey {}
