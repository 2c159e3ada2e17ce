/** Request-scoped DataLoaders of the email subgraph. */
import { byKeyLoader, groupLoader } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { EmailDelivery } from './delivery/delivery.entity.js';
import { preferencesLoader } from './preferences/preferences.loader.js';
import { EmailTemplate } from './template/template.entity.js';

export function createLoaders(em: EntityManager) {
  return {
    template: byKeyLoader(em, EmailTemplate),
    preferences: preferencesLoader(em),
    deliveriesByCustomer: groupLoader(em, EmailDelivery, 'customerId', {
      orderBy: { queuedAt: 'desc' },
    }),
  };
}

export type EmailLoaders = ReturnType<typeof createLoaders>;
