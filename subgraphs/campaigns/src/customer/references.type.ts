/** Entities other subgraphs own, as the campaigns subgraph refers to or extends them. */
import { EntityKey } from '@marketing/platform';
import { Directive, ObjectType } from 'type-graphql';

@ObjectType('Customer')
@Directive('@key(fields: "id")')
export class Customer extends EntityKey {}

@ObjectType('Segment')
@Directive('@key(fields: "id", resolvable: false)')
export class SegmentRef extends EntityKey {}

@ObjectType('EmailTemplate')
@Directive('@key(fields: "id", resolvable: false)')
export class EmailTemplateRef extends EntityKey {}
