/** Public surface of the reference e-commerce package (for the dev launcher and tests). */
export { ecommerceSubgraph, startEcommerce } from './service.js';
export { ecommerceEnv, loadEcommerceConfig } from './config.js';
export { generatePopulation, type Population } from './simulator/population.js';
export { toMessage } from './simulator/simulator.writer.js';
