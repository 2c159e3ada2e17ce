/** Customer.predictions: computed on read from the latest model and the customer's summary. */
import { DomainError, requireRole } from '@marketing/platform';
import {
  Arg,
  Ctx,
  Field,
  FieldResolver,
  Float,
  Int,
  ObjectType,
  Resolver,
  Root,
} from 'type-graphql';
import type { AnalyticsContext } from '../context.js';
import { Customer } from '../customer/references.type.js';
import { predictionsFor } from './prediction.service.js';

@ObjectType('CustomerPredictions')
export class CustomerPredictions {
  @Field(() => Float)
  probabilityAlive!: number;

  @Field(() => Float, { description: '1 - probabilityAlive (BG/NBD)' })
  churnRisk!: number;

  @Field(() => Date)
  modelFittedAt!: Date;

  expected!: (days: number) => number;
  clv!: (days: number) => number;
}

@Resolver(() => CustomerPredictions)
export class CustomerPredictionsResolver {
  @FieldResolver(() => Float, { description: 'Expected purchases in the next `days` (BG/NBD)' })
  expectedPurchases(
    @Root() p: CustomerPredictions,
    @Arg('days', () => Int, { defaultValue: 90, nullable: true }) days: number | null,
  ): number {
    return finiteOr(p.expected(Math.max(0, Math.min(days ?? 90, 3_650))));
  }

  @FieldResolver(() => Float, {
    description: 'Discounted value of the next `days` (BG/NBD × Gamma-Gamma, 1% a month)',
  })
  predictedClv(
    @Root() p: CustomerPredictions,
    @Arg('days', () => Int, { defaultValue: 365, nullable: true }) days: number | null,
  ): number {
    return finiteOr(p.clv(Math.max(0, Math.min(days ?? 365, 3_650))));
  }
}

@Resolver(() => Customer)
export class CustomerPredictionsFieldResolver {
  @FieldResolver(() => CustomerPredictions, {
    nullable: true,
    description: 'Null until a model has been fitted on enough order history',
  })
  async predictions(
    @Root() customer: Customer,
    @Ctx() ctx: AnalyticsContext,
  ): Promise<CustomerPredictions | null> {
    requireRole(ctx.viewer, 'analyst', "Reading a customer's predictions");
    const found = await ctx.loaders.predictions.load(customer.id);
    if (!found) return null;
    const p = predictionsFor(found.models, found.rfm);
    if (!Number.isFinite(p.probabilityAlive)) return null;
    return Object.assign(new CustomerPredictions(), {
      probabilityAlive: p.probabilityAlive,
      churnRisk: p.churnRisk,
      modelFittedAt: p.modelFittedAt,
      expected: p.expectedPurchases,
      clv: p.predictedClv,
    });
  }
}

/** A value the model cannot compute for this customer is an error on that field, not a 500. */
function finiteOr(value: number): number {
  if (Number.isFinite(value)) return value;
  throw new DomainError('the model cannot predict this for the customer', 'BAD_USER_INPUT', {
    path: 'days',
  });
}
