/** The Segmentation Service as a startable subgraph. */
import {
  startSubgraph,
  type SubgraphDefinition,
  type SubgraphRuntimeConfig,
} from '@marketing/platform';
import { createLoaders, type SegmentsLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { CustomerProfile } from './profile/profile.entity.js';
import { buildSegmentsSchema } from './schema.js';
import { Segment, SegmentMembership } from './segment/segment.entity.js';

export const segmentsSubgraph: SubgraphDefinition<SegmentsLoaders> = {
  name: 'segments',
  database: {
    schema: 'segments',
    entities: [CustomerProfile, Segment, SegmentMembership],
    migrations,
  },
  buildSchema: buildSegmentsSchema,
  createLoaders,
};

export function startSegments(config: SubgraphRuntimeConfig) {
  return startSubgraph(segmentsSubgraph, config);
}
