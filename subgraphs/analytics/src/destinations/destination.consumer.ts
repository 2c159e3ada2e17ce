/**
 * Fills the destination queue from the marketing events analytics consumes: email lifecycle
 * (`marketing.email`), segment entries and exits (`marketing.segments`), predictions
 * (`marketing.predictions`), campaign enrolments (`enrollment.*` on `marketing.campaigns`) and
 * e-commerce track events (`ecommerce.events`, e.g. Order Completed).
 * Each becomes one normalised event; queuing is idempotent, so redeliveries change nothing.
 */
import {
  CAMPAIGN_EVENTS_SUBJECT,
  ECOMMERCE_EVENTS_SUBJECT,
  EMAIL_EVENTS_SUBJECT,
  emailEventSchema,
  enrollmentEventSchema,
  parseEvent,
  parseIngestedDelivery,
  PREDICTION_EVENTS_SUBJECT,
  predictionEventSchema,
  reportDeadLetter,
  SEGMENT_EVENTS_SUBJECT,
  segmentMembershipEventSchema,
  type ConsumerDeps,
  type Delivery,
} from '@marketing/platform';
import type { ForwardedEvent } from './destination.entity.js';
import { enqueueEvents } from './destination.queue.js';

export const DESTINATIONS_CONSUMER = 'analytics.destinations';

export const FORWARDED_SUBJECTS = [
  EMAIL_EVENTS_SUBJECT,
  SEGMENT_EVENTS_SUBJECT,
  PREDICTION_EVENTS_SUBJECT,
  CAMPAIGN_EVENTS_SUBJECT,
  ECOMMERCE_EVENTS_SUBJECT,
];

/** Customer-level campaign events; the subject's other messages (campaign.changed, ...) are not. */
export const ENROLLMENT_EVENT_TYPES: readonly string[] = enrollmentEventSchema.shape.type.options;

/** Drops null and undefined values (absent optional fields are not forwarded as nulls). */
function defined(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).filter(([, v]) => v !== undefined && v !== null),
  );
}

/** The event to forward, or null for messages destinations do not receive (identify, ...). */
export function forwardedEvent(delivery: Delivery<unknown>): ForwardedEvent | null {
  const id = `${delivery.subject}:${delivery.id}`;
  switch (delivery.subject) {
    case EMAIL_EVENTS_SUBJECT: {
      const { type, customerId, occurredAt, ...rest } = parseEvent(
        emailEventSchema,
        delivery.data,
        delivery.id,
      );
      return { id, type, customerId, occurredAt, properties: defined(rest) };
    }
    case SEGMENT_EVENTS_SUBJECT: {
      const { type, customerId, occurredAt, ...rest } = parseEvent(
        segmentMembershipEventSchema,
        delivery.data,
        delivery.id,
      );
      return { id, type, customerId, occurredAt, properties: defined(rest) };
    }
    case PREDICTION_EVENTS_SUBJECT: {
      const { type, customerId, predictedAt, ...rest } = parseEvent(
        predictionEventSchema,
        delivery.data,
        delivery.id,
      );
      return { id, type, customerId, occurredAt: predictedAt, properties: defined(rest) };
    }
    case CAMPAIGN_EVENTS_SUBJECT: {
      const kind = (delivery.data as { type?: unknown } | null)?.type;
      if (typeof kind !== 'string' || !ENROLLMENT_EVENT_TYPES.includes(kind)) return null;
      const { type, customerId, occurredAt, ...rest } = parseEvent(
        enrollmentEventSchema,
        delivery.data,
        delivery.id,
      );
      return { id, type, customerId, occurredAt, properties: defined(rest) };
    }
    case ECOMMERCE_EVENTS_SUBJECT: {
      if ((delivery.data as { type?: unknown } | null)?.type !== 'track') return null;
      const message = parseIngestedDelivery(delivery);
      if (message.type !== 'track') return null;
      return {
        id: `${delivery.subject}:${message.messageId}`,
        type: message.event,
        customerId: message.userId,
        occurredAt: message.timestamp,
        properties: message.properties ?? {},
      };
    }
    default:
      return null;
  }
}

export async function startDestinationConsumer(deps: ConsumerDeps & { onQueued: () => void }) {
  return deps.bus.consume<unknown>({
    name: DESTINATIONS_CONSUMER,
    subjects: FORWARDED_SUBJECTS,
    batchSize: 500,
    backoffMs: deps.backoffMs,
    onDeadLetter: reportDeadLetter(DESTINATIONS_CONSUMER, deps),
    handle: async (batch) => {
      const events = batch.map(forwardedEvent).filter((e): e is ForwardedEvent => e !== null);
      const queued = await enqueueEvents(deps.orm.em.fork(), events);
      if (queued > 0) deps.onQueued();
    },
  });
}
