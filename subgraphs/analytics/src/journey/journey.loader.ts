/**
 * Loads the latest touchpoints of many customers in one SQL statement per distinct (first, before)
 * pair: a window function keeps the newest `first` rows of each customer.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import type { JourneyEvent } from './journey.types.js';

export interface JourneyKey {
  customerId: string;
  first: number;
  before: Date | null;
}

interface TouchpointRow {
  customer_id: string;
  at: Date;
  type: string;
  source: string;
  campaign_id: string | null;
  properties: Record<string, unknown>;
}

function journeySql(withBefore: boolean): string {
  return `
select customer_id, at, type, source, campaign_id, properties from (
  select t.*, row_number() over (partition by t.customer_id order by t.at desc, t.id desc) as rn
  from analytics.touchpoint t
  where t.customer_id in (select jsonb_array_elements_text(?::jsonb))${withBefore ? ' and t.at < ?::timestamptz' : ''}
) ranked where rn <= ? order by customer_id, at desc, id desc`;
}

export function journeyLoader(em: EntityManager) {
  return new DataLoader<JourneyKey, JourneyEvent[], string>(
    async (keys) => {
      const groups = new Map<string, JourneyKey[]>();
      for (const key of keys) {
        const group = `${key.first}|${key.before?.toISOString() ?? ''}`;
        groups.set(group, [...(groups.get(group) ?? []), key]);
      }
      const results = new Map<string, JourneyEvent[]>();
      for (const group of groups.values()) {
        const { first, before } = group[0];
        const rows = await em
          .getConnection()
          .execute<TouchpointRow[]>(journeySql(Boolean(before)), [
            JSON.stringify(group.map((k) => k.customerId)),
            ...(before ? [before.toISOString()] : []),
            first,
          ]);
        for (const row of rows) {
          const events =
            results.get(`${row.customer_id}|${first}|${before?.toISOString() ?? ''}`) ?? [];
          events.push({
            at: new Date(row.at),
            type: row.type,
            source: row.source,
            campaign: row.campaign_id ? { id: row.campaign_id } : null,
            properties: row.properties,
          });
          results.set(`${row.customer_id}|${first}|${before?.toISOString() ?? ''}`, events);
        }
      }
      return keys.map((k) => results.get(journeyCacheKey(k)) ?? []);
    },
    { cacheKeyFn: journeyCacheKey },
  );
}

function journeyCacheKey(key: JourneyKey): string {
  return `${key.customerId}|${key.first}|${key.before?.toISOString() ?? ''}`;
}
