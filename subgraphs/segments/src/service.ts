/** The Segmentation Service as a startable subgraph. */
import {
  OutboxMessage,
  ProcessedMessage,
  startSubgraph,
  type SubgraphDefinition,
  type SubgraphDeps,
  type SubgraphRuntimeConfig,
} from '@marketing/platform';
import { startErasureWorkers } from './erasure/erasure.consumer.js';
import {
  ErasureCompletion,
  ErasureKey,
  ErasureRequest,
  ErasureWork,
} from './erasure/erasure.entity.js';
import { createLoaders, type SegmentsLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import {
  CustomerEvent,
  CustomerOrder,
  CustomerOrderRefund,
} from './profile/customer-event.entity.js';
import { startProfileConsumer } from './profile/profile.consumer.js';
import { CustomerProfile } from './profile/profile.entity.js';
import { buildSegmentsSchema } from './schema.js';
import { LiveMembership } from './segment/membership.js';
import { Segment, SegmentMembership } from './segment/segment.entity.js';
import { startSegmentWorker } from './segment/segment.worker.js';
import { startSignalConsumers } from './segment/signals.consumer.js';
import { CustomerPrediction, EmailEngagement, TimeZoneName } from './segment/signals.entity.js';

export const segmentsSubgraph: SubgraphDefinition<SegmentsLoaders> = {
  name: 'segments',
  database: {
    schema: 'segments',
    entities: [
      CustomerProfile,
      CustomerEvent,
      CustomerOrder,
      CustomerOrderRefund,
      Segment,
      SegmentMembership,
      EmailEngagement,
      CustomerPrediction,
      TimeZoneName,
      ErasureRequest,
      ErasureCompletion,
      ErasureWork,
      ErasureKey,
      OutboxMessage,
      ProcessedMessage,
    ],
    migrations,
  },
  buildSchema: buildSegmentsSchema,
  createLoaders,
  bus: { outbox: true },
  startWorkers: (deps) => startSegmentsWorkers(deps, {}),
};

export interface SegmentsWorkerOptions {
  /** How often time-dependent segments are re-evaluated in full (default 5 minutes). */
  sweepIntervalMs?: number;
}

/** The projection, the signal consumers and the evaluation worker, sharing one live evaluator. */
export async function startSegmentsWorkers(
  { orm, bus, logger, metrics, backoffMs }: SubgraphDeps,
  options: SegmentsWorkerOptions,
) {
  const live = new LiveMembership();
  const stops = [
    await startProfileConsumer({ orm, bus: bus!, logger, metrics, backoffMs, live }),
    await startSignalConsumers({ orm, bus: bus!, logger, metrics, backoffMs, live }),
    await startErasureWorkers({ orm, bus: bus!, logger, metrics, backoffMs }),
    startSegmentWorker({
      orm,
      logger,
      metrics,
      sweepIntervalMs: options.sweepIntervalMs ?? 300_000,
    }),
  ];
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}

export function startSegments(
  config: SubgraphRuntimeConfig & { SEGMENT_SWEEP_INTERVAL_MS?: number },
) {
  return startSubgraph(
    {
      ...segmentsSubgraph,
      startWorkers: (deps) =>
        startSegmentsWorkers(deps, { sweepIntervalMs: config.SEGMENT_SWEEP_INTERVAL_MS }),
    },
    config,
  );
}
