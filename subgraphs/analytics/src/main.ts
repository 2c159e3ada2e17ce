/** Runs the Analytics Service alone: `node subgraphs/analytics/dist/main.js`. */
import 'reflect-metadata';
import { runService } from '@marketing/platform';
import { loadAnalyticsConfig } from './config.js';
import { startAnalytics } from './service.js';

await runService('analytics', () => startAnalytics(loadAnalyticsConfig()));
