/**
 * The automation engine: enrols customers when a trigger fires, and walks each enrolment through
 * its workflow with durable pg-boss jobs.
 *
 * - Every step runs in a job of the `automation-step` queue carrying (enrolment, seq). The job
 *   locks the enrolment, checks that `seq` is still current and bumps it, then executes steps until
 *   a wait, in one transaction with their effects (send requests in the outbox, the next job). A job
 *   that runs twice, or a timeout that fires after the awaited event, finds `seq` moved on and does
 *   nothing; a crash rolls the whole step back and pg-boss retries it with backoff.
 * - Waits are jobs with `startAfter`; pg-boss's clock (a TestClock in tests) drives them, and the
 *   engine reads the same clock, so tests move time by hand.
 * - Sends go to the email service as `email.send.requested` with the dedupe key
 *   `workflow:<enrolment>:<step>:<seq>`: the email ledger sends each key at most once.
 * - A global frequency cap (at most N marketing emails per customer per window, broadcasts
 *   included) skips a send; quiet hours in the customer's timezone defer it to their end.
 */
import { createHash } from 'node:crypto';
import {
  addToOutbox,
  CAMPAIGN_EVENTS_SUBJECT,
  claimMessages,
  mergeTraits,
  messageVersion,
  profileColumns,
  queryWithParams,
  SEND_REQUESTS_SUBJECT,
  type BusMessage,
  type EnrollmentEvent,
  type IngestedMessage,
  type Logger,
  type SegmentMembershipEvent,
  type SendRequest,
} from '@marketing/platform';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Clock, Db as IDatabase, PgBoss } from 'pg-boss';
import { Campaign, CampaignStatus, CampaignVariant } from '../campaign/campaign.entity.js';
import { CampaignEnrollment } from '../enrollment/enrollment.entity.js';
import { AutomationCustomer } from './automation.entity.js';
import { conditionNeeds, evaluateCondition, matchesFilters } from './conditions.js';
import { nextLocalTime, quietUntil, type QuietHours } from './local-time.js';
import {
  durationMs,
  successors,
  type EventMatcher,
  type Step,
  type Trigger,
  type Workflow,
} from './workflow.js';

export const STEP_QUEUE = 'automation-step';
export const STEP_DEAD_LETTERS = 'automation-step-failed';
export const AUTOMATION_EVENTS_CONSUMER = 'campaigns.automation-events';
export const AUTOMATION_SEGMENTS_CONSUMER = 'campaigns.automation-segments';
/** Steps one job may run before it must pause (a guard; the grammar forbids loops without waits). */
const MAX_STEPS_PER_JOB = 50;
/** How long a job for a paused automation waits before looking again. */
const PAUSED_RETRY_MS = 60_000;

export interface AutomationSettings {
  frequencyCap: { count: number; windowMs: number } | null;
  quietHours: QuietHours | null;
  /** For customers whose timezone is unknown. */
  defaultTimezone: string;
}

export interface StepJob {
  enrollmentId: string;
  seq: number;
  /** How the enrolment resumes: after a wait, on the awaited event, on its timeout; else run the current step. */
  resume?: 'waited' | 'event' | 'timeout';
}

interface RunningAutomation {
  id: string;
  segmentId: string | null;
  launchedAt: Date;
  workflow: Workflow;
  variants: { id: string; weight: number }[];
}

/** pg-boss statements inside the caller's MikroORM transaction. */
export function transactionDb(em: EntityManager): IDatabase {
  return {
    executeSql: async (text, values) => ({ rows: await queryWithParams(em, text, values ?? []) }),
  };
}

export class AutomationEngine {
  constructor(
    private readonly orm: MikroORM,
    private readonly boss: PgBoss,
    private readonly clock: Clock,
    private readonly settings: AutomationSettings,
    private readonly logger: Logger,
  ) {}

  now(): Date {
    return new Date(this.clock.now());
  }

  // ---------------------------------------------------------------- triggers and events

  /** A batch from `ecommerce.events`: traits, enrolments, awaited events and goals. Idempotent. */
  async onIngested(messages: IngestedMessage[]): Promise<number> {
    if (messages.length === 0) return 0;
    return this.orm.em.fork().transactional(async (em) => {
      const fresh = await claimMessages(
        em,
        'campaigns',
        AUTOMATION_EVENTS_CONSUMER,
        messages.map((m) => m.messageId),
      );
      const todo = messages
        .filter((m) => fresh.has(m.messageId))
        .sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
      const automations = await this.runningAutomations(em);
      const names = referencedEvents(automations);
      // Customers of the batch with an active enrolment: read once, grown as the batch enrols.
      const active = await activeCustomers(
        em,
        todo.map((m) => m.userId),
      );
      let enrolled = 0;
      for (const message of todo) {
        if (message.type === 'identify') {
          await this.mergeTraits(em, message);
          continue;
        }
        const at = new Date(message.timestamp);
        const enrolledCustomer = active.has(message.userId);
        if (enrolledCustomer && names.has(message.event)) {
          await queryWithParams(
            em,
            `insert into campaigns.automation_event (message_id, customer_id, event, properties, occurred_at)
             values ($1, $2, $3, $4::jsonb, $5) on conflict do nothing`,
            [
              message.messageId,
              message.userId,
              message.event,
              JSON.stringify(message.properties),
              at.toISOString(),
            ],
          );
        }
        if (enrolledCustomer) {
          await this.resolveAwaited(em, message, at);
          await this.reachGoals(em, automations, message, at);
        }
        for (const automation of automations) {
          const on = automation.workflow.trigger.on;
          if (on.type !== 'event' || on.event !== message.event) continue;
          if (at < automation.launchedAt || !matchesFilters(message.properties, on.where)) continue;
          const context = {
            event: message.event,
            properties: message.properties,
            occurredAt: message.timestamp,
          };
          if (await this.enroll(em, automation, message.userId, message.messageId, context)) {
            enrolled++;
            active.add(message.userId);
          }
        }
      }
      return enrolled;
    });
  }

  /** A batch from `marketing.segments`: segment-triggered enrolments. */
  async onSegmentEvents(events: (SegmentMembershipEvent & { id: string })[]): Promise<number> {
    if (events.length === 0) return 0;
    return this.orm.em.fork().transactional(async (em) => {
      const fresh = await claimMessages(
        em,
        'campaigns',
        AUTOMATION_SEGMENTS_CONSUMER,
        events.map((e) => e.id),
      );
      const automations = (await this.runningAutomations(em)).filter(
        (a) => a.workflow.trigger.on.type !== 'event',
      );
      let enrolled = 0;
      for (const event of events.filter((e) => fresh.has(e.id))) {
        const type = event.type === 'segment.entered' ? 'segmentEntered' : 'segmentExited';
        for (const automation of automations) {
          const on = automation.workflow.trigger.on;
          if (on.type !== type || on.segmentId !== event.segmentId) continue;
          // Membership changes from before the launch are history, not triggers (a segment's first
          // evaluation reports every existing member as entered).
          if (new Date(event.occurredAt) < automation.launchedAt) continue;
          const context = {
            event: event.type,
            properties: { segmentId: event.segmentId, segmentName: event.segmentName },
            occurredAt: event.occurredAt,
          };
          if (await this.enroll(em, automation, event.customerId, event.id, context)) enrolled++;
        }
      }
      return enrolled;
    });
  }

  private async mergeTraits(
    em: EntityManager,
    message: Extract<IngestedMessage, { type: 'identify' }>,
  ) {
    const current = await em.findOne(
      AutomationCustomer,
      { customerId: message.userId },
      { lockMode: 4 },
    );
    const merged = mergeTraits(
      { traits: current?.traits ?? {}, traitVersions: current?.traitVersions ?? {} },
      message.traits,
      messageVersion(message),
    );
    const timezone = profileColumns(merged.traits).timezone;
    await queryWithParams(
      em,
      `insert into campaigns.automation_customer (customer_id, traits, trait_versions, timezone)
       values ($1, $2::jsonb, $3::jsonb, $4)
       on conflict (customer_id) do update set traits = excluded.traits,
         trait_versions = excluded.trait_versions, timezone = excluded.timezone`,
      [
        message.userId,
        JSON.stringify(merged.traits),
        JSON.stringify(merged.traitVersions),
        timezone,
      ],
    );
  }

  /** Enrols the customer unless the entry filter or the re-entry policy says no. */
  private async enroll(
    em: EntityManager,
    automation: RunningAutomation,
    customerId: string,
    sourceId: string,
    context: Record<string, unknown>,
  ): Promise<boolean> {
    if (automation.segmentId) {
      const [member] = await queryWithParams(
        em,
        `select 1 from campaigns.segment_member where segment_id = $1 and customer_id = $2 and member`,
        [automation.segmentId, customerId],
      );
      if (!member) return false;
    }
    const reentry = automation.workflow.trigger.reentry;
    const previous = await queryWithParams<{ status: string; entered_at: Date }>(
      em,
      `select status, entered_at from campaigns.campaign_enrollment
       where campaign_id = $1 and customer_id = $2 order by entered_at desc limit 1
       for update`,
      [automation.id, customerId],
    );
    const now = this.now();
    const last = previous[0];
    if (last) {
      if (reentry.policy === 'once' || last.status === 'ACTIVE') return false;
      if (
        reentry.policy === 'cooldown' &&
        now.getTime() - new Date(last.entered_at).getTime() < durationMs(reentry.cooldown)
      )
        return false;
    }
    const id = crypto.randomUUID();
    // 'once' uses a fixed key, so the unique (campaign, customer, key) index enforces it.
    const entryKey = reentry.policy === 'once' ? 'once' : `entry:${sourceId}`;
    const [inserted] = await queryWithParams<{ id: string }>(
      em,
      `insert into campaigns.campaign_enrollment (id, campaign_id, customer_id, entry_key, variant_id,
         status, current_step, entered_at, seq, context)
       values ($1, $2, $3, $4, $5, 'ACTIVE', $6, $7, 0, $8::jsonb)
       on conflict do nothing returning id`,
      [
        id,
        automation.id,
        customerId,
        entryKey,
        pickVariant(automation.id, customerId, automation.variants),
        automation.workflow.steps[0]!.id,
        now.toISOString(),
        JSON.stringify(context),
      ],
    );
    if (!inserted) return false;
    this.publish(
      em,
      {
        type: 'enrollment.entered',
        campaignId: automation.id,
        enrollmentId: id,
        customerId,
        occurredAt: now.toISOString(),
      },
      `${id}:entered`,
    );
    await this.schedule(em, { enrollmentId: id, seq: 0 }, now);
    return true;
  }

  /** Enrolments of the customer waiting for this event resume on their `onEvent` branch. */
  private async resolveAwaited(
    em: EntityManager,
    message: Extract<IngestedMessage, { type: 'track' }>,
    at: Date,
  ) {
    const waiting = await queryWithParams<{
      id: string;
      seq: number;
      awaiting: { where?: EventMatcher['where']; since: string };
    }>(
      em,
      `select id, seq, awaiting from campaigns.campaign_enrollment
       where customer_id = $1 and status = 'ACTIVE' and awaiting->>'event' = $2
       for update`,
      [message.userId, message.event],
    );
    for (const row of waiting) {
      if (
        at < new Date(row.awaiting.since) ||
        !matchesFilters(message.properties, row.awaiting.where)
      )
        continue;
      await queryWithParams(
        em,
        `update campaigns.campaign_enrollment set seq = seq + 1, awaiting = null, wake_at = null where id = $1`,
        [row.id],
      );
      await this.schedule(
        em,
        { enrollmentId: row.id, seq: row.seq + 1, resume: 'event' },
        this.now(),
      );
    }
  }

  /** A goal event ends the customer's active enrolments in the automations that name it. */
  private async reachGoals(
    em: EntityManager,
    automations: RunningAutomation[],
    message: Extract<IngestedMessage, { type: 'track' }>,
    at: Date,
  ) {
    const goals = automations.filter((a) =>
      a.workflow.trigger.exitOn.some(
        (g) => g.event === message.event && matchesFilters(message.properties, g.where),
      ),
    );
    if (goals.length === 0) return;
    const exited = await queryWithParams<{ id: string; campaign_id: string }>(
      em,
      `update campaigns.campaign_enrollment
       set status = 'EXITED', exit_reason = $3, exited_at = $4, seq = seq + 1, awaiting = null, wake_at = null
       where customer_id = $1 and status = 'ACTIVE' and campaign_id = any($2::uuid[])
         and coalesce((context->>'occurredAt')::timestamptz, entered_at) <= $5
       returning id, campaign_id`,
      [
        message.userId,
        goals.map((g) => g.id),
        `goal: ${message.event}`,
        this.now().toISOString(),
        at.toISOString(),
      ],
    );
    for (const row of exited) {
      this.publish(
        em,
        {
          type: 'enrollment.exited',
          campaignId: row.campaign_id,
          enrollmentId: row.id,
          customerId: message.userId,
          reason: `goal: ${message.event}`,
          occurredAt: this.now().toISOString(),
        },
        `${row.id}:exited`,
      );
    }
  }

  private async runningAutomations(em: EntityManager): Promise<RunningAutomation[]> {
    const rows = await queryWithParams<{
      id: string;
      segment_id: string | null;
      launched_at: Date;
      trigger: Trigger;
      steps: Step[];
      variants: { id: string; weight: number }[] | null;
    }>(
      em,
      `select c.id, c.segment_id, c.launched_at, c.trigger, c.steps,
         (select jsonb_agg(jsonb_build_object('id', v.id, 'weight', v.weight) order by v.position)
          from campaigns.campaign_variant v where v.campaign_id = c.id) as variants
       from campaigns.campaign c where c.kind = 'AUTOMATION' and c.status = 'RUNNING'`,
      [],
    );
    return rows.map((r) => ({
      id: r.id,
      segmentId: r.segment_id,
      launchedAt: new Date(r.launched_at),
      workflow: { trigger: r.trigger, steps: r.steps },
      variants: r.variants ?? [],
    }));
  }

  // ---------------------------------------------------------------- steps

  async schedule(em: EntityManager, job: StepJob, at: Date): Promise<void> {
    await this.boss.send(STEP_QUEUE, { ...job }, { startAfter: at, db: transactionDb(em) });
  }

  /** Runs one step job (see the module comment). */
  async run(job: StepJob): Promise<void> {
    await this.orm.em.fork().transactional(async (em) => {
      const enrollment = await em.findOne(
        CampaignEnrollment,
        { id: job.enrollmentId },
        { lockMode: 4 },
      );
      if (!enrollment || enrollment.status !== 'ACTIVE' || enrollment.seq !== job.seq) return;
      const campaign = await em.findOneOrFail(Campaign, { id: enrollment.campaign.id });
      if (
        campaign.status === CampaignStatus.PAUSED ||
        campaign.status === CampaignStatus.SCHEDULED
      ) {
        await this.schedule(em, job, new Date(this.clock.now() + PAUSED_RETRY_MS));
        return;
      }
      if (campaign.status !== CampaignStatus.RUNNING) {
        this.finish(em, enrollment, 'EXITED', `campaign ${campaign.status.toLowerCase()}`);
        await em.flush();
        return;
      }
      enrollment.seq += 1;
      enrollment.wakeAt = null;
      const steps = campaign.steps as Step[];
      const index = new Map(steps.map((s, i) => [s.id, i]));
      let position = enrollment.currentStep ? index.get(enrollment.currentStep) : undefined;
      if (position === undefined) {
        this.finish(em, enrollment, 'FAILED', `step "${enrollment.currentStep}" no longer exists`);
        await em.flush();
        return;
      }
      let stepId: string | null = enrollment.currentStep!;
      if (job.resume) {
        const out = successors(steps, position);
        stepId = job.resume === 'timeout' ? out[1]!.id : out[0]!.id;
        enrollment.awaiting = null;
      }
      for (let n = 0; ; n++) {
        if (stepId === null) {
          this.finish(em, enrollment, 'COMPLETED', null);
          break;
        }
        position = index.get(stepId)!;
        const step = steps[position]!;
        enrollment.currentStep = step.id;
        if (n >= MAX_STEPS_PER_JOB) {
          await this.pauseUntil(em, enrollment, this.now(), undefined);
          break;
        }
        const outcome = await this.execute(
          em,
          campaign,
          enrollment,
          step,
          position,
          steps,
          job.seq === 0,
        );
        this.publish(
          em,
          {
            type: 'enrollment.step',
            campaignId: campaign.id,
            enrollmentId: enrollment.id,
            customerId: enrollment.customerId,
            stepId: step.id,
            stepType: step.type,
            reason: outcome.note ?? null,
            occurredAt: this.now().toISOString(),
          },
          `${enrollment.id}:${enrollment.seq}:${step.id}`,
        );
        if (outcome.kind === 'paused') break;
        if (outcome.kind === 'exit') {
          this.finish(em, enrollment, 'EXITED', 'exit step');
          break;
        }
        stepId = outcome.next;
      }
      await em.flush();
    });
  }

  private async execute(
    em: EntityManager,
    campaign: Campaign,
    enrollment: CampaignEnrollment,
    step: Step,
    position: number,
    steps: Step[],
    /** Whether no wait has happened yet in this enrolment (its first job). */
    firstJob: boolean,
  ): Promise<
    | { kind: 'next'; next: string | null; note?: string }
    | { kind: 'paused'; note?: string }
    | { kind: 'exit'; note?: string }
  > {
    const next = () => successors(steps, position)[0]!.id;
    const now = this.now();
    switch (step.type) {
      case 'wait':
        await this.pauseUntil(
          em,
          enrollment,
          new Date(now.getTime() + durationMs(step.duration)),
          'waited',
        );
        return { kind: 'paused' };
      case 'waitUntil': {
        const [h, m] = step.time.split(':').map(Number);
        const zone = await this.timezoneOf(em, enrollment.customerId);
        await this.pauseUntil(em, enrollment, nextLocalTime(now, h! * 60 + m!, zone), 'waited');
        return { kind: 'paused' };
      }
      case 'waitForEvent': {
        // The first wait counts from the trigger (an hour after the checkout, however late the
        // consumer saw it); later ones from now.
        const since = firstJob ? triggeredAt(enrollment) : now;
        // The event may already be here: recorded while this job was queued.
        const happened = await queryWithParams<{ properties: Record<string, unknown> }>(
          em,
          `select properties from campaigns.automation_event
           where customer_id = $1 and event = $2 and occurred_at >= $3 order by occurred_at limit 1000`,
          [enrollment.customerId, step.event, since.toISOString()],
        );
        if (happened.some((e) => matchesFilters(e.properties, step.where))) {
          return { kind: 'next', next: successors(steps, position)[0]!.id, note: 'event' };
        }
        enrollment.awaiting = {
          stepId: step.id,
          event: step.event,
          where: step.where ?? [],
          since: since.toISOString(),
        };
        await this.pauseUntil(
          em,
          enrollment,
          new Date(Math.max(now.getTime(), since.getTime() + durationMs(step.timeout))),
          'timeout',
        );
        return { kind: 'paused' };
      }
      case 'branch': {
        const needs = conditionNeeds(step.condition);
        const facts = {
          traits:
            (await em.findOne(AutomationCustomer, { customerId: enrollment.customerId }))?.traits ??
            {},
          event: (enrollment.context?.properties as Record<string, unknown> | undefined) ?? {},
          segments: new Set(
            needs.segments.size === 0
              ? []
              : (
                  await queryWithParams<{ segment_id: string }>(
                    em,
                    `select segment_id from campaigns.segment_member where customer_id = $1 and member and segment_id = any($2::uuid[])`,
                    [enrollment.customerId, [...needs.segments]],
                  )
                ).map((r) => r.segment_id),
          ),
          events:
            needs.events.size === 0
              ? []
              : await queryWithParams<{ event: string; properties: Record<string, unknown> }>(
                  em,
                  `select event, properties from campaigns.automation_event
                   where customer_id = $1 and event = any($2::text[]) and occurred_at > $3
                   order by occurred_at limit 1000`,
                  [enrollment.customerId, [...needs.events], triggeredAt(enrollment).toISOString()],
                ),
        };
        const out = successors(steps, position);
        return evaluateCondition(step.condition, facts)
          ? { kind: 'next', next: out[0]!.id, note: 'then' }
          : { kind: 'next', next: out[1]!.id, note: 'else' };
      }
      case 'split': {
        const draw = unitHash(`${enrollment.id}:${step.id}`);
        let upper = 0;
        const out = successors(steps, position);
        for (let i = 0; i < step.branches.length; i++) {
          upper += step.branches[i]!.weight;
          if (draw < upper || i === step.branches.length - 1)
            return { kind: 'next', next: out[i]!.id, note: `branch ${i}` };
        }
        return { kind: 'next', next: next() };
      }
      case 'sendEmail': {
        const zone = await this.timezoneOf(em, enrollment.customerId);
        const quietEnd =
          this.settings.quietHours && quietUntil(now, this.settings.quietHours, zone);
        if (quietEnd) {
          await this.pauseUntil(em, enrollment, quietEnd, undefined);
          return { kind: 'paused', note: `quiet hours until ${quietEnd.toISOString()}` };
        }
        if (await this.capped(em, enrollment.customerId, now)) {
          return { kind: 'next', next: next(), note: 'skipped: frequency cap' };
        }
        const template = await this.templateFor(em, step, enrollment);
        if (!template) {
          return {
            kind: 'next',
            next: next(),
            note: 'skipped: no template (the campaign has no variant)',
          };
        }
        const dedupeKey = `workflow:${enrollment.id}:${step.id}:${enrollment.seq}`;
        await queryWithParams(
          em,
          `insert into campaigns.automation_send_log (dedupe_key, customer_id, campaign_id, sent_at)
           values ($1, $2, $3, $4) on conflict do nothing`,
          [dedupeKey, enrollment.customerId, campaign.id, now.toISOString()],
        );
        const request: SendRequest = {
          type: 'email.send.requested',
          dedupeKey,
          customerId: enrollment.customerId,
          templateId: template.templateId,
          templateVersion: template.templateVersion,
          campaignId: campaign.id,
          variantId: step.templateId ? null : (enrollment.variantId ?? null),
          topic: campaign.topic ?? null,
          event: (enrollment.context as Record<string, unknown> | null) ?? null,
          requestedAt: now.toISOString(),
        };
        addToOutbox(em, [
          { id: `send:${dedupeKey}`, subject: SEND_REQUESTS_SUBJECT, data: request },
        ]);
        return { kind: 'next', next: next(), note: 'send requested' };
      }
      case 'exit':
        return { kind: 'exit' };
    }
  }

  private async pauseUntil(
    em: EntityManager,
    enrollment: CampaignEnrollment,
    at: Date,
    resume: StepJob['resume'],
  ) {
    enrollment.wakeAt = at;
    await this.schedule(em, { enrollmentId: enrollment.id, seq: enrollment.seq, resume }, at);
  }

  private finish(
    em: EntityManager,
    enrollment: CampaignEnrollment,
    status: 'COMPLETED' | 'EXITED' | 'FAILED',
    reason: string | null,
  ) {
    const now = this.now();
    enrollment.status = status;
    enrollment.exitedAt = now;
    enrollment.exitReason = reason;
    enrollment.awaiting = null;
    enrollment.wakeAt = null;
    enrollment.seq += 1;
    this.publish(
      em,
      {
        type: status === 'COMPLETED' ? 'enrollment.completed' : 'enrollment.exited',
        campaignId: enrollment.campaign.id,
        enrollmentId: enrollment.id,
        customerId: enrollment.customerId,
        reason: status === 'COMPLETED' ? null : `${status === 'FAILED' ? 'failed: ' : ''}${reason}`,
        occurredAt: now.toISOString(),
      },
      `${enrollment.id}:${status.toLowerCase()}`,
    );
  }

  /** Marks an enrolment whose step job exhausted its retries as FAILED. */
  async fail(job: StepJob, error: string): Promise<void> {
    await this.orm.em.fork().transactional(async (em) => {
      const enrollment = await em.findOne(
        CampaignEnrollment,
        { id: job.enrollmentId },
        { lockMode: 4 },
      );
      if (!enrollment || enrollment.status !== 'ACTIVE' || enrollment.seq !== job.seq) return;
      this.logger.error(
        { enrollmentId: job.enrollmentId, error },
        'automation step failed after its retries',
      );
      this.finish(
        em,
        enrollment,
        'FAILED',
        `step "${enrollment.currentStep}" failed: ${error.slice(0, 200)}`,
      );
      await em.flush();
    });
  }

  private async capped(em: EntityManager, customerId: string, now: Date): Promise<boolean> {
    const cap = this.settings.frequencyCap;
    if (!cap) return false;
    // Sends to one customer from concurrent jobs (other automations) take turns here, so the
    // count cannot miss a send another transaction is about to commit.
    await queryWithParams(em, `select pg_advisory_xact_lock(hashtext('frequency-cap:' || $1))`, [
      customerId,
    ]);
    const [row] = await queryWithParams<{ n: number }>(
      em,
      `select count(*)::int as n from campaigns.automation_send_log where customer_id = $1 and sent_at > $2`,
      [customerId, new Date(now.getTime() - cap.windowMs).toISOString()],
    );
    return row!.n >= cap.count;
  }

  private async templateFor(
    em: EntityManager,
    step: Extract<Step, { type: 'sendEmail' }>,
    enrollment: CampaignEnrollment,
  ) {
    if (step.templateId)
      return { templateId: step.templateId, templateVersion: step.templateVersion };
    if (!enrollment.variantId) return null;
    const variant = await em.findOne(CampaignVariant, { id: enrollment.variantId });
    return variant
      ? { templateId: variant.templateId, templateVersion: variant.templateVersion }
      : null;
  }

  private async timezoneOf(em: EntityManager, customerId: string): Promise<string> {
    const customer = await em.findOne(AutomationCustomer, { customerId });
    return customer?.timezone ?? this.settings.defaultTimezone;
  }

  private publish(em: EntityManager, event: EnrollmentEvent, id: string) {
    const message: BusMessage<EnrollmentEvent> = {
      id: `enrollment:${id}`,
      subject: CAMPAIGN_EVENTS_SUBJECT,
      data: event,
    };
    addToOutbox(em, [message]);
  }
}

/** When the trigger happened (the enrolment's entry when unknown or in the future). */
function triggeredAt(enrollment: CampaignEnrollment): Date {
  const at = enrollment.context?.occurredAt;
  const parsed = typeof at === 'string' ? new Date(at) : null;
  return parsed && !Number.isNaN(parsed.getTime()) && parsed <= enrollment.enteredAt
    ? parsed
    : enrollment.enteredAt;
}

/** Which of the customers have an active automation enrolment. */
async function activeCustomers(em: EntityManager, customerIds: string[]): Promise<Set<string>> {
  if (customerIds.length === 0) return new Set();
  const rows = await queryWithParams<{ customer_id: string }>(
    em,
    `select distinct e.customer_id from campaigns.campaign_enrollment e
     join campaigns.campaign c on c.id = e.campaign_id
     where e.customer_id = any($1::text[]) and e.status = 'ACTIVE' and c.kind = 'AUTOMATION'`,
    [[...new Set(customerIds)]],
  );
  return new Set(rows.map((r) => r.customer_id));
}

/** Event names the running automations read after entry (awaited, goals, conditions). */
function referencedEvents(automations: RunningAutomation[]): Set<string> {
  const names = new Set<string>();
  for (const a of automations) {
    for (const goal of a.workflow.trigger.exitOn) names.add(goal.event);
    for (const step of a.workflow.steps) {
      if (step.type === 'waitForEvent') names.add(step.event);
      if (step.type === 'branch')
        conditionNeeds(step.condition).events.forEach((e) => names.add(e));
    }
  }
  return names;
}

/** A number in [0, 1) from a hash: the same input always gives the same draw. */
export function unitHash(input: string): number {
  return createHash('md5').update(input).digest().readUInt32BE(0) / 4_294_967_296;
}

/** The variant for a customer, by a hash of campaign and customer, in proportion to the weights. */
export function pickVariant(
  campaignId: string,
  customerId: string,
  variants: { id: string; weight: number }[],
): string | null {
  if (variants.length === 0) return null;
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  const draw = unitHash(`${campaignId}:${customerId}`) * total;
  let upper = 0;
  for (const v of variants) {
    upper += v.weight;
    if (draw < upper) return v.id;
  }
  return variants[variants.length - 1]!.id;
}
