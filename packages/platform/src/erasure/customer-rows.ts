/**
 * Erasing one customer's rows from a service's schema, found at run time: every table with a
 * `customer_id` column (so tables added later are covered without touching the erasure code),
 * deleted children first, and the customer's traces in the outbox and the processed-message ids.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  idTokenPatterns,
  mentionsSql,
  normaliseEmails,
  type MessageErasure,
} from '../bus/message-erasure.js';
import { queryWithParams, quoteIdent } from '../database.js';

/** Deletes the customer's rows of every `customer_id` table in `schema` but `except`; counts. */
export async function deleteCustomerRows(
  em: EntityManager,
  schema: string,
  customerId: string,
  except: string[] = [],
): Promise<Record<string, number>> {
  const tables = await queryWithParams<{ table_name: string }>(
    em,
    `select c.table_name from information_schema.columns c
     join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
     where c.table_schema = $1 and c.column_name = 'customer_id' and t.table_type = 'BASE TABLE'
       and not (c.table_name = any($2::text[]))`,
    [schema, except],
  );
  const edges = await queryWithParams<{ child: string; parent: string }>(
    em,
    `select cl.relname as child, pl.relname as parent from pg_constraint k
     join pg_class cl on cl.oid = k.conrelid join pg_class pl on pl.oid = k.confrelid
     join pg_namespace n on n.oid = cl.relnamespace
     where k.contype = 'f' and n.nspname = $1 and cl.relname <> pl.relname`,
    [schema],
  );
  const counts: Record<string, number> = {};
  for (const table of childrenFirst(
    tables.map((t) => t.table_name),
    edges,
  )) {
    const [row] = await queryWithParams<{ n: number }>(
      em,
      `with gone as (delete from ${quoteIdent(schema)}.${quoteIdent(table)} where customer_id = $1 returning 1)
       select count(*)::int as n from gone`,
      [customerId],
    );
    counts[table] = row?.n ?? 0;
  }
  return counts;
}

/** Tables ordered so that one referencing another (a foreign key) comes before it. */
function childrenFirst(tables: string[], edges: { child: string; parent: string }[]): string[] {
  const remaining = new Set(tables);
  const ordered: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining].filter(
      (t) => !edges.some((e) => e.parent === t && e.child !== t && remaining.has(e.child)),
    );
    // A cycle of foreign keys: take the rest as they are (cascades decide).
    const next = ready.length > 0 ? ready : [...remaining];
    for (const t of next.sort()) {
      remaining.delete(t);
      ordered.push(t);
    }
  }
  return ordered;
}

/**
 * Deletes the outbox rows that mention the person (never to be published) and the processed ids
 * that carry their id. Losing a processed id only matters if that message came again, and the
 * event log erases the person's messages too.
 */
export async function scrubMessageTables(
  em: EntityManager,
  schema: string,
  match: MessageErasure,
  tables: { outbox?: boolean; processed?: boolean } = { outbox: true, processed: true },
): Promise<Record<string, number>> {
  const s = quoteIdent(schema);
  const counts: Record<string, number> = {};
  const tokens = idTokenPatterns(match.ids);
  if (tables.outbox !== false) {
    const [row] = await queryWithParams<{ n: number }>(
      em,
      `with gone as (delete from ${s}.outbox o where ${mentionsSql(
        { messageId: 'o.message_id', data: 'o.data' },
        { ids: '$1::text[]', emails: '$2::text[]', tokens: '$3::text[]' },
      )} returning 1) select count(*)::int as n from gone`,
      [match.ids, normaliseEmails(match.emails), tokens],
    );
    counts.outbox = row?.n ?? 0;
  }
  if (tables.processed !== false) {
    const [row] = await queryWithParams<{ n: number }>(
      em,
      `with gone as (delete from ${s}.processed_message where message_id ~ any($1::text[]) returning 1)
       select count(*)::int as n from gone`,
      [tokens],
    );
    counts.processed_message = row?.n ?? 0;
  }
  return counts;
}
