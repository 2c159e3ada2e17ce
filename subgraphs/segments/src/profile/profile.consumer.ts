/**
 * Feeds the profile projection from `ecommerce.events`, whichever transport carries it. Messages are
 * validated again here: other systems publish to the stream too, and a malformed one must end in
 * the dead letters with its reason, not in the profile.
 */
import {
  ECOMMERCE_EVENTS_SUBJECT,
  parseIngestedDelivery,
  reportDeadLetter,
  type ConsumerDeps,
} from '@marketing/platform';
import type { LiveMembership } from '../segment/membership.js';
import { PROFILE_CONSUMER, ProfileProjection } from './profile.projection.js';

export async function startProfileConsumer(
  deps: ConsumerDeps & {
    /** Re-evaluates the segments a batch can affect, in the batch's transaction. */
    live?: LiveMembership;
  },
) {
  const projection = new ProfileProjection(deps.orm.em, deps.live);
  const consumer = await deps.bus.consume<unknown>({
    name: PROFILE_CONSUMER,
    subjects: [ECOMMERCE_EVENTS_SUBJECT],
    batchSize: 1_000,
    backoffMs: deps.backoffMs,
    handle: async (batch) => {
      const result = await projection.apply(batch.map(parseIngestedDelivery));
      deps.metrics?.messages.inc({ stage: PROFILE_CONSUMER, result: 'applied' }, result.applied);
      deps.metrics?.messages.inc(
        { stage: PROFILE_CONSUMER, result: 'duplicate' },
        result.duplicates,
      );
    },
    onDeadLetter: reportDeadLetter(PROFILE_CONSUMER, deps),
  });
  return () => consumer.stop();
}
