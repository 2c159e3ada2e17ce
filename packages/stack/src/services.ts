/** Every subgraph of the platform, with the port and gateway variable it uses in a local run. */
import { analyticsSubgraph, loadAnalyticsConfig, startAnalytics } from '@marketing/analytics';
import { campaignsSubgraph, loadCampaignsConfig, startCampaigns } from '@marketing/campaigns';
import { ecommerceSubgraph, loadEcommerceConfig, startEcommerce } from '@marketing/ecommerce';
import { emailSubgraph, loadEmailConfig, startEmail } from '@marketing/email';
import type { RunningSubgraph, SubgraphDefinition } from '@marketing/platform';
import { loadSegmentsConfig, segmentsSubgraph, startSegments } from '@marketing/segments';

type Env = Record<string, string | undefined>;

export interface SubgraphEntry {
  name: 'campaigns' | 'segments' | 'email' | 'analytics' | 'ecommerce';
  definition: SubgraphDefinition<any>;
  /** Directory of the workspace, relative to the repository root. */
  dir: string;
  port: number;
  /** The gateway variable that carries this subgraph's URL. */
  gatewayUrlEnv: string;
  /** Starts the service in this process from environment variables, as its main.js does. */
  start: (env: Env) => Promise<RunningSubgraph>;
}

export const SUBGRAPHS: SubgraphEntry[] = [
  {
    name: 'campaigns',
    definition: campaignsSubgraph,
    dir: 'subgraphs/campaigns',
    port: 4001,
    gatewayUrlEnv: 'CAMPAIGNS_SUBGRAPH_URL',
    start: (env) => startCampaigns(loadCampaignsConfig(env)),
  },
  {
    name: 'segments',
    definition: segmentsSubgraph,
    dir: 'subgraphs/segments',
    port: 4002,
    gatewayUrlEnv: 'SEGMENTS_SUBGRAPH_URL',
    start: (env) => startSegments(loadSegmentsConfig(env)),
  },
  {
    name: 'email',
    definition: emailSubgraph,
    dir: 'subgraphs/email',
    port: 4003,
    gatewayUrlEnv: 'EMAIL_SUBGRAPH_URL',
    start: (env) => startEmail(loadEmailConfig(env)),
  },
  {
    name: 'analytics',
    definition: analyticsSubgraph,
    dir: 'subgraphs/analytics',
    port: 4004,
    gatewayUrlEnv: 'ANALYTICS_SUBGRAPH_URL',
    start: (env) => startAnalytics(loadAnalyticsConfig(env)),
  },
  {
    name: 'ecommerce',
    definition: ecommerceSubgraph,
    dir: 'reference/ecommerce',
    port: 4005,
    gatewayUrlEnv: 'REFERENCE_ECOMMERCE_URL',
    start: (env) => startEcommerce(loadEcommerceConfig(env)),
  },
];
