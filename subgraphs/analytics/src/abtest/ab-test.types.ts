/** A/B test results as clients read them (contract: AbTestResult, AbVariantResult). */
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';

/** The same enum as the campaigns subgraph's (composition requires identical values). */
export enum AbMetric {
  OPEN = 'OPEN',
  CLICK = 'CLICK',
  CONVERSION = 'CONVERSION',
  REVENUE = 'REVENUE',
}
registerEnumType(AbMetric, { name: 'AbMetric' });

@ObjectType('AbVariantResult')
export class AbVariantResult {
  @Field(() => ID) variantId!: string;

  @Field(() => Int, {
    description: 'Deliveries that reached the inbox (delivered, opened or clicked)',
  })
  exposures!: number;

  @Field(() => Int, {
    description: 'Opened, clicked or converted deliveries; for REVENUE the recipients who bought',
  })
  successes!: number;

  @Field(() => Float, {
    description: 'successes / exposures; for REVENUE the revenue per exposed recipient',
  })
  rate!: number;

  @Field(() => Float, {
    description:
      'Bayesian, Beta(1,1) prior (REVENUE: normal approximation of the mean); 0.5 for the control',
  })
  probabilityToBeatControl!: number;

  @Field(() => Float, {
    description: 'Expected shortfall of choosing this variant, in rate units (REVENUE: currency)',
  })
  expectedLoss!: number;

  @Field(() => Float, {
    nullable: true,
    description:
      'Two-sided, against the control: two-proportion z-test (REVENUE: Welch t-test); null for the control',
  })
  pValue!: number | null;

  @Field(() => Float, { nullable: true, description: '(rate - control rate) / control rate' })
  liftOverControl!: number | null;
}

@ObjectType('AbTestResult')
export class AbTestResult {
  @Field(() => AbMetric) metric!: AbMetric;

  @Field(() => Float, { description: 'The confidence the test decides at, e.g. 0.95' })
  confidence!: number;

  @Field(() => Boolean, {
    description: 'A variant wins at the confidence, or the test was decided for the campaign',
  })
  decided!: boolean;

  @Field(() => ID, {
    nullable: true,
    description: 'The winner (the control when it beats every variant); null if none won',
  })
  winnerVariantId!: string | null;

  @Field(() => String, { description: 'Why the test is, or is not, decided' })
  reason!: string;

  @Field(() => Date, { nullable: true, description: 'When the decision was taken, if it was' })
  decidedAt!: Date | null;

  @Field(() => [AbVariantResult], { description: 'In the campaign order: the control first' })
  variants!: AbVariantResult[];
}
