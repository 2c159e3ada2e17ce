/**
 * Feeds the profile projection from `ecommerce.events`, whichever transport carries it. Messages are
 * validated again here: other systems publish to the stream too, and a malformed one must end in
 * the dead letters with its reason, not in the profile.
 */
import {
  ECOMMERCE_EVENTS_SUBJECT,
  parseSegmentMessage,
  type Delivery,
  type EventBus,
  type IngestedMessage,
  type Logger,
  type ServiceMetrics,
} from '@marketing/platform';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { LiveMembership } from '../segment/membership.js';
import { PROFILE_CONSUMER, ProfileProjection } from './profile.projection.js';

export function toIngestedMessage(delivery: Delivery<unknown>): IngestedMessage {
  const data = delivery.data as Record<string, unknown> | null;
  const withId =
    data && typeof data === 'object' && !data.messageId
      ? { ...data, messageId: delivery.id }
      : data;
  const parsed = parseSegmentMessage(withId, { checkSize: false });
  if (!parsed.ok) {
    throw new Error(
      `invalid message ${delivery.id}: ${parsed.errors.map((e) => `${e.path || '(message)'} ${e.message}`).join('; ')}`,
    );
  }
  return parsed.message;
}

export async function startProfileConsumer(deps: {
  orm: MikroORM;
  bus: EventBus;
  logger: Logger;
  metrics?: ServiceMetrics;
  backoffMs?: number[];
  /** Re-evaluates the segments a batch can affect, in the batch's transaction. */
  live?: LiveMembership;
}) {
  const projection = new ProfileProjection(deps.orm.em, deps.live);
  const consumer = await deps.bus.consume<unknown>({
    name: PROFILE_CONSUMER,
    subjects: [ECOMMERCE_EVENTS_SUBJECT],
    batchSize: 1_000,
    backoffMs: deps.backoffMs,
    handle: async (batch) => {
      const result = await projection.apply(batch.map(toIngestedMessage));
      deps.metrics?.messages.inc({ stage: PROFILE_CONSUMER, result: 'applied' }, result.applied);
      deps.metrics?.messages.inc(
        { stage: PROFILE_CONSUMER, result: 'duplicate' },
        result.duplicates,
      );
    },
    onDeadLetter: (letter) => {
      deps.metrics?.messages.inc({ stage: PROFILE_CONSUMER, result: 'dead_letter' });
      deps.logger.error(
        { messageId: letter.id, reason: letter.reason },
        'profile projection: message dead-lettered',
      );
    },
  });
  return () => consumer.stop();
}
