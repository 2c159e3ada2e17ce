/** Every subgraph of the platform, with the port and gateway variable it uses in a local run. */
import { analyticsSubgraph } from '@marketing/analytics';
import { campaignsSubgraph } from '@marketing/campaigns';
import { ecommerceSubgraph } from '@marketing/ecommerce';
import { emailSubgraph } from '@marketing/email';
import type { SubgraphDefinition } from '@marketing/platform';
import { segmentsSubgraph } from '@marketing/segments';

export interface SubgraphEntry {
  name: 'campaigns' | 'segments' | 'email' | 'analytics' | 'ecommerce';
  definition: SubgraphDefinition<any>;
  /** Directory of the workspace, relative to the repository root. */
  dir: string;
  port: number;
  /** The gateway variable that carries this subgraph's URL. */
  gatewayUrlEnv: string;
}

export const SUBGRAPHS: SubgraphEntry[] = [
  {
    name: 'campaigns',
    definition: campaignsSubgraph,
    dir: 'subgraphs/campaigns',
    port: 4001,
    gatewayUrlEnv: 'CAMPAIGNS_SUBGRAPH_URL',
  },
  {
    name: 'segments',
    definition: segmentsSubgraph,
    dir: 'subgraphs/segments',
    port: 4002,
    gatewayUrlEnv: 'SEGMENTS_SUBGRAPH_URL',
  },
  {
    name: 'email',
    definition: emailSubgraph,
    dir: 'subgraphs/email',
    port: 4003,
    gatewayUrlEnv: 'EMAIL_SUBGRAPH_URL',
  },
  {
    name: 'analytics',
    definition: analyticsSubgraph,
    dir: 'subgraphs/analytics',
    port: 4004,
    gatewayUrlEnv: 'ANALYTICS_SUBGRAPH_URL',
  },
  {
    name: 'ecommerce',
    definition: ecommerceSubgraph,
    dir: 'reference/ecommerce',
    port: 4005,
    gatewayUrlEnv: 'REFERENCE_ECOMMERCE_URL',
  },
];
