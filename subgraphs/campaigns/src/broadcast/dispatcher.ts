/**
 * Runs broadcasts. The audience snapshot (ACTIVE enrolments) is the durable checkpoint: each tick
 * claims a slice (`for update skip locked`, so replicas share the work), turns it into send
 * requests for the email service through the outbox and marks it done, in one transaction. A crash
 * loses nothing and repeats nothing: the send request's dedupe key is (campaign, customer), and the
 * email ledger keeps it unique. A paused campaign is skipped until resumed; a broadcast with no
 * ACTIVE enrolment left is COMPLETED. Scheduled campaigns are launched when due.
 */
import {
  DomainError,
  queryWithParams,
  SEND_REQUESTS_SUBJECT,
  type Logger,
  type ServiceMetrics,
} from '@marketing/platform';
import type { MikroORM } from '@mikro-orm/postgresql';
import { changeIn, launchIn } from '../campaign/campaign.service.js';
import { advanceAbTests } from './ab-test.js';

export const DISPATCH_STAGE = 'campaigns.dispatch';
export const SYSTEM = { sub: 'system:campaigns', roles: ['admin' as const] };

export interface DispatcherOptions {
  orm: MikroORM;
  logger: Logger;
  metrics?: ServiceMetrics;
  /** Send requests per second over all broadcasts, per replica (the throttle). */
  ratePerSecond: number;
  tickMs?: number;
  /** The global frequency cap: a capped recipient's broadcast enrolment exits unsent. */
  frequencyCap?: { count: number; windowMs: number } | null;
}

/** One tick: due launches, then one slice of every running broadcast; returns requests made. */
export async function dispatchOnce(options: DispatcherOptions): Promise<number> {
  const { orm } = options;
  // A local-time broadcast starts in the earliest timezone (UTC+14), 14 hours before `at` in UTC.
  const due = await queryWithParams<{ id: string }>(
    orm.em.fork(),
    `select id from campaigns.campaign where status = 'SCHEDULED'
       and scheduled_at - case when scheduled_local then interval '14 hours' else interval '0' end <= now()`,
    [],
  );
  for (const { id } of due) {
    await orm.em
      .fork()
      .transactional((em) => launchIn(em, id, SYSTEM))
      .catch(async (error: unknown) => {
        options.logger.warn({ err: error, campaignId: id }, 'scheduled launch failed');
        // A launch the campaign itself prevents (an empty audience) goes back to DRAFT with the
        // reason in the audit trail, instead of being retried on every tick.
        if (error instanceof DomainError)
          await orm.em
            .fork()
            .transactional((em) =>
              changeIn(em, id, 'unschedule', SYSTEM, { reason: error.message }),
            );
      });
  }
  const limit = Math.max(1, Math.round((options.ratePerSecond * (options.tickMs ?? 250)) / 1_000));
  const cap = options.frequencyCap ?? null;
  const sent = await orm.em.fork().transactional(async (em) => {
    const [row] = await queryWithParams<{ n: number }>(
      em,
      `with running as (
         select c.id, count(*) over () as n from campaigns.campaign c
         where c.status = 'RUNNING' and c.kind = 'BROADCAST'
       ),
       -- Per running broadcast, its share of the tick's limit, read off the queue index in order
       -- (a claim over all broadcasts at once had to sort every queued row on each tick).
       claimed as (
         select q.id, q.customer_id from running c
         cross join lateral (
           select e.id, e.customer_id from campaigns.campaign_enrollment e
           where e.campaign_id = c.id and e.entry_key = 'broadcast' and e.status = 'ACTIVE'
             and (e.wake_at is null or e.wake_at <= now())
           order by e.entered_at, e.id
           limit greatest(1, ceil($1::float8 / c.n)::int)
           for update of e skip locked
         ) q
       ),
       capped as (
         select claimed.id from claimed
         where $3::int is not null
           and (select count(*) from campaigns.automation_send_log l
                where l.customer_id = claimed.customer_id
                  and l.sent_at > now() - make_interval(secs => $4::float8 / 1000)) >= $3::int
       ),
       skipped as (
         update campaigns.campaign_enrollment e
         set status = 'EXITED', exit_reason = 'frequency cap', exited_at = now()
         from capped where e.id = capped.id
         returning 1
       ),
       done as (
         update campaigns.campaign_enrollment e
         set status = 'COMPLETED', current_step = 'send requested', exited_at = now()
         from claimed where e.id = claimed.id and claimed.id not in (select id from capped)
         returning e.campaign_id, e.customer_id, e.variant_id
       ),
       logged as (
         insert into campaigns.automation_send_log (dedupe_key, customer_id, campaign_id, sent_at)
         select 'campaign:' || d.campaign_id || ':' || d.customer_id, d.customer_id, d.campaign_id, now()
         from done d
         on conflict do nothing
         returning 1
       ),
       requests as (
         insert into campaigns.outbox (subject, message_id, data, created_at)
         select $2, 'send:' || d.campaign_id || ':' || d.customer_id,
           jsonb_build_object('type', 'email.send.requested',
             'dedupeKey', 'campaign:' || d.campaign_id || ':' || d.customer_id,
             'customerId', d.customer_id, 'templateId', v.template_id,
             'templateVersion', v.template_version, 'campaignId', d.campaign_id,
             'variantId', d.variant_id, 'topic', c.topic,
             'requestedAt', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
           now()
         from done d
         join campaigns.campaign c on c.id = d.campaign_id
         join campaigns.campaign_variant v on v.id = d.variant_id
         returning 1
       )
       select count(*)::int as n from requests`,
      [limit, SEND_REQUESTS_SUBJECT, cap?.count ?? null, cap?.windowMs ?? 0],
    );
    await advanceAbTests(em, SYSTEM);
    // Broadcasts with nothing left to request (none queued, none held for an A/B decision) are complete.
    const finished = await queryWithParams<{ id: string }>(
      em,
      `select c.id from campaigns.campaign c
       where c.status = 'RUNNING' and c.kind = 'BROADCAST'
         and not exists (select 1 from campaigns.campaign_enrollment e
                         where e.campaign_id = c.id and e.entry_key = 'broadcast'
                           and e.status in ('ACTIVE', 'HELD'))
       for update skip locked`,
      [],
    );
    for (const { id } of finished) await changeIn(em, id, 'complete', SYSTEM);
    return row!.n;
  });
  if (sent > 0) options.metrics?.messages.inc({ stage: DISPATCH_STAGE, result: 'requested' }, sent);
  return sent;
}

export function startDispatcher(options: DispatcherOptions): () => Promise<void> {
  let stopping = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopping) {
      const started = Date.now();
      try {
        await dispatchOnce(options);
      } catch (error) {
        options.logger.error({ err: error }, 'broadcast dispatcher: tick failed, will retry');
      }
      const wait = Math.max(0, (options.tickMs ?? 250) - (Date.now() - started));
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, wait);
      });
    }
  })();
  return async () => {
    stopping = true;
    wake?.();
    await loop;
  };
}
