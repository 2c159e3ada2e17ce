/**
 * What every service's consumers share: the dependencies they are started with, the dead-letter
 * report (metric + log line), and reading a Segment message (identify/track) off the stream.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import { parseSegmentMessage, type IngestedMessage } from '../ingestion/segment-message.js';
import type { Logger } from '../logger.js';
import type { ServiceMetrics } from '../metrics.js';
import type { DeadLetter, Delivery, EventBus } from './event-bus.js';

export interface ConsumerDeps {
  orm: MikroORM;
  bus: EventBus;
  logger: Logger;
  metrics?: ServiceMetrics;
  /** Redelivery backoff (BUS_BACKOFF_MS). */
  backoffMs?: number[];
}

/** Counts and logs a dead-lettered message of `consumer`, with its reason. */
export function reportDeadLetter(
  consumer: string,
  deps: Pick<ConsumerDeps, 'logger' | 'metrics'>,
): (letter: DeadLetter) => void {
  return (letter) => {
    deps.metrics?.messages.inc({ stage: consumer, result: 'dead_letter' });
    deps.logger.error(
      { messageId: letter.id, reason: letter.reason },
      `${consumer}: message dead-lettered`,
    );
  };
}

/**
 * An identify or track message from `ecommerce.events`, validated again: other systems publish
 * there too, and a malformed one must end in the dead letters with its reason. A message without
 * its own messageId takes the bus id.
 */
export function parseIngestedDelivery(delivery: Delivery<unknown>): IngestedMessage {
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
