/**
 * Feeds the segments store from the other marketing services: email engagement (`marketing.email`)
 * and predictions (`marketing.predictions`). Each batch is one transaction: the message ids are
 * claimed, the rows written and the affected customers' segments re-evaluated together.
 */
import {
  claimMessages,
  EMAIL_EVENTS_SUBJECT,
  emailEventSchema,
  parseEvent,
  PREDICTION_EVENTS_SUBJECT,
  predictionEventSchema,
  queryWithParams,
  type ConsumerDeps,
  reportDeadLetter,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { type LiveMembership } from './membership.js';

export const ENGAGEMENT_CONSUMER = 'segments.email-engagement';
export const PREDICTION_CONSUMER = 'segments.predictions';

/** The email events a segment rule can count, by the action name stored. */
const ACTIONS: Record<string, string> = {
  'email.delivered': 'delivered',
  'email.opened': 'opened',
  'email.clicked': 'clicked',
  'email.bounced': 'bounced',
  'email.unsubscribed': 'unsubscribed',
};

export async function startSignalConsumers(
  deps: ConsumerDeps & {
    live: LiveMembership;
  },
) {
  const transaction = <T>(work: (em: EntityManager) => Promise<T>) =>
    deps.orm.em.fork().transactional(work);

  const engagement = await deps.bus.consume<unknown>({
    name: ENGAGEMENT_CONSUMER,
    subjects: [EMAIL_EVENTS_SUBJECT],
    batchSize: 500,
    backoffMs: deps.backoffMs,
    onDeadLetter: reportDeadLetter(ENGAGEMENT_CONSUMER, deps),
    handle: (batch) => {
      const events = batch.map((d) => ({
        id: d.id,
        ...parseEvent(emailEventSchema, d.data, d.id),
      }));
      return transaction(async (em) => {
        const fresh = await claimMessages(
          em,
          'segments',
          ENGAGEMENT_CONSUMER,
          events.map((e) => e.id),
        );
        const rows = events
          .filter((e) => fresh.has(e.id) && ACTIONS[e.type])
          .map((e) => ({
            message_id: e.id,
            customer_id: e.customerId,
            action: ACTIONS[e.type]!,
            campaign_id: e.campaignId ?? null,
            occurred_at: e.occurredAt,
          }));
        if (rows.length > 0) {
          await queryWithParams(
            em,
            `insert into segments.email_engagement (message_id, customer_id, action, campaign_id, occurred_at)
             select * from jsonb_to_recordset($1::jsonb) as r(message_id text, customer_id text,
               action text, campaign_id text, occurred_at timestamptz)
             on conflict (message_id) do nothing`,
            [JSON.stringify(rows)],
          );
          const customers = [...new Set(rows.map((r) => r.customer_id))].sort();
          await deps.live.apply(
            em,
            customers.map((customerId) => ({ customerId, email: true })),
          );
        }
        deps.metrics?.messages.inc({ stage: ENGAGEMENT_CONSUMER, result: 'applied' }, rows.length);
      });
    },
  });

  const predictions = await deps.bus.consume<unknown>({
    name: PREDICTION_CONSUMER,
    subjects: [PREDICTION_EVENTS_SUBJECT],
    batchSize: 1_000,
    backoffMs: deps.backoffMs,
    onDeadLetter: reportDeadLetter(PREDICTION_CONSUMER, deps),
    handle: (batch) => {
      const events = batch.map((d) => ({
        id: d.id,
        ...parseEvent(predictionEventSchema, d.data, d.id),
      }));
      return transaction(async (em) => {
        const fresh = await claimMessages(
          em,
          'segments',
          PREDICTION_CONSUMER,
          events.map((e) => e.id),
        );
        // The newest prediction per customer wins, whatever the arrival order.
        const latest = new Map<string, (typeof events)[number]>();
        for (const e of events.filter((x) => fresh.has(x.id))) {
          const current = latest.get(e.customerId);
          if (!current || Date.parse(e.predictedAt) > Date.parse(current.predictedAt)) {
            latest.set(e.customerId, e);
          }
        }
        if (latest.size === 0) return;
        const changed = await queryWithParams<{ customer_id: string }>(
          em,
          `insert into segments.customer_prediction (customer_id, probability_alive, churn_risk,
             expected_purchases90d, predicted_clv365d, predicted_at)
           select * from jsonb_to_recordset($1::jsonb) as r(customer_id text, probability_alive float8,
             churn_risk float8, expected_purchases90d float8, predicted_clv365d float8, predicted_at timestamptz)
           on conflict (customer_id) do update set probability_alive = excluded.probability_alive,
             churn_risk = excluded.churn_risk, expected_purchases90d = excluded.expected_purchases90d,
             predicted_clv365d = excluded.predicted_clv365d, predicted_at = excluded.predicted_at
           where excluded.predicted_at > customer_prediction.predicted_at
           returning customer_id`,
          [
            JSON.stringify(
              [...latest.values()].map((e) => ({
                customer_id: e.customerId,
                probability_alive: e.probabilityAlive,
                churn_risk: e.churnRisk,
                expected_purchases90d: e.expectedPurchases90d,
                predicted_clv365d: e.predictedClv365d,
                predicted_at: e.predictedAt,
              })),
            ),
          ],
        );
        await deps.live.apply(
          em,
          changed.map((r) => ({ customerId: r.customer_id, predictions: true })),
        );
        deps.metrics?.messages.inc(
          { stage: PREDICTION_CONSUMER, result: 'applied' },
          changed.length,
        );
      });
    },
  });

  return async () => {
    await engagement.stop();
    await predictions.stop();
  };
}
