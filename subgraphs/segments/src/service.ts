/** The Segmentation Service as a startable subgraph. */
import {
  OutboxMessage,
  ProcessedMessage,
  startSubgraph,
  type SubgraphDefinition,
  type SubgraphRuntimeConfig,
} from '@marketing/platform';
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
import { Segment, SegmentMembership } from './segment/segment.entity.js';

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
      OutboxMessage,
      ProcessedMessage,
    ],
    migrations,
  },
  buildSchema: buildSegmentsSchema,
  createLoaders,
  bus: { outbox: true },
  startWorkers: ({ orm, bus, logger, metrics, backoffMs }) =>
    startProfileConsumer({ orm, bus: bus!, logger, metrics, backoffMs }),
};

export function startSegments(config: SubgraphRuntimeConfig) {
  return startSubgraph(segmentsSubgraph, config);
}
