/** Request-scoped DataLoaders of the email subgraph, and the service's runtime. */
import { byKeyLoader, groupLoader } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { EmailDelivery } from './delivery/delivery.entity.js';
import type { DeliveryStatusChange } from './delivery/delivery.resolver.js';
import { preferencesLoader } from './preferences/preferences.loader.js';
import type { EmailRuntime } from './runtime.js';
import { EmailTemplate } from './template/template.entity.js';

export function createLoaders(em: EntityManager, runtime?: EmailRuntime) {
  return {
    /** Transport, tokens and links: present when the service runs (not in schema-only uses). */
    runtime: (): EmailRuntime => {
      if (!runtime) throw new Error('the email service runtime is not configured');
      return runtime;
    },
    template: byKeyLoader(em, EmailTemplate),
    preferences: preferencesLoader(em),
    deliveriesByCustomer: groupLoader(em, EmailDelivery, 'customerId', {
      orderBy: { queuedAt: 'desc' },
    }),
    historyByDelivery: new DataLoader<string, DeliveryStatusChange[]>(async (ids) => {
      const rows = await em
        .getConnection()
        .execute<{ delivery_id: string; status: string; detail: string | null; at: string }[]>(
          `select delivery_id, status, detail, at from email.email_delivery_event
           where delivery_id in (select jsonb_array_elements_text(?::jsonb)::uuid) order by at, id`,
          [JSON.stringify(ids)],
        );
      const byId = new Map<string, DeliveryStatusChange[]>(ids.map((id) => [id, []]));
      for (const r of rows) {
        byId.get(r.delivery_id)?.push({
          status: r.status as DeliveryStatusChange['status'],
          detail: r.detail,
          at: new Date(r.at),
        });
      }
      return ids.map((id) => byId.get(id) ?? []);
    }),
  };
}

export type EmailLoaders = ReturnType<typeof createLoaders>;
