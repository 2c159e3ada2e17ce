/** Catalogue queries and the mutation the simulator uses to stock the shop. */
import { randomUUID } from 'node:crypto';
import { pageSize } from '@marketing/platform';
import { Min, MaxLength } from 'class-validator';
import {
  Arg,
  Ctx,
  Field,
  Float,
  ID,
  InputType,
  Int,
  Mutation,
  Query,
  Resolver,
} from 'type-graphql';
import type { EcommerceContext } from '../context.js';
import { Product } from './product.entity.js';

@InputType()
export class ProductInput {
  @Field(() => ID, { nullable: true })
  id?: string;

  @Field(() => String)
  @MaxLength(100)
  sku!: string;

  @Field(() => String)
  @MaxLength(300)
  name!: string;

  @Field(() => String)
  @MaxLength(100)
  category!: string;

  @Field(() => Float)
  @Min(0)
  price!: number;
}

@Resolver(() => Product)
export class ProductResolver {
  @Query(() => Product, { nullable: true })
  product(@Arg('id', () => ID) id: string, @Ctx() ctx: EcommerceContext) {
    return ctx.loaders.product.load(id);
  }

  @Query(() => [Product])
  products(
    @Arg('first', () => Int, { defaultValue: 50, nullable: true }) first: number | null,
    @Ctx() ctx: EcommerceContext,
  ) {
    return ctx.em.find(Product, {}, { orderBy: { id: 'asc' }, limit: pageSize(first, 50, 500) });
  }

  @Mutation(() => Product)
  async createProduct(
    @Arg('input', () => ProductInput) input: ProductInput,
    @Ctx() ctx: EcommerceContext,
  ) {
    const product = ctx.em.create(Product, {
      ...input,
      id: input.id ?? randomUUID(),
      createdAt: new Date(),
    });
    await ctx.em.flush();
    return product;
  }
}
