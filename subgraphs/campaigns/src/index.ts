/** Public surface of the campaigns package (for the dev launcher and tests). */
export { campaignsSubgraph, startCampaigns } from './service.js';
export { campaignsEnv, loadCampaignsConfig } from './config.js';
export {
  Campaign,
  CampaignKind,
  CampaignStatus,
  CampaignVariant,
} from './campaign/campaign.entity.js';
export { CampaignEnrollment } from './enrollment/enrollment.entity.js';
