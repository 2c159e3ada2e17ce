/**
 * Creating and changing campaigns, and moving them through their lifecycle, with an audit entry
 * for every change (who, what, when). A variant pins the template version current when the
 * campaign is saved. Launching a broadcast snapshots its segment's members as enrolments; the
 * dispatcher then asks the email service for one message per enrolment.
 */
import {
  addToOutbox,
  CAMPAIGN_EVENTS_SUBJECT,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  queryWithParams,
  type CampaignChanged,
  type Identity,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { parseAutomation, type Step } from '../automation/workflow.js';
import {
  AbFallback,
  type AbMetric,
  type AbTestSettings,
  Campaign,
  CampaignAuditEntry,
  CampaignKind,
  CampaignStatus,
  CampaignVariant,
} from './campaign.entity.js';
import { assertEditable, transition, type CampaignAction } from './lifecycle.js';

export interface CampaignInputData {
  name: string;
  kind: CampaignKind;
  segmentId?: string | null;
  variants: { name: string; weight: number; templateId: string }[];
  abTest?: {
    metric: AbMetric;
    testFraction: number;
    decisionDelaySeconds: number;
    confidence?: number | null;
    fallback?: AbFallback | null;
  } | null;
  trigger?: unknown;
  steps?: unknown;
  topic?: string | null;
}

const TOPIC = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class CampaignService {
  constructor(private readonly em: EntityManager) {}

  async create(input: CampaignInputData, viewer: Identity): Promise<Campaign> {
    return this.em.transactional(async (em) => {
      const checked = await checkInput(em, input);
      const campaign = em.create(Campaign, {
        id: crypto.randomUUID(),
        name: checked.name,
        kind: input.kind,
        status: CampaignStatus.DRAFT,
        segmentId: input.segmentId ?? null,
        topic: input.topic ?? null,
        trigger: checked.trigger,
        steps: checked.steps,
        abTest: checked.abTest,
        scheduledLocal: false,
        version: 0,
        createdBy: viewer.sub,
        createdAt: new Date(),
        updatedAt: new Date(),
      });
      em.persist(campaign);
      addVariants(em, campaign, checked.variants);
      await recordChange(em, campaign, viewer, 'create', { input: summary(input) });
      return campaign;
    });
  }

  async update(id: string, input: CampaignInputData, viewer: Identity): Promise<Campaign> {
    return this.em.transactional(async (em) => {
      const campaign = await lockCampaign(em, id);
      assertEditable(campaign.status);
      if (input.kind !== campaign.kind) {
        throw new InvalidInputError(
          `a ${campaign.kind} campaign cannot become ${input.kind}`,
          'input.kind',
        );
      }
      const checked = await checkInput(em, input);
      campaign.name = checked.name;
      campaign.segmentId = input.segmentId ?? null;
      campaign.topic = input.topic ?? null;
      campaign.trigger = checked.trigger;
      campaign.steps = checked.steps;
      campaign.abTest = checked.abTest;
      campaign.updatedAt = new Date();
      await em.nativeDelete(CampaignVariant, { campaign: campaign.id });
      addVariants(em, campaign, checked.variants);
      await recordChange(em, campaign, viewer, 'update', { input: summary(input) });
      return campaign;
    });
  }

  /**
   * Schedules the launch at `at`. With `localTime`, `at`'s wall-clock time (read in UTC) is when
   * each customer gets it in their own timezone: the broadcast starts in the earliest timezone.
   */
  async schedule(id: string, at: Date, viewer: Identity, localTime = false): Promise<Campaign> {
    if (Number.isNaN(at.getTime()) || at.getTime() <= Date.now()) {
      throw new InvalidInputError('must be in the future', 'at');
    }
    return this.em.transactional(async (em) => {
      const campaign = await lockCampaign(em, id);
      if (localTime && campaign.kind !== CampaignKind.BROADCAST)
        throw new InvalidInputError('local-time scheduling applies to broadcasts', 'localTime');
      campaign.status = transition(campaign.status, 'schedule');
      campaign.scheduledAt = at;
      campaign.scheduledLocal = localTime;
      campaign.updatedAt = new Date();
      await recordChange(em, campaign, viewer, 'schedule', { at: at.toISOString(), localTime });
      return campaign;
    });
  }

  async launch(id: string, viewer: Identity): Promise<Campaign> {
    return this.em.transactional((em) => launchIn(em, id, viewer));
  }

  async change(
    id: string,
    action: Exclude<CampaignAction, 'schedule' | 'launch'>,
    viewer: Identity,
  ) {
    return this.em.transactional((em) => changeIn(em, id, action, viewer));
  }
}

/** A lifecycle change other than schedule and launch, in the caller's transaction. */
export async function changeIn(
  em: EntityManager,
  id: string,
  action: Exclude<CampaignAction, 'schedule' | 'launch'>,
  viewer: Identity,
  detail: Record<string, unknown> = {},
): Promise<Campaign> {
  const campaign = await lockCampaign(em, id);
  const from = campaign.status;
  campaign.status = transition(campaign.status, action);
  if (action === 'complete') campaign.completedAt = new Date();
  campaign.updatedAt = new Date();
  const changes: Record<string, unknown> = { from, to: campaign.status, ...detail };
  if (
    campaign.kind === CampaignKind.AUTOMATION &&
    (action === 'complete' || action === 'archive')
  ) {
    changes.exited = await exitActiveEnrollments(em, campaign.id, `campaign ${action}d`);
  }
  await recordChange(em, campaign, viewer, action, changes);
  return campaign;
}

/**
 * Ends an automation's active enrolments (their queued step jobs find `seq` moved on and do
 * nothing), with `enrollment.exited` on the bus for each.
 */
async function exitActiveEnrollments(
  em: EntityManager,
  campaignId: string,
  reason: string,
): Promise<number> {
  const exited = await queryWithParams<{ id: string; customer_id: string; at: Date }>(
    em,
    `update campaigns.campaign_enrollment
     set status = 'EXITED', exit_reason = $2, exited_at = now(), seq = seq + 1, awaiting = null,
         wake_at = null
     where campaign_id = $1 and status = 'ACTIVE'
     returning id, customer_id, exited_at as at`,
    [campaignId, reason],
  );
  addToOutbox(
    em,
    exited.map((row) => ({
      id: `enrollment:${row.id}:exited`,
      subject: CAMPAIGN_EVENTS_SUBJECT,
      data: {
        type: 'enrollment.exited',
        campaignId,
        enrollmentId: row.id,
        customerId: row.customer_id,
        reason,
        occurredAt: new Date(row.at).toISOString(),
      },
    })),
  );
  return exited.length;
}

/**
 * Launches in the caller's transaction: RUNNING, and a broadcast's audience snapshotted (refused
 * when it is empty). With an A/B test, only the test share gets variants now; the rest is HELD
 * until analytics has decided. A local-time broadcast gives each enrolment its customer's moment.
 */
export async function launchIn(em: EntityManager, id: string, viewer: Identity): Promise<Campaign> {
  const campaign = await lockCampaign(em, id);
  const from = campaign.status;
  campaign.status = transition(campaign.status, 'launch');
  const now = new Date();
  campaign.launchedAt = now;
  campaign.updatedAt = now;
  const changes: Record<string, unknown> = { from };
  if (campaign.kind === CampaignKind.BROADCAST) {
    if (!campaign.segmentId) throw new ConflictError('a broadcast needs a segment to launch');
    const variants = await em.find(
      CampaignVariant,
      { campaign: campaign.id },
      { orderBy: { position: 'asc' } },
    );
    const total = variants.reduce((sum, v) => sum + v.weight, 0);
    let upper = 0;
    const bounds = variants.map((v) => ({
      id: v.id,
      lower: upper,
      upper: (upper += v.weight / total),
    }));
    bounds[bounds.length - 1]!.upper = 1.000001;
    const testFraction = campaign.abTest ? campaign.abTest.testFraction : 1;
    const local =
      campaign.scheduledLocal && campaign.scheduledAt
        ? campaign.scheduledAt.toISOString().slice(0, 19).replace('T', ' ')
        : null;
    // The audience is the segment's members now. Each gets a variant by a hash of campaign and
    // customer (deterministic, in proportion to the weights); in an A/B test a second hash puts
    // `testFraction` of them in the test, the others wait (HELD).
    const rows = await queryWithParams<{ status: string; n: number }>(
      em,
      `with snapshot as (
         insert into campaigns.campaign_enrollment (id, campaign_id, customer_id, entry_key, variant_id,
           status, current_step, entered_at, wake_at)
         select gen_random_uuid(), $1::uuid, m.customer_id, 'broadcast',
           case when h.held then null else b.id end,
           case when h.held then 'HELD' else 'ACTIVE' end,
           case when h.held then 'held for the A/B decision' else 'queued' end, $4::timestamptz,
           case when $6::timestamp is null then null
                else $6::timestamp at time zone coalesce(c.timezone, $7) end
         from campaigns.segment_member m
         cross join lateral (select
           (('x' || substr(md5($1::text || ':' || m.customer_id), 1, 8))::bit(32)::bigint / 4294967296.0) as draw,
           (('x' || substr(md5($1::text || ':test:' || m.customer_id), 1, 8))::bit(32)::bigint / 4294967296.0) >= $5::float8 as held) h
         join jsonb_to_recordset($3::jsonb) as b(id uuid, lower float8, upper float8)
           on h.draw >= b.lower and h.draw < b.upper
         left join campaigns.automation_customer c on c.customer_id = m.customer_id
         where m.segment_id = $2::uuid and m.member
         on conflict do nothing
         returning status
       )
       select status, count(*)::int as n from snapshot group by status`,
      [
        campaign.id,
        campaign.segmentId,
        JSON.stringify(bounds),
        now.toISOString(),
        testFraction,
        local,
        DEFAULT_TIMEZONE,
      ],
    );
    const count = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
    const audience = count('ACTIVE') + count('HELD');
    if (audience === 0) {
      throw new ConflictError(
        `the audience is empty: segment ${campaign.segmentId} has no member now (or is unknown); nothing was launched`,
        { segmentId: campaign.segmentId },
      );
    }
    changes.audience = audience;
    if (campaign.abTest) {
      campaign.abState = 'TESTING';
      changes.test = count('ACTIVE');
      changes.held = count('HELD');
    }
  }
  await recordChange(em, campaign, viewer, 'launch', changes);
  return campaign;
}

/** Timezone of customers without one, for local-time broadcasts (set from DEFAULT_TIMEZONE). */
let DEFAULT_TIMEZONE = 'UTC';
export function setDefaultTimezone(zone: string) {
  DEFAULT_TIMEZONE = zone;
}

export async function lockCampaign(em: EntityManager, id: string): Promise<Campaign> {
  if (!UUID.test(id)) throw new NotFoundError('Campaign', id);
  const campaign = await em.findOne(Campaign, { id }, { lockMode: 4 /* pessimistic write */ });
  if (!campaign) throw new NotFoundError('Campaign', id);
  return campaign;
}

async function checkInput(em: EntityManager, input: CampaignInputData) {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) {
    throw new InvalidInputError('must be 1 to 200 characters', 'input.name');
  }
  const automation = input.kind === CampaignKind.AUTOMATION;
  if (!automation) {
    if (input.trigger != null)
      throw new InvalidInputError('only an AUTOMATION has a trigger', 'input.trigger');
    if (input.steps != null)
      throw new InvalidInputError('only an AUTOMATION has steps', 'input.steps');
    if (!input.segmentId)
      throw new InvalidInputError('a broadcast needs a segment', 'input.segmentId');
  }
  if (input.segmentId != null && !UUID.test(input.segmentId))
    throw new InvalidInputError('must be a segment id', 'input.segmentId');
  if (input.topic != null && !TOPIC.test(input.topic)) {
    throw new InvalidInputError(
      'a topic is 1-64 lower-case letters, digits, ".", "_" or "-"',
      'input.topic',
    );
  }
  if (input.variants.length > 10 || (!automation && input.variants.length === 0)) {
    throw new InvalidInputError(
      automation ? 'at most 10 variants' : 'a broadcast has 1 to 10 variants',
      'input.variants',
    );
  }
  const stepTemplates =
    automation && Array.isArray(input.steps)
      ? (input.steps as { templateId?: unknown }[])
          .map((s) => (s && typeof s === 'object' ? s.templateId : undefined))
          .filter((t): t is string => typeof t === 'string' && UUID.test(t))
      : [];
  const versions = await queryWithParams<{ template_id: string; version: number }>(
    em,
    `select template_id, version from campaigns.template_version where template_id = any($1::uuid[])`,
    [[...input.variants.map((v) => v.templateId).filter((t) => UUID.test(t)), ...stepTemplates]],
  );
  const byTemplate = new Map(versions.map((v) => [v.template_id, v.version]));
  const variants = input.variants.map((v, i) => {
    if (!Number.isFinite(v.weight) || v.weight <= 0 || v.weight > 1_000) {
      throw new InvalidInputError(
        'must be a number above 0 (up to 1000)',
        `input.variants[${i}].weight`,
      );
    }
    if (v.name.trim().length === 0 || v.name.length > 100) {
      throw new InvalidInputError('must be 1 to 100 characters', `input.variants[${i}].name`);
    }
    const version = byTemplate.get(v.templateId);
    if (version === undefined) {
      throw new InvalidInputError(
        `no email template with id "${v.templateId}"`,
        `input.variants[${i}].templateId`,
      );
    }
    return { ...v, name: v.name.trim(), templateVersion: version };
  });
  let trigger: unknown = null;
  let steps: Step[] | null = null;
  if (automation) {
    const workflow = parseAutomation(input.trigger, input.steps, byTemplate);
    trigger = workflow.trigger;
    steps = workflow.steps;
    const usesVariants = steps.findIndex((s) => s.type === 'sendEmail' && !s.templateId);
    if (usesVariants >= 0 && variants.length === 0) {
      throw new InvalidInputError(
        `step "${steps[usesVariants]!.id}" sends the campaign's variant, but the campaign has no variant: add one or give the step a templateId`,
        'input.variants',
      );
    }
  }
  return { name, variants, trigger, steps, abTest: checkAbTest(input, variants.length) };
}

function checkAbTest(input: CampaignInputData, variantCount: number): AbTestSettings | null {
  const ab = input.abTest;
  if (ab == null) return null;
  if (variantCount < 2)
    throw new InvalidInputError('an A/B test needs at least two variants', 'input.abTest');
  if (input.kind === CampaignKind.BROADCAST && !(ab.testFraction > 0 && ab.testFraction < 1))
    throw new InvalidInputError(
      'the test share is above 0 and below 1 (the rest gets the winner)',
      'input.abTest.testFraction',
    );
  if (input.kind === CampaignKind.AUTOMATION && !(ab.testFraction > 0 && ab.testFraction <= 1))
    throw new InvalidInputError('must be above 0 and at most 1', 'input.abTest.testFraction');
  if (
    !Number.isInteger(ab.decisionDelaySeconds) ||
    ab.decisionDelaySeconds < 0 ||
    ab.decisionDelaySeconds > 30 * 86_400
  )
    throw new InvalidInputError(
      'must be 0 to 2592000 seconds (30 days)',
      'input.abTest.decisionDelaySeconds',
    );
  const confidence = ab.confidence ?? 0.95;
  if (!(confidence >= 0.5 && confidence < 1))
    throw new InvalidInputError('must be at least 0.5 and below 1', 'input.abTest.confidence');
  return {
    metric: ab.metric,
    testFraction: ab.testFraction,
    decisionDelaySeconds: ab.decisionDelaySeconds,
    confidence,
    fallback: ab.fallback ?? AbFallback.CONTROL,
  };
}

function addVariants(
  em: EntityManager,
  campaign: Campaign,
  variants: { name: string; weight: number; templateId: string; templateVersion: number }[],
) {
  variants.forEach((v, position) =>
    em.persist(
      em.create(CampaignVariant, {
        id: crypto.randomUUID(),
        campaign,
        position,
        name: v.name,
        weight: v.weight,
        templateId: v.templateId,
        templateVersion: v.templateVersion,
      }),
    ),
  );
}

/**
 * Records a change in the caller's transaction: an audit entry (who, what, when), the next
 * version, and `campaign.changed` on the bus through the outbox. Flushes.
 */
export async function recordChange(
  em: EntityManager,
  campaign: Campaign,
  viewer: Identity,
  action: string,
  changes: Record<string, unknown>,
): Promise<void> {
  campaign.version += 1;
  em.persist(
    em.create(CampaignAuditEntry, { campaign, actor: viewer.sub, action, changes, at: new Date() }),
  );
  await em.flush();
  const variants = await em.find(
    CampaignVariant,
    { campaign: campaign.id },
    { orderBy: { position: 'asc' } },
  );
  const event: CampaignChanged = {
    type: 'campaign.changed',
    campaignId: campaign.id,
    version: campaign.version,
    name: campaign.name,
    kind: campaign.kind,
    status: campaign.status,
    variants: variants.map((v) => ({ id: v.id, name: v.name, weight: v.weight })),
    abTest: campaign.abTest
      ? {
          metric: campaign.abTest.metric,
          testFraction: campaign.abTest.testFraction,
          decisionDelaySeconds: campaign.abTest.decisionDelaySeconds,
          confidence: campaign.abTest.confidence,
        }
      : null,
    launchedAt: campaign.launchedAt?.toISOString() ?? null,
    changedAt: campaign.updatedAt.toISOString(),
  };
  addToOutbox(em, [
    {
      id: `campaign:${campaign.id}:${campaign.version}`,
      subject: CAMPAIGN_EVENTS_SUBJECT,
      data: event,
    },
  ]);
  await em.flush();
}

function summary(input: CampaignInputData) {
  return {
    name: input.name,
    kind: input.kind,
    segmentId: input.segmentId ?? null,
    topic: input.topic ?? null,
    variants: input.variants,
    abTest: input.abTest ?? null,
    trigger: input.trigger ?? null,
    steps: input.steps ?? null,
  };
}
