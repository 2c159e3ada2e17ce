/** The per-request context of the segments subgraph. */
import type { SubgraphContext } from '@marketing/platform';
import type { SegmentsLoaders } from './loaders.js';

export type SegmentsContext = SubgraphContext<SegmentsLoaders>;
