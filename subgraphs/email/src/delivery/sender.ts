/**
 * The sender: takes due rows of the delivery ledger and hands them to SMTP, at most once each.
 *
 * 1. Claim a batch with a lease (`for update skip locked`): replicas never take the same rows.
 * 2. Check each against the suppression list, consent and its topic; skipped rows become
 *    SUPPRESSED with the reason. Rate limits (global and per recipient domain) push rows back.
 * 3. Render, then mark a small group SENDING in one committed statement *before* SMTP sees it.
 *    A SENDING row is never sent again automatically: after a crash it is reported as interrupted
 *    rather than risk a duplicate (the deterministic Message-ID lets receivers spot one anyway).
 * 4. Record each outcome with its history row and its `email.*` event (outbox), in one
 *    transaction per group: 250 delivered; 5xx bounced and the address suppressed; 4xx or a lost
 *    connection deferred with backoff, failed after the last attempt.
 */
import {
  EMAIL_EVENTS_SUBJECT,
  queryWithParams,
  type Logger,
  type ServiceMetrics,
} from '@marketing/platform';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { addressHash } from '../preferences/suppression.js';
import { TokenBucket } from './rate-limit.js';
import type { MailTransport, OutgoingMessage } from './transport.js';

export const SEND_STAGE = 'email.send';

/** A claimed ledger row, with what the sender needs to build its message. */
export interface DeliveryRow {
  id: string;
  dedupe_key: string;
  campaign_id: string | null;
  variant_id: string | null;
  customer_id: string;
  template_id: string;
  template_version: number;
  topic: string | null;
  context: Record<string, unknown> | null;
  email: string | null;
  attempts: number;
}

export interface Recipient {
  customer_id: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  timezone: string | null;
  traits: Record<string, unknown>;
}

export interface BuiltMessage {
  message: OutgoingMessage;
  /** The tracked links, by index (stored for the click redirect). */
  links: string[];
}

/** Renders and tracks one message; throws an error with a `message` when the template fails. */
export type MessageBuilder = (
  delivery: DeliveryRow,
  recipient: Recipient,
  to: string,
) => Promise<BuiltMessage>;

export interface SenderOptions {
  orm: MikroORM;
  transport: MailTransport;
  build: MessageBuilder;
  logger: Logger;
  metrics?: ServiceMetrics;
  batchSize?: number;
  /** Messages handed to SMTP together (default 10). */
  groupSize?: number;
  /**
   * Groups of a batch worked at once (default 4): while one group is with SMTP, the next renders
   * and is marked SENDING, so the pool's connections never wait for the database or the render.
   * Each group keeps its own mark-before-send transaction.
   */
  groupsInFlight?: number;
  /** Attempts before a temporary failure becomes FAILED (default 8). */
  maxAttempts?: number;
  /** Delay before attempt n+1 after a temporary failure (the last value repeats). */
  backoffMs?: number[];
  /** Messages per second over all recipients, per sender process; 0 = no limit. */
  ratePerSecond?: number;
  /** Messages per second to one recipient domain, per sender process; 0 = no limit. */
  domainRatePerSecond?: number;
  pollMs?: number;
  leaseMs?: number;
}

export const DEFAULT_SEND_BACKOFF_MS = [30_000, 120_000, 600_000, 1_800_000, 3_600_000];

type Outcome =
  | { id: string; kind: 'delivered'; response: string }
  | { id: string; kind: 'bounced' | 'failed' | 'deferred'; error: string; retryAt?: Date }
  | { id: string; kind: 'suppressed'; error: string };

export class DeliverySender {
  private readonly global: TokenBucket | null;
  private readonly domains = new Map<string, TokenBucket>();

  constructor(private readonly options: SenderOptions) {
    this.global = options.ratePerSecond ? new TokenBucket(options.ratePerSecond) : null;
  }

  /** Sends what is due now; returns how many rows it finished (sent, skipped or failed). */
  async runOnce(): Promise<number> {
    const rows = await this.claim();
    if (rows.length === 0) return 0;
    const em = this.options.orm.em.fork();
    const recipients = await loadRecipients(em, rows);
    const blocked = await loadBlocks(em, rows, recipients);
    const ready: { row: DeliveryRow; to: string }[] = [];
    const early: Outcome[] = [];
    const release: { id: string; at: Date }[] = [];
    for (const row of rows) {
      const recipient = recipients.get(row.customer_id);
      const to = recipient?.email ?? null;
      if (!to) {
        early.push({ id: row.id, kind: 'suppressed', error: 'no email address for this customer' });
        continue;
      }
      const reason = blocked(row, to);
      if (reason) {
        early.push({ id: row.id, kind: 'suppressed', error: reason });
        continue;
      }
      const wait = this.rateWait(to);
      if (wait > 0) {
        release.push({ id: row.id, at: new Date(Date.now() + wait) });
        continue;
      }
      ready.push({ row, to });
    }
    await this.record(early);
    await this.release(release);
    const groupSize = this.options.groupSize ?? 10;
    const groups: { row: DeliveryRow; to: string }[][] = [];
    for (let i = 0; i < ready.length; i += groupSize) groups.push(ready.slice(i, i + groupSize));
    let next = 0;
    const workers = Math.min(this.options.groupsInFlight ?? 4, groups.length);
    const settled = await Promise.allSettled(
      Array.from({ length: workers }, async () => {
        while (next < groups.length) await this.sendGroup(groups[next++]!, recipients);
      }),
    );
    // Every group has finished (sent and recorded, or failed) before the batch is reported.
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    return early.length + ready.length;
  }

  private async sendGroup(
    group: { row: DeliveryRow; to: string }[],
    recipients: Map<string, Recipient>,
  ) {
    const outcomes: Outcome[] = [];
    const built: { row: DeliveryRow; to: string; msg: BuiltMessage }[] = [];
    for (const { row, to } of group) {
      try {
        const recipient = recipients.get(row.customer_id) ?? emptyRecipient(row.customer_id);
        built.push({ row, to, msg: await this.options.build(row, recipient, to) });
      } catch (error) {
        outcomes.push({ id: row.id, kind: 'failed', error: `template: ${errorText(error)}` });
      }
    }
    // Committed before SMTP sees anything: from here on a row is never sent again automatically.
    const marked = await this.markSending(built);
    const sending = built.filter((b) => marked.has(b.row.id));
    const results = await Promise.all(
      sending.map(async ({ row, msg }) => {
        try {
          const result = await this.options.transport.send(msg.message);
          return { id: row.id, kind: 'delivered', response: result.response } as Outcome;
        } catch (error) {
          const failure = error as { kind?: string; message?: string };
          if (failure.kind === 'permanent') {
            return { id: row.id, kind: 'bounced', error: errorText(error) } as Outcome;
          }
          const attempt = row.attempts + 1;
          if (attempt >= (this.options.maxAttempts ?? 8)) {
            return {
              id: row.id,
              kind: 'failed',
              error: `gave up after ${attempt} attempts: ${errorText(error)}`,
            } as Outcome;
          }
          const backoff = this.options.backoffMs ?? DEFAULT_SEND_BACKOFF_MS;
          const delay = backoff[Math.min(attempt - 1, backoff.length - 1)]!;
          return {
            id: row.id,
            kind: 'deferred',
            error: errorText(error),
            retryAt: new Date(Date.now() + delay),
          } as Outcome;
        }
      }),
    );
    await this.record([...outcomes, ...results]);
  }

  private async claim(): Promise<DeliveryRow[]> {
    return queryWithParams<DeliveryRow>(
      this.options.orm.em.fork(),
      `update email.email_delivery d set claimed_until = now() + make_interval(secs => $2)
       where d.id in (
         select id from email.email_delivery
         where status in ('QUEUED', 'DEFERRED') and next_attempt_at <= now()
           and (claimed_until is null or claimed_until < now())
         order by next_attempt_at limit $1 for update skip locked)
       returning d.id, d.dedupe_key, d.campaign_id, d.variant_id, d.customer_id, d.template_id,
         d.template_version, d.topic, d.context, d.email, d.attempts`,
      [this.options.batchSize ?? 200, (this.options.leaseMs ?? 300_000) / 1_000],
    );
  }

  private async release(rows: { id: string; at: Date }[]) {
    if (rows.length === 0) return;
    await queryWithParams(
      this.options.orm.em.fork(),
      `update email.email_delivery d set claimed_until = null, next_attempt_at = r.at
       from jsonb_to_recordset($1::jsonb) as r(id uuid, at timestamptz) where d.id = r.id`,
      [JSON.stringify(rows)],
    );
  }

  private async markSending(built: { row: DeliveryRow; to: string; msg: BuiltMessage }[]) {
    if (built.length === 0) return new Set<string>();
    return this.options.orm.em.fork().transactional(async (em) => {
      const rows = await queryWithParams<{ id: string }>(
        em,
        `update email.email_delivery d set status = 'SENDING', email = r.email,
           message_id = r.message_id, attempts = d.attempts + 1
         from jsonb_to_recordset($1::jsonb) as r(id uuid, email text, message_id text)
         where d.id = r.id and d.status in ('QUEUED', 'DEFERRED')
         returning d.id`,
        [
          JSON.stringify(
            built.map((b) => ({ id: b.row.id, email: b.to, message_id: b.msg.message.messageId })),
          ),
        ],
      );
      const links = built.flatMap((b) =>
        b.msg.links.map((url, index) => ({ delivery_id: b.row.id, link_index: index, url })),
      );
      if (links.length > 0) {
        await queryWithParams(
          em,
          `insert into email.email_link (delivery_id, link_index, url)
           select * from jsonb_to_recordset($1::jsonb) as r(delivery_id uuid, link_index int, url text)
           on conflict do nothing`,
          [JSON.stringify(links)],
        );
      }
      return new Set(rows.map((r) => r.id));
    });
  }

  /** Applies outcomes with their history rows and bus events, in one transaction. */
  private async record(outcomes: Outcome[]) {
    if (outcomes.length === 0) return;
    const rows = outcomes.map((o) => ({
      id: o.id,
      kind: o.kind,
      detail: 'response' in o ? o.response : o.error,
      retry_at: 'retryAt' in o && o.retryAt ? o.retryAt.toISOString() : null,
    }));
    await this.options.orm.em.fork().transactional((em) => recordOutcomes(em, rows));
    for (const o of outcomes) {
      this.options.metrics?.messages.inc({ stage: SEND_STAGE, result: o.kind });
    }
  }

  private rateWait(to: string): number {
    const domain = to.slice(to.lastIndexOf('@') + 1).toLowerCase();
    let bucket = this.domains.get(domain);
    if (!bucket && this.options.domainRatePerSecond) {
      bucket = new TokenBucket(this.options.domainRatePerSecond);
      this.domains.set(domain, bucket);
    }
    const wait = Math.max(this.global?.wait() ?? 0, bucket?.wait() ?? 0);
    if (wait > 0) return wait;
    this.global?.take();
    bucket?.take();
    return 0;
  }

  /** Marks rows stuck in SENDING after a crash: interrupted, not retried. */
  async reapInterrupted(): Promise<number> {
    const rows = await queryWithParams<{ id: string }>(
      this.options.orm.em.fork(),
      `with stuck as (
         update email.email_delivery set status = 'FAILED',
           error = 'interrupted while being handed to SMTP; not retried, so that nobody gets it twice'
         where status = 'SENDING' and claimed_until < now() - interval '5 minutes'
         returning id
       ), history as (
         insert into email.email_delivery_event (delivery_id, status, detail, at)
         select id, 'FAILED', 'interrupted while being handed to SMTP', now() from stuck
       )
       select id from stuck`,
      [],
    );
    return rows.length;
  }

  start(): () => Promise<void> {
    let stopping = false;
    let wake: (() => void) | undefined;
    const loop = (async () => {
      let lastReap = 0;
      while (!stopping) {
        let done = 0;
        try {
          if (Date.now() - lastReap > 60_000) {
            lastReap = Date.now();
            await this.reapInterrupted();
          }
          done = await this.runOnce();
        } catch (error) {
          this.options.logger.error({ err: error }, 'email sender: batch failed, will retry');
        }
        if (done === 0) {
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, this.options.pollMs ?? 250);
          });
        }
      }
    })();
    return async () => {
      stopping = true;
      wake?.();
      await loop;
    };
  }
}

/** Outcome rows to statuses, history and `email.*` events (one statement each). */
async function recordOutcomes(
  em: EntityManager,
  rows: { id: string; kind: string; detail: string; retry_at: string | null }[],
) {
  await queryWithParams(
    em,
    `with r as (select * from jsonb_to_recordset($1::jsonb) as r(id uuid, kind text, detail text, retry_at timestamptz)),
     updated as (
       update email.email_delivery d set
         status = (case r.kind when 'delivered' then 'DELIVERED' when 'bounced' then 'BOUNCED'
           when 'deferred' then 'DEFERRED' when 'suppressed' then 'SUPPRESSED' else 'FAILED' end)::email.delivery_status,
         sent_at = case when r.kind = 'delivered' then now() else d.sent_at end,
         delivered_at = case when r.kind = 'delivered' then now() else d.delivered_at end,
         error = case when r.kind = 'delivered' then null else r.detail end,
         next_attempt_at = coalesce(r.retry_at, d.next_attempt_at),
         claimed_until = null
       from r where d.id = r.id
       returning d.id, d.customer_id, d.campaign_id, d.variant_id, d.email, r.kind, r.detail
     ),
     history as (
       insert into email.email_delivery_event (delivery_id, status, detail, at)
       select id, s.status::email.delivery_status, detail, now() from updated,
         lateral (select unnest(case kind when 'delivered' then array['SENT', 'DELIVERED']
           when 'bounced' then array['BOUNCED'] when 'deferred' then array['DEFERRED']
           when 'suppressed' then array['SUPPRESSED'] else array['FAILED'] end) as status) s
     ),
     suppressed as (
       insert into email.suppression (address_hash, customer_id, reason, created_at)
       select encode(sha256(convert_to(lower(btrim(email)), 'UTF8')), 'hex'), customer_id, 'HARD_BOUNCE', now()
       from updated where kind = 'bounced' and email is not null
       on conflict (address_hash) do nothing
     ),
     events as (
       insert into email.outbox (subject, message_id, data, created_at)
       select $2, e.type || ':' || u.id, jsonb_build_object('type', e.type, 'customerId', u.customer_id,
           'deliveryId', u.id, 'campaignId', u.campaign_id, 'variantId', u.variant_id,
           'occurredAt', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')), now()
       from updated u,
         lateral (select unnest(case u.kind when 'delivered' then array['email.sent', 'email.delivered']
           when 'bounced' then array['email.bounced'] when 'deferred' then array['email.deferred']
           else array[]::text[] end) as type) e
     )
     select count(*) from updated`,
    [JSON.stringify(rows), EMAIL_EVENTS_SUBJECT],
  );
}

async function loadRecipients(em: EntityManager, rows: DeliveryRow[]) {
  const found = await queryWithParams<Recipient>(
    em,
    `select customer_id, email, first_name, last_name, timezone, traits from email.email_recipient
     where customer_id = any($1::text[])`,
    [[...new Set(rows.map((r) => r.customer_id))]],
  );
  return new Map(found.map((r) => [r.customer_id, r]));
}

/** Suppression, consent and topic checks for a batch: returns the reason a row may not be sent. */
async function loadBlocks(
  em: EntityManager,
  rows: DeliveryRow[],
  recipients: Map<string, Recipient>,
) {
  const customers = [...new Set(rows.map((r) => r.customer_id))];
  const hashes = [...recipients.values()].flatMap((r) => (r.email ? [addressHash(r.email)] : []));
  const [suppressions, consents, topics] = await Promise.all([
    queryWithParams<{ address_hash: string; reason: string }>(
      em,
      `select address_hash, reason from email.suppression where address_hash = any($1::text[])`,
      [hashes],
    ),
    queryWithParams<{ customer_id: string; subscribed: boolean }>(
      em,
      `select customer_id, subscribed from email.email_consent where customer_id = any($1::text[])`,
      [customers],
    ),
    queryWithParams<{ customer_id: string; topic: string; subscribed: boolean }>(
      em,
      `select customer_id, topic, subscribed from email.topic_subscription
       where customer_id = any($1::text[]) and not subscribed`,
      [customers],
    ),
  ]);
  const suppressed = new Map(suppressions.map((s) => [s.address_hash, s.reason]));
  const consented = new Set(consents.filter((c) => c.subscribed).map((c) => c.customer_id));
  const topicOut = new Set(topics.map((t) => `${t.customer_id}\u0000${t.topic}`));
  return (row: DeliveryRow, to: string): string | null => {
    const reason = suppressed.get(addressHash(to));
    if (reason) return `address suppressed (${reason})`;
    if (!consented.has(row.customer_id)) return 'no marketing consent';
    if (row.topic && topicOut.has(`${row.customer_id}\u0000${row.topic}`)) {
      return `unsubscribed from topic ${row.topic}`;
    }
    return null;
  };
}

function emptyRecipient(customerId: string): Recipient {
  return {
    customer_id: customerId,
    email: null,
    first_name: null,
    last_name: null,
    timezone: null,
    traits: {},
  };
}

function errorText(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 1_000);
}
