/** The Email Campaign Service as a startable subgraph. */
import {
  OutboxMessage,
  ProcessedMessage,
  startSubgraph,
  type SubgraphDefinition,
  type SubgraphDeps,
} from '@marketing/platform';
import type { EmailConfig } from './config.js';
import { EmailDelivery, EmailDeliveryEvent, EmailLink } from './delivery/delivery.entity.js';
import { startSendRequestConsumer } from './delivery/ledger.js';
import { createMessageBuilder } from './delivery/message-builder.js';
import { DeliverySender } from './delivery/sender.js';
import { startEmailErasure } from './erasure/erasure.consumer.js';
import { createLoaders, type EmailLoaders } from './loaders.js';
import { migrations } from './migrations/index.js';
import {
  EmailConsent,
  EmailConsentEvent,
  Suppression,
  TopicSubscription,
} from './preferences/preferences.entity.js';
import { startRecipientConsumer } from './recipient/recipient.consumer.js';
import { EmailRecipient } from './recipient/recipient.entity.js';
import { emailRoutes } from './routes.js';
import { createEmailRuntime, type EmailRuntime } from './runtime.js';
import { buildEmailSchema } from './schema.js';
import { EmailTemplate, EmailTemplateVersion } from './template/template.entity.js';

/** The service's schema, entities and migrations (what tools need without running it). */
export const emailSubgraph: SubgraphDefinition<EmailLoaders> = {
  name: 'email',
  database: {
    schema: 'email',
    entities: [
      EmailTemplate,
      EmailTemplateVersion,
      EmailRecipient,
      EmailConsent,
      EmailConsentEvent,
      TopicSubscription,
      Suppression,
      EmailDelivery,
      EmailDeliveryEvent,
      EmailLink,
      OutboxMessage,
      ProcessedMessage,
    ],
    migrations,
  },
  buildSchema: buildEmailSchema,
  createLoaders: (em) => createLoaders(em),
  bus: { outbox: true },
};

/** The consumers and the sender, sharing the runtime. */
export async function startEmailWorkers(deps: SubgraphDeps, runtime: EmailRuntime) {
  const { orm, bus, logger, metrics, backoffMs } = deps;
  const config = runtime.config;
  const sender = new DeliverySender({
    orm,
    transport: runtime.transport,
    build: createMessageBuilder(orm, runtime),
    logger,
    metrics,
    groupSize: config.EMAIL_SMTP_CONNECTIONS * 5,
    groupsInFlight: 4,
    maxAttempts: config.EMAIL_MAX_ATTEMPTS,
    backoffMs: config.EMAIL_RETRY_BACKOFF_MS.split(',').map(Number),
    ratePerSecond: config.EMAIL_RATE_PER_SECOND,
    domainRatePerSecond: config.EMAIL_DOMAIN_RATE_PER_SECOND,
  });
  const stops = [
    await startRecipientConsumer({ orm, bus: bus!, logger, metrics, backoffMs }),
    await startSendRequestConsumer({ orm, bus: bus!, logger, metrics, backoffMs }),
    await startEmailErasure({ orm, bus: bus!, logger, metrics, backoffMs }),
    sender.start(),
  ];
  return async () => {
    for (const stop of stops.reverse()) await stop();
    runtime.transport.close();
  };
}

export function startEmail(config: EmailConfig) {
  const runtime = createEmailRuntime(config);
  return startSubgraph(
    {
      ...emailSubgraph,
      createLoaders: (em) => createLoaders(em, runtime),
      startWorkers: (deps) => startEmailWorkers(deps, runtime),
      routes: emailRoutes(runtime),
    },
    config,
  );
}
