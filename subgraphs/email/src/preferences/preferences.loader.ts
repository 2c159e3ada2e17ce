/**
 * Loads the email preferences of many customers in one SQL statement (consent, topics and the
 * earliest suppression). A customer without a consent record has not consented.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import type { SuppressionReason } from './preferences.entity.js';
import type { EmailPreferences } from './preferences.types.js';

interface PreferencesRow {
  customer_id: string;
  subscribed: boolean | null;
  consent_updated_at: Date | null;
  topics: { topic: string; subscribed: boolean }[];
  suppression_reason: SuppressionReason | null;
}

const PREFERENCES_SQL = `
select c.id as customer_id, consent.subscribed, consent.consent_updated_at,
  coalesce((select json_agg(json_build_object('topic', t.topic, 'subscribed', t.subscribed) order by t.topic)
            from email.topic_subscription t where t.customer_id = c.id), '[]'::json) as topics,
  (select s.reason from email.suppression s where s.customer_id = c.id order by s.created_at limit 1)
    as suppression_reason
from jsonb_array_elements_text(?::jsonb) as c(id)
left join email.email_consent consent on consent.customer_id = c.id`;

export function preferencesLoader(em: EntityManager) {
  return new DataLoader<string, EmailPreferences>(async (customerIds) => {
    const rows = await em
      .getConnection()
      .execute<PreferencesRow[]>(PREFERENCES_SQL, [JSON.stringify(customerIds)]);
    const byId = new Map(rows.map((r) => [r.customer_id, r]));
    return customerIds.map((id) => {
      const row = byId.get(id);
      return {
        subscribed: row?.subscribed ?? false,
        topics: row?.topics ?? [],
        suppressed: Boolean(row?.suppression_reason),
        suppressionReason: row?.suppression_reason ?? null,
        consentUpdatedAt: row?.consent_updated_at ? new Date(row.consent_updated_at) : null,
      };
    });
  });
}
