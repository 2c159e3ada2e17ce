/** Feeds the campaign aggregates and journeys from `marketing.email` and `ecommerce.events`. */
import {
  ECOMMERCE_EVENTS_SUBJECT,
  EMAIL_EVENTS_SUBJECT,
  emailEventSchema,
  parseEvent,
  parseSegmentMessage,
  queryWithParams,
  SEGMENT_EVENTS_SUBJECT,
  segmentMembershipEventSchema,
  type EventBus,
  type Logger,
  type ServiceMetrics,
  type TrackMessage,
} from '@marketing/platform';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
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

export async function startStatsConsumers(deps: {
  orm: MikroORM;
  bus: EventBus;
  logger: Logger;
  metrics?: ServiceMetrics;
  backoffMs?: number[];
  attributionWindowDays: number;
}) {
  const deadLetter = (name: string) => (letter: { id: string; reason: string }) => {
    deps.metrics?.messages.inc({ stage: name, result: 'dead_letter' });
    deps.logger.error({ messageId: letter.id, reason: letter.reason }, `${name}: dead letter`);
  };
  const email = await deps.bus.consume<unknown>({
    name: EMAIL_STATS_CONSUMER,
    subjects: [EMAIL_EVENTS_SUBJECT],
    batchSize: 1_000,
    backoffMs: deps.backoffMs,
    onDeadLetter: deadLetter(EMAIL_STATS_CONSUMER),
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
    onDeadLetter: deadLetter(ORDER_STATS_CONSUMER),
    handle: async (batch) => {
      const tracks: TrackMessage[] = [];
      for (const d of batch) {
        const data = d.data as Record<string, unknown> | null;
        if (!data || data.type !== 'track') continue;
        const parsed = parseSegmentMessage(data.messageId ? data : { ...data, messageId: d.id }, {
          checkSize: false,
        });
        if (!parsed.ok) {
          throw new Error(
            `invalid message ${d.id}: ${parsed.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`,
          );
        }
        tracks.push(parsed.message as TrackMessage);
      }
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
    onDeadLetter: deadLetter(JOURNEY_SEGMENTS_CONSUMER),
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
