/**
 * Customer predictions: a periodic refit of BG/NBD and Gamma-Gamma on the order history the
 * analytics service keeps (its `Order Completed` touchpoints), the per-customer summaries they
 * predict from, `prediction.updated` events for the segments service (`prediction` conditions),
 * and the values `Customer.predictions` computes on read for any horizon.
 */
import {
  PREDICTION_EVENTS_SUBJECT,
  queryWithParams,
  type Logger,
  type ServiceMetrics,
} from '@marketing/platform';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import {
  buildRfmSummaries,
  churnRisk,
  customerLifetimeValue,
  expectedPurchases,
  fitBgNbd,
  fitGammaGamma,
  PERIODS_PER_MONTH,
  probabilityAlive,
  type BgNbdParams,
  type GammaGammaParams,
} from './index.js';

/** A fit needs this many customers, and this many with repeat purchases for spend. */
const MIN_CUSTOMERS = 20;
const MIN_REPEAT_CUSTOMERS = 10;

export interface Models {
  modelId: string;
  fittedAt: Date;
  bgNbd: BgNbdParams;
  gammaGamma: GammaGammaParams;
}

export interface RfmRow {
  customer_id: string;
  frequency: number;
  recency: number;
  age: number;
  monetary_value: number;
}

/** A value the model cannot give for this customer (a series that does not converge) is NaN. */
function safe(compute: () => number): number {
  try {
    return compute();
  } catch {
    return Number.NaN;
  }
}

/** What `Customer.predictions` shows, for horizons in days. */
export function predictionsFor(models: Models, rfm: RfmRow) {
  const customer = {
    frequency: rfm.frequency,
    recency: rfm.recency,
    T: rfm.age,
    monetaryValue: rfm.monetary_value,
  };
  return {
    probabilityAlive: safe(() => probabilityAlive(models.bgNbd, customer)),
    churnRisk: safe(() => churnRisk(models.bgNbd, customer)),
    expectedPurchases: (days: number) =>
      safe(() => expectedPurchases(models.bgNbd, customer, days)),
    predictedClv: (days: number) =>
      safe(() =>
        customerLifetimeValue(models, customer, {
          periodsPerMonth: PERIODS_PER_MONTH.day,
          horizonMonths: days / PERIODS_PER_MONTH.day,
        }),
      ),
    modelFittedAt: models.fittedAt,
  };
}

/** Fits both models on the order history up to `asOf`; null when there is too little data. */
export async function refitPredictions(
  orm: MikroORM,
  logger: Logger,
  asOf = new Date(),
): Promise<{ modelId: string; customers: number } | null> {
  return orm.em.fork().transactional(async (em) => {
    const [locked] = await queryWithParams<{ ok: boolean }>(
      em,
      `select pg_try_advisory_xact_lock(hashtext('analytics:predictions')) as ok`,
      [],
    );
    if (!locked!.ok) return null;
    const orders = await queryWithParams<{ customer_id: string; at: string; amount: string }>(
      em,
      `select customer_id, at, coalesce(properties->>'total', properties->>'revenue', '0') as amount
       from analytics.touchpoint where type = 'Order Completed' and at <= $1`,
      [asOf.toISOString()],
    );
    const summaries = buildRfmSummaries(
      orders
        .map((o) => ({ customerId: o.customer_id, at: new Date(o.at), amount: Number(o.amount) }))
        .filter((o) => Number.isFinite(o.amount)),
      asOf,
    );
    const repeat = summaries.filter((s) => s.frequency > 0 && s.monetaryValue > 0);
    if (summaries.length < MIN_CUSTOMERS || repeat.length < MIN_REPEAT_CUSTOMERS) {
      logger.info(
        { customers: summaries.length, repeatCustomers: repeat.length },
        'predictions: not enough order history to fit yet',
      );
      return null;
    }
    const bgNbd = fitBgNbd(summaries);
    const gammaGamma = fitGammaGamma(repeat);
    const params = [...Object.values(bgNbd.params), ...Object.values(gammaGamma.params)];
    if (!bgNbd.converged || params.some((v) => !Number.isFinite(v) || v <= 1e-8 || v > 1e8)) {
      logger.warn(
        { bgNbd: bgNbd.params, gammaGamma: gammaGamma.params, converged: bgNbd.converged },
        'predictions: the fit is degenerate on this history; the previous model stays',
      );
      return null;
    }
    const [model] = await queryWithParams<{ id: string }>(
      em,
      `insert into analytics.prediction_model (fitted_at, observation_end, bg_nbd, gamma_gamma, diagnostics)
       values (now(), $1, $2, $3, $4) returning id`,
      [
        asOf.toISOString(),
        JSON.stringify(bgNbd.params),
        JSON.stringify(gammaGamma.params),
        JSON.stringify({
          customers: summaries.length,
          repeatCustomers: repeat.length,
          bgNbd: { logLikelihood: bgNbd.logLikelihood, converged: bgNbd.converged },
          gammaGamma: { logLikelihood: gammaGamma.logLikelihood, converged: gammaGamma.converged },
        }),
      ],
    );
    const models: Models = {
      modelId: model!.id,
      fittedAt: new Date(),
      bgNbd: bgNbd.params,
      gammaGamma: gammaGamma.params,
    };
    const rows = summaries.map((s) => ({
      customer_id: s.customerId,
      frequency: s.frequency,
      recency: s.recency,
      age: s.T,
      monetary_value: s.monetaryValue,
    }));
    await queryWithParams(em, `delete from analytics.customer_rfm`, []);
    await queryWithParams(
      em,
      `insert into analytics.customer_rfm (customer_id, model_id, frequency, recency, age, monetary_value)
       select customer_id, $2, frequency, recency, age, monetary_value
       from jsonb_to_recordset($1::jsonb) as r(customer_id text, frequency int, recency float8, age float8,
         monetary_value float8)`,
      [JSON.stringify(rows), model!.id],
    );
    await publishPredictions(em, models, rows);
    return { modelId: model!.id, customers: rows.length };
  });
}

/** One `prediction.updated` per customer, through the outbox, in the refit's transaction. */
async function publishPredictions(em: EntityManager, models: Models, rows: RfmRow[]) {
  const predictedAt = models.fittedAt.toISOString();
  const events = rows.map((rfm) => {
    const p = predictionsFor(models, rfm);
    return {
      message_id: `prediction:${models.modelId}:${rfm.customer_id}`,
      data: {
        type: 'prediction.updated',
        customerId: rfm.customer_id,
        probabilityAlive: finite(p.probabilityAlive),
        churnRisk: finite(p.churnRisk),
        expectedPurchases90d: finite(p.expectedPurchases(90)),
        predictedClv365d: finite(p.predictedClv(365)),
        predictedAt,
      },
    };
  });
  await queryWithParams(
    em,
    `insert into analytics.outbox (subject, message_id, data, created_at)
     select $2, message_id, data, now() from jsonb_to_recordset($1::jsonb) as r(message_id text, data jsonb)`,
    [JSON.stringify(events), PREDICTION_EVENTS_SUBJECT],
  );
}

function finite(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** Refits at start-up when there is no model, then every `intervalMs`. */
export function startPredictionRefits(options: {
  orm: MikroORM;
  logger: Logger;
  metrics?: ServiceMetrics;
  intervalMs: number;
}): () => Promise<void> {
  let stopping = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopping) {
      try {
        const [latest] = await queryWithParams<{ fitted_at: string }>(
          options.orm.em.fork(),
          `select fitted_at from analytics.prediction_model order by id desc limit 1`,
          [],
        );
        const due = !latest || Date.now() - Date.parse(latest.fitted_at) >= options.intervalMs;
        if (due) {
          const result = await refitPredictions(options.orm, options.logger);
          if (result) {
            options.metrics?.messages.inc({ stage: 'analytics.predictions', result: 'fitted' });
            options.logger.info(result, 'predictions refitted');
          }
        }
      } catch (error) {
        options.logger.error({ err: error }, 'predictions: refit failed, will retry');
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        // Unref: a stopped loop must not hold the process for the rest of the interval.
        setTimeout(resolve, Math.min(options.intervalMs, 60_000)).unref();
      });
    }
  })();
  return async () => {
    stopping = true;
    wake?.();
    await loop;
  };
}
