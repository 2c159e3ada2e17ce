/**
 * Creating and changing campaigns, and moving them through their lifecycle, with an audit entry
 * for every change (who, what, when). A variant pins the template version current when the
 * campaign is saved. Launching a broadcast snapshots its segment's members as enrolments; the
 * dispatcher then asks the email service for one message per enrolment.
 */
import {
  InvalidInputError,
  NotFoundError,
  queryWithParams,
  type Identity,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
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
  abTest?: unknown;
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
        createdBy: viewer.sub,
        createdAt: new Date(),
        updatedAt: new Date(),
      });
      em.persist(campaign);
      addVariants(em, campaign, checked.variants);
      audit(em, campaign, viewer, 'create', { input: summary(input) });
      await em.flush();
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
      campaign.updatedAt = new Date();
      await em.nativeDelete(CampaignVariant, { campaign: campaign.id });
      addVariants(em, campaign, checked.variants);
      audit(em, campaign, viewer, 'update', { input: summary(input) });
      await em.flush();
      return campaign;
    });
  }

  async schedule(id: string, at: Date, viewer: Identity): Promise<Campaign> {
    if (Number.isNaN(at.getTime()) || at.getTime() <= Date.now()) {
      throw new InvalidInputError('must be in the future', 'at');
    }
    return this.em.transactional(async (em) => {
      const campaign = await lockCampaign(em, id);
      campaign.status = transition(campaign.status, 'schedule');
      campaign.scheduledAt = at;
      campaign.updatedAt = new Date();
      audit(em, campaign, viewer, 'schedule', { at: at.toISOString() });
      await em.flush();
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
    return this.em.transactional(async (em) => {
      const campaign = await lockCampaign(em, id);
      const from = campaign.status;
      campaign.status = transition(campaign.status, action);
      if (action === 'complete') campaign.completedAt = new Date();
      campaign.updatedAt = new Date();
      audit(em, campaign, viewer, action, { from, to: campaign.status });
      await em.flush();
      return campaign;
    });
  }
}

/** Launches in the caller's transaction: RUNNING, and the broadcast audience snapshotted. */
export async function launchIn(em: EntityManager, id: string, viewer: Identity): Promise<Campaign> {
  const campaign = await lockCampaign(em, id);
  const from = campaign.status;
  campaign.status = transition(campaign.status, 'launch');
  const now = new Date();
  campaign.launchedAt = now;
  campaign.updatedAt = now;
  let audience = 0;
  if (campaign.kind === CampaignKind.BROADCAST) {
    const variants = await em.find(
      CampaignVariant,
      { campaign: campaign.id },
      { orderBy: { position: 'asc' } },
    );
    const total = variants.reduce((sum, v) => sum + v.weight, 0);
    let upper = 0;
    const bounds = variants.map((v) => ({ id: v.id, upper: (upper += v.weight / total) }));
    bounds[bounds.length - 1]!.upper = 1.000001;
    // The audience is the segment's members now; each gets a variant by a hash of campaign and
    // customer (deterministic, in proportion to the weights).
    const [row] = await queryWithParams<{ n: number }>(
      em,
      `with snapshot as (
         insert into campaigns.campaign_enrollment (id, campaign_id, customer_id, entry_key, variant_id,
           status, current_step, entered_at)
         select gen_random_uuid(), $1::uuid, m.customer_id, 'broadcast',
           (select (b->>'id')::uuid from jsonb_array_elements($3::jsonb) b
            where (b->>'upper')::float8 > (('x' || substr(md5($1::text || ':' || m.customer_id), 1, 8))::bit(32)::bigint / 4294967296.0)
            order by (b->>'upper')::float8 limit 1),
           'ACTIVE', 'queued', $4::timestamptz
         from campaigns.segment_member m
         where m.segment_id = $2::uuid and m.member
         on conflict do nothing
         returning 1
       )
       select count(*)::int as n from snapshot`,
      [campaign.id, campaign.segmentId, JSON.stringify(bounds), now.toISOString()],
    );
    audience = row!.n;
  }
  audit(em, campaign, viewer, 'launch', { from, audience });
  await em.flush();
  return campaign;
}

async function lockCampaign(em: EntityManager, id: string): Promise<Campaign> {
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
  if (input.kind === CampaignKind.AUTOMATION || input.trigger != null || input.steps != null) {
    throw new InvalidInputError(
      'automations (trigger and steps) are not available yet; create a BROADCAST',
      input.kind === CampaignKind.AUTOMATION
        ? 'input.kind'
        : input.trigger != null
          ? 'input.trigger'
          : 'input.steps',
    );
  }
  if (input.abTest != null) {
    throw new InvalidInputError('A/B tests are not available yet', 'input.abTest');
  }
  if (!input.segmentId)
    throw new InvalidInputError('a broadcast needs a segment', 'input.segmentId');
  if (!UUID.test(input.segmentId))
    throw new InvalidInputError('must be a segment id', 'input.segmentId');
  if (input.topic != null && !TOPIC.test(input.topic)) {
    throw new InvalidInputError(
      'a topic is 1-64 lower-case letters, digits, ".", "_" or "-"',
      'input.topic',
    );
  }
  if (input.variants.length === 0 || input.variants.length > 10) {
    throw new InvalidInputError('a campaign has 1 to 10 variants', 'input.variants');
  }
  const versions = await queryWithParams<{ template_id: string; version: number }>(
    em,
    `select template_id, version from campaigns.template_version where template_id = any($1::uuid[])`,
    [input.variants.map((v) => v.templateId).filter((t) => UUID.test(t))],
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
  return { name, variants };
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

export function audit(
  em: EntityManager,
  campaign: Campaign,
  viewer: Identity,
  action: string,
  changes: Record<string, unknown>,
) {
  em.persist(
    em.create(CampaignAuditEntry, { campaign, actor: viewer.sub, action, changes, at: new Date() }),
  );
}

function summary(input: CampaignInputData) {
  return {
    name: input.name,
    kind: input.kind,
    segmentId: input.segmentId ?? null,
    topic: input.topic ?? null,
    variants: input.variants,
  };
}
