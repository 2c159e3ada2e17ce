/** Public surface of the analytics package (for the dev launcher and tests). */
export { analyticsSubgraph, startAnalytics } from './service.js';
export { analyticsEnv, loadAnalyticsConfig } from './config.js';
export { Touchpoint } from './journey/touchpoint.entity.js';
export { CampaignStatsRow } from './stats/stats.entity.js';
export { refitPredictions } from './predictions/prediction.service.js';
