/** Runs the Campaign Manager alone: `node subgraphs/campaigns/dist/main.js`. */
import 'reflect-metadata';
import { runService } from '@marketing/platform';
import { loadCampaignsConfig } from './config.js';
import { startCampaigns } from './service.js';

await runService('campaigns', () => startCampaigns(loadCampaignsConfig()));
