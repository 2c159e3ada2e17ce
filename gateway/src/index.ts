/** Public surface of the gateway package (for the dev launcher and tests). */
export { gatewayEnv, loadGatewayConfig, subgraphUrls, type GatewayConfig } from './config.js';
export { startGateway, type RunningGateway } from './server.js';
export { composeSupergraph, loadSupergraph, MARKETING_SUBGRAPHS } from './supergraph.js';
