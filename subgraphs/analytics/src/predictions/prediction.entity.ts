/** Fitted models and the customer summaries they predict from. */
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

@Entity({ tableName: 'prediction_model' })
export class PredictionModel {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'datetime' })
  fittedAt!: Date;

  /** The end of the order history the model saw; recency and age count to it, in days. */
  @Property({ type: 'datetime' })
  observationEnd!: Date;

  @Property({ type: 'jsonb' })
  bgNbd!: { r: number; alpha: number; a: number; b: number };

  @Property({ type: 'jsonb' })
  gammaGamma!: { p: number; q: number; v: number };

  @Property({ type: 'jsonb' })
  diagnostics: Record<string, unknown> = {};
}

@Entity({ tableName: 'customer_rfm' })
@Index({ properties: ['modelId'] })
export class CustomerRfm {
  @PrimaryKey({ type: 'text' })
  customerId!: string;

  @Property({ type: 'bigint' })
  modelId!: string;

  /** Repeat purchase days. */
  @Property({ type: 'integer' })
  frequency!: number;

  /** Days from the first purchase to the last. */
  @Property({ type: 'double' })
  recency!: number;

  /** Days from the first purchase to the observation end. */
  @Property({ type: 'double' })
  age!: number;

  /** Mean value of the repeat purchases. */
  @Property({ type: 'double' })
  monetaryValue!: number;
}
