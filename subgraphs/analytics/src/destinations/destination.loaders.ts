/** Request-scoped DataLoaders of destinations. */
import { queryWithParams } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { DeliveryState } from './destination.entity.js';

export function destinationLoaders(em: EntityManager) {
  return {
    /** Dead-lettered deliveries per destination id. */
    destinationDeadLetters: new DataLoader<string, number>(async (ids) => {
      const rows = await queryWithParams<{ destination_id: string; n: number }>(
        em,
        `select destination_id, count(*)::int as n from analytics.destination_delivery
         where destination_id = any($1::uuid[]) and state = $2 group by destination_id`,
        [ids, DeliveryState.DEAD],
      );
      const counts = new Map(rows.map((r) => [r.destination_id, r.n]));
      return ids.map((id) => counts.get(id) ?? 0);
    }),
  };
}
