/** Public surface of the email package (for the dev launcher and tests). */
export { emailSubgraph, startEmail } from './service.js';
export { emailEnv, loadEmailConfig } from './config.js';
export {
  EmailConsent,
  Suppression,
  SuppressionReason,
  TopicSubscription,
} from './preferences/preferences.entity.js';
export { EmailDelivery, DeliveryStatus } from './delivery/delivery.entity.js';
export { EmailTemplate } from './template/template.entity.js';
