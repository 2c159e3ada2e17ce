/** The per-request context of the analytics subgraph. */
import type { SubgraphContext } from '@marketing/platform';
import type { AnalyticsLoaders } from './loaders.js';

export type AnalyticsContext = SubgraphContext<AnalyticsLoaders>;
