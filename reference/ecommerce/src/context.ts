/** The per-request context of the e-commerce subgraph. */
import type { SubgraphContext } from '@marketing/platform';
import type { EcommerceLoaders } from './loaders.js';

export type EcommerceContext = SubgraphContext<EcommerceLoaders>;
