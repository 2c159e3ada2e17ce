/**
 * The Campaign Manager's part in a GDPR erasure: the customer's enrolments, segment-membership
 * mirror and every automation table with a `customer_id` (found at run time, so tables added
 * later are covered), the automation engine's queued jobs that name the customer or one of their
 * enrolments, and the customer's outbox and processed-message traces. Enrolments are deleted, not
 * exited: an exit event would put the customer id back on the bus.
 */
import {
  deleteCustomerRows,
  mentionsSql,
  queryWithParams,
  quoteIdent,
  scrubMessageTables,
  startErasureParticipant,
  type ConsumerDeps,
  type ErasureRequested,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';

/** pg-boss's schema (automation jobs). */
const JOBS_SCHEMA = 'campaigns_jobs';

export async function eraseCampaignsCustomer(
  em: EntityManager,
  request: ErasureRequested,
): Promise<Record<string, number>> {
  const enrollments = await queryWithParams<{ id: string }>(
    em,
    'select id::text as id from campaigns.campaign_enrollment where customer_id = $1',
    [request.customerId],
  );
  const ids = [request.customerId, ...enrollments.map((e) => e.id)];
  return {
    jobs: await deleteJobsOf(em, ids),
    ...(await deleteCustomerRows(em, 'campaigns', request.customerId)),
    ...(await scrubMessageTables(em, 'campaigns', { ids: [request.customerId], emails: [] })),
  };
}

/** Deletes job rows whose jsonb columns (data, output) mention any of `ids`. */
async function deleteJobsOf(em: EntityManager, ids: string[]): Promise<number> {
  const columns = await queryWithParams<{ table_name: string; column_name: string }>(
    em,
    `select c.table_name, c.column_name from information_schema.columns c
     join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
     where c.table_schema = $1 and c.data_type = 'jsonb' and t.table_type = 'BASE TABLE'
     order by 1, 2`,
    [JOBS_SCHEMA],
  );
  let deleted = 0;
  for (const { table_name, column_name } of columns) {
    const where = mentionsSql(
      { messageId: "''", data: quoteIdent(column_name) },
      { ids: '$1::text[]', emails: '$2::text[]', tokens: '$3::text[]' },
    );
    const [row] = await queryWithParams<{ n: number }>(
      em,
      `with gone as (delete from ${quoteIdent(JOBS_SCHEMA)}.${quoteIdent(table_name)} where ${where}
       returning 1) select count(*)::int as n from gone`,
      [ids, [], []],
    );
    deleted += row?.n ?? 0;
  }
  return deleted;
}

export function startCampaignsErasure(deps: ConsumerDeps): Promise<() => Promise<void>> {
  return startErasureParticipant(deps, {
    service: 'campaigns',
    schema: 'campaigns',
    erase: eraseCampaignsCustomer,
  });
}
