/** Orders and their lines; an order belongs to one customer. */
import { Collection } from '@mikro-orm/core';
import {
  Entity,
  Index,
  ManyToOne,
  OneToMany,
  PrimaryKey,
  Property,
} from '@mikro-orm/decorators/legacy';
import { Directive, Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Customer } from '../customer/customer.entity.js';
import { Product } from '../product/product.entity.js';

@ObjectType('Order')
@Directive('@key(fields: "id")')
@Entity({ tableName: 'order' })
@Index({ properties: ['customer', 'placedAt'] })
export class Order {
  @Field(() => ID)
  @PrimaryKey({ type: 'text' })
  id!: string;

  @ManyToOne(() => Customer, { deleteRule: 'cascade' })
  customer!: Customer;

  @Field(() => Float)
  @Property({ type: 'decimal', precision: 12, scale: 2, runtimeType: 'number' })
  total!: number;

  @Field(() => String)
  @Property({ type: 'text' })
  currency: string = 'EUR';

  @Field(() => String)
  @Property({ type: 'text' })
  status: string = 'COMPLETED';

  @Field(() => Date)
  @Property({ type: 'datetime' })
  placedAt: Date = new Date();

  @OneToMany(() => OrderLine, (line) => line.order, { orphanRemoval: true })
  lines = new Collection<OrderLine>(this);
}

@ObjectType('OrderLine')
@Entity({ tableName: 'order_line' })
export class OrderLine {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @ManyToOne(() => Order, { deleteRule: 'cascade', index: true })
  order!: Order;

  @Field(() => Product)
  @ManyToOne(() => Product)
  product!: Product;

  @Field(() => Int)
  @Property({ type: 'integer' })
  quantity!: number;

  @Field(() => Float)
  @Property({ type: 'decimal', precision: 12, scale: 2, runtimeType: 'number' })
  unitPrice!: number;
}
