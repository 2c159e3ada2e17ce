/** The whole platform together (for tests and benchmarks). */
export { composeAll, type Composition } from './compose.js';
export { SUBGRAPHS, type SubgraphEntry } from './services.js';
export { startStack, type RunningStack, type SubgraphName } from './stack.js';
