/** The per-request context of the campaigns subgraph. */
import type { SubgraphContext } from '@marketing/platform';
import type { CampaignsLoaders } from './loaders.js';

export type CampaignsContext = SubgraphContext<CampaignsLoaders>;
