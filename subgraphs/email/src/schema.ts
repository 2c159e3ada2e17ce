/** The email subgraph's federated schema. */
import { buildFederatedSchema } from '@marketing/platform';
import type { EmailContext } from './context.js';
import { Customer } from './customer/references.type.js';
import { EmailDeliveryResolver } from './delivery/delivery.resolver.js';
import { CustomerEmailResolver } from './preferences/customer.resolver.js';
import { EmailTemplateResolver } from './template/template.resolver.js';

export function buildEmailSchema() {
  return buildFederatedSchema({
    resolvers: [CustomerEmailResolver, EmailDeliveryResolver, EmailTemplateResolver],
    // Reachable only through _entities, which type-graphql does not see.
    orphanedTypes: [Customer],
    referenceResolvers: {
      Customer: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }) },
      EmailTemplate: {
        __resolveReference: (ref: { id: string }, ctx: EmailContext) =>
          ctx.loaders.template.load(ref.id),
      },
    },
  });
}
