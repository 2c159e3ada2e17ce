/** Starts forwarding to destinations: the consumer that fills the queue and the worker draining it. */
import type { ConsumerDeps } from '@marketing/platform';
import type { AnalyticsConfig } from '../config.js';
import { startDestinationConsumer } from './destination.consumer.js';
import { startDestinationWorker } from './destination.worker.js';

export type DestinationSettings = Pick<
  AnalyticsConfig,
  | 'DESTINATIONS_ALLOW_LOOPBACK'
  | 'DESTINATION_TIMEOUT_MS'
  | 'DESTINATION_MAX_ATTEMPTS'
  | 'DESTINATION_RETRY_BASE_MS'
  | 'DESTINATION_RETRY_MAX_MS'
  | 'DESTINATION_POLL_MS'
  | 'DESTINATION_RETENTION_DAYS'
>;

export async function startDestinations(deps: ConsumerDeps, settings: DestinationSettings) {
  const worker = startDestinationWorker({
    orm: deps.orm,
    logger: deps.logger,
    metrics: deps.metrics,
    policy: { allowLoopback: settings.DESTINATIONS_ALLOW_LOOPBACK },
    timeoutMs: settings.DESTINATION_TIMEOUT_MS,
    maxAttempts: settings.DESTINATION_MAX_ATTEMPTS,
    backoff: {
      baseMs: settings.DESTINATION_RETRY_BASE_MS,
      maxMs: settings.DESTINATION_RETRY_MAX_MS,
    },
    pollMs: settings.DESTINATION_POLL_MS,
    retentionMs: settings.DESTINATION_RETENTION_DAYS * 86_400_000,
  });
  try {
    const consumer = await startDestinationConsumer({ ...deps, onQueued: () => worker.wake() });
    return async () => {
      await consumer.stop();
      await worker.stop();
    };
  } catch (error) {
    await worker.stop();
    throw error;
  }
}
