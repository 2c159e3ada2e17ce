/** The only place the analytics subgraph reads its environment. */
import { ConfigError, loadConfig, subgraphEnv } from '@marketing/platform';
import { z } from 'zod';

export const analyticsEnv = subgraphEnv(4004).extend({
  /** An order counts as a conversion of the message clicked (else opened) this many days before. */
  ATTRIBUTION_WINDOW_DAYS: z.coerce.number().int().min(1).max(90).default(5),
  /** How often BG/NBD and Gamma-Gamma are refitted on the order history (default daily). */
  PREDICTION_REFIT_INTERVAL_MS: z.coerce.number().int().min(10_000).default(86_400_000),
  /** Destinations may use http:// and loopback addresses (tests, local development only). */
  DESTINATIONS_ALLOW_LOOPBACK: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Timeout of one request to a destination, connection to last byte. */
  DESTINATION_TIMEOUT_MS: z.coerce.number().int().min(10).max(120_000).default(10_000),
  /** Attempts before a delivery is dead-lettered (then `replay-destination` re-queues it). */
  DESTINATION_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(12),
  /** Backoff of the first retry; it doubles each attempt (with jitter) up to the maximum. */
  DESTINATION_RETRY_BASE_MS: z.coerce.number().int().min(1).default(5_000),
  DESTINATION_RETRY_MAX_MS: z.coerce.number().int().min(1).default(3_600_000),
  /** How often the delivery queue is polled for retries that came due. */
  DESTINATION_POLL_MS: z.coerce.number().int().min(5).default(1_000),
  /** Delivered rows are kept this long (the dead ones until replayed or deleted). */
  DESTINATION_RETENTION_DAYS: z.coerce.number().min(0.001).default(7),
});
export type AnalyticsConfig = z.infer<typeof analyticsEnv>;

export function loadAnalyticsConfig(env: NodeJS.ProcessEnv = process.env): AnalyticsConfig {
  const config = loadConfig(analyticsEnv, env);
  if (config.NODE_ENV === 'production' && config.DESTINATIONS_ALLOW_LOOPBACK)
    throw new ConfigError(['DESTINATIONS_ALLOW_LOOPBACK: must not be true in production']);
  return config;
}
