/** Feeds the campaign aggregates and journeys from `marketing.email` and `ecommerce.events`. */
import {
  ECOMMERCE_EVENTS_SUBJECT,
  EMAIL_EVENTS_SUBJECT,
  emailEventSchema,
  parseEvent,
  queryWithParams,
  SEGMENT_EVENTS_SUBJECT,
  segmentMembershipEventSchema,
  type TrackMessage,
  type ConsumerDeps,
  reportDeadLetter,
  parseIngestedDelivery,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { STATS_CHANNEL } from './live-stats.js';
import {
  applyEmailEvents,
  applyOrders,
  EMAIL_STATS_CONSUMER,
  ORDER_STATS_CONSUMER,
  touchpoints,
} from './stats.projection.js';

/** Tells live subscribers (on every replica) which campaigns changed, when this commits. */
async function notifyChanged(em: EntityManager, campaignIds: string[]) {
  if (campaignIds.length === 0) return;
  await queryWithParams(em, `select pg_notify($1, $2)`, [STATS_CHANNEL, campaignIds.join(',')]);
}

export const JOURNEY_SEGMENTS_CONSUMER = 'analytics.journey-segments';

export async function startStatsConsumers(
  deps: ConsumerDeps & {
    attributionWindowDays: number;
  },
) {
  const email = await deps.bus.consume<unknown>({
    name: EMAIL_STATS_CONSUMER,
    subjects: [EMAIL_EVENTS_SUBJECT],
    batchSize: 1_000,
    backoffMs: deps.backoffMs,
    onDeadLetter: reportDeadLetter(EMAIL_STATS_CONSUMER, deps),
    handle: async (batch) => {
      const events = batch.map((d) => ({
        id: d.id,
        ...parseEvent(emailEventSchema, d.data, d.id),
      }));
      await deps.orm.em.fork().transactional(async (em) => {
        await notifyChanged(em, await applyEmailEvents(em, events, deps.attributionWindowDays));
      });
      deps.metrics?.messages.inc({ stage: EMAIL_STATS_CONSUMER, result: 'applied' }, events.length);
    },
  });
  const orders = await deps.bus.consume<unknown>({
    name: ORDER_STATS_CONSUMER,
    subjects: [ECOMMERCE_EVENTS_SUBJECT],
    batchSize: 1_000,
    backoffMs: deps.backoffMs,
    onDeadLetter: reportDeadLetter(ORDER_STATS_CONSUMER, deps),
    handle: async (batch) => {
      const tracks = batch
        .filter((d) => (d.data as { type?: unknown } | null)?.type === 'track')
        .map((d) => parseIngestedDelivery(d) as TrackMessage);
      if (tracks.length === 0) return;
      await deps.orm.em.fork().transactional(async (em) => {
        await notifyChanged(em, await applyOrders(em, tracks, deps.attributionWindowDays));
      });
    },
  });
  const segments = await deps.bus.consume<unknown>({
    name: JOURNEY_SEGMENTS_CONSUMER,
    subjects: [SEGMENT_EVENTS_SUBJECT],
    batchSize: 1_000,
    backoffMs: deps.backoffMs,
    onDeadLetter: reportDeadLetter(JOURNEY_SEGMENTS_CONSUMER, deps),
    handle: async (batch) => {
      const events = batch.map((d) => ({
        id: d.id,
        ...parseEvent(segmentMembershipEventSchema, d.data, d.id),
      }));
      // The journey shows segment entries and exits next to the customer's other touchpoints.
      await touchpoints(
        deps.orm.em.fork(),
        events.map((e) => ({
          id: e.id,
          type: e.type,
          customerId: e.customerId,
          occurredAt: e.occurredAt,
          properties: { segmentId: e.segmentId, segmentName: e.segmentName, reason: e.reason },
        })),
      );
    },
  });
  return async () => {
    await email.stop();
    await orders.stop();
    await segments.stop();
  };
}
