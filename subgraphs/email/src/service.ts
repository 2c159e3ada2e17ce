/** The Email Campaign Service as a startable subgraph. */
import {
  startSubgraph,
  type SubgraphDefinition,
  type SubgraphRuntimeConfig,
} from '@marketing/platform';
import { EmailDelivery, EmailDeliveryEvent } from './delivery/delivery.entity.js';
import { createLoaders, type EmailLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import { EmailConsent, Suppression, TopicSubscription } from './preferences/preferences.entity.js';
import { buildEmailSchema } from './schema.js';
import { EmailTemplate } from './template/template.entity.js';

export const emailSubgraph: SubgraphDefinition<EmailLoaders> = {
  name: 'email',
  database: {
    schema: 'email',
    entities: [
      EmailTemplate,
      EmailConsent,
      TopicSubscription,
      Suppression,
      EmailDelivery,
      EmailDeliveryEvent,
    ],
    migrations,
  },
  buildSchema: buildEmailSchema,
  createLoaders,
};

export function startEmail(config: SubgraphRuntimeConfig) {
  return startSubgraph(emailSubgraph, config);
}
