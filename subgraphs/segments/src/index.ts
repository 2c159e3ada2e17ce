/** Public surface of the segments package (for the dev launcher and tests). */
export { segmentsSubgraph, startSegments } from './service.js';
export { segmentsEnv, loadSegmentsConfig } from './config.js';
export { startProfileConsumer } from './profile/profile.consumer.js';
export { PROFILE_CONSUMER, ProfileProjection } from './profile/profile.projection.js';
