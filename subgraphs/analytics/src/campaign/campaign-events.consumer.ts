/**
 * Reads the Campaign Manager's `marketing.campaigns` subject: `campaign.changed` keeps the campaign
 * snapshot, `enrollment.*` joins the customer's journey, and `abtest.decision.requested` is
 * answered with `abtest.decided`. Every effect is idempotent by itself, so a redelivered message
 * changes nothing: the highest snapshot version wins whatever the arrival order, a touchpoint is
 * keyed by its message id, a decision by its request id. Other event types on the subject are not
 * analytics' business and are skipped.
 */
import {
  abDecisionRequestedSchema,
  CAMPAIGN_EVENTS_SUBJECT,
  campaignChangedSchema,
  enrollmentEventSchema,
  parseEvent,
  queryWithParams,
  reportDeadLetter,
  type AbDecisionRequested,
  type CampaignChanged,
  type ConsumerDeps,
  type Delivery,
  type EnrollmentEvent,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { answerDecisionRequests } from '../abtest/ab-decision.service.js';
import { touchpoints } from '../stats/stats.projection.js';

export const CAMPAIGN_EVENTS_CONSUMER = 'analytics.campaigns';

interface CampaignEvents {
  changes: CampaignChanged[];
  enrollments: (EnrollmentEvent & { id: string })[];
  decisionRequests: AbDecisionRequested[];
}

const ENROLLMENT_TYPES = new Set<string>(enrollmentEventSchema.shape.type.options);

/** Validates each message by its type; throws (dead letter) on a malformed one. */
function sortCampaignEvents(batch: Delivery<unknown>[]): CampaignEvents {
  const events: CampaignEvents = { changes: [], enrollments: [], decisionRequests: [] };
  for (const d of batch) {
    const type = (d.data as { type?: unknown } | null)?.type;
    if (typeof type !== 'string') throw new Error(`invalid event ${d.id}: type is missing`);
    if (type === 'campaign.changed') {
      events.changes.push(parseEvent(campaignChangedSchema, d.data, d.id));
    } else if (ENROLLMENT_TYPES.has(type)) {
      events.enrollments.push({ id: d.id, ...parseEvent(enrollmentEventSchema, d.data, d.id) });
    } else if (type === 'abtest.decision.requested') {
      events.decisionRequests.push(parseEvent(abDecisionRequestedSchema, d.data, d.id));
    }
  }
  return events;
}

/** Applies a batch of `marketing.campaigns` messages in the caller's transaction. */
export async function applyCampaignEvents(em: EntityManager, batch: Delivery<unknown>[]) {
  const events = sortCampaignEvents(batch);
  await applyCampaignChanges(em, events.changes);
  await touchpoints(
    em,
    events.enrollments.map((e) => ({
      id: e.id,
      type: e.type,
      customerId: e.customerId,
      occurredAt: e.occurredAt,
      campaignId: e.campaignId,
      properties: {
        enrollmentId: e.enrollmentId,
        stepId: e.stepId ?? null,
        stepType: e.stepType ?? null,
        reason: e.reason ?? null,
      },
    })),
  );
  return answerDecisionRequests(em, events.decisionRequests);
}

/** Keeps the highest version of each campaign. */
async function applyCampaignChanges(em: EntityManager, changes: CampaignChanged[]) {
  const latest = new Map<string, CampaignChanged>();
  for (const c of changes) {
    const seen = latest.get(c.campaignId);
    if (!seen || c.version > seen.version) latest.set(c.campaignId, c);
  }
  if (latest.size === 0) return;
  await queryWithParams(
    em,
    `insert into analytics.campaign_snapshot (campaign_id, version, name, kind, status, variants,
       ab_test, launched_at, changed_at)
     select campaign_id, version, name, kind, status, variants, ab_test, launched_at, changed_at
     from jsonb_to_recordset($1::jsonb) as r(campaign_id uuid, version bigint, name text, kind text,
       status text, variants jsonb, ab_test jsonb, launched_at timestamptz, changed_at timestamptz)
     on conflict (campaign_id) do update set version = excluded.version, name = excluded.name,
       kind = excluded.kind, status = excluded.status, variants = excluded.variants,
       ab_test = excluded.ab_test, launched_at = excluded.launched_at, changed_at = excluded.changed_at
     where campaign_snapshot.version < excluded.version`,
    [
      JSON.stringify(
        [...latest.values()].map((c) => ({
          campaign_id: c.campaignId,
          version: c.version,
          name: c.name,
          kind: c.kind,
          status: c.status,
          variants: c.variants,
          ab_test: c.abTest,
          launched_at: c.launchedAt,
          changed_at: c.changedAt,
        })),
      ),
    ],
  );
}

export async function startCampaignEventsConsumer(deps: ConsumerDeps) {
  return deps.bus.consume<unknown>({
    name: CAMPAIGN_EVENTS_CONSUMER,
    subjects: [CAMPAIGN_EVENTS_SUBJECT],
    batchSize: 500,
    backoffMs: deps.backoffMs,
    onDeadLetter: reportDeadLetter(CAMPAIGN_EVENTS_CONSUMER, deps),
    handle: async (batch) => {
      await deps.orm.em.fork().transactional((em) => applyCampaignEvents(em, batch));
      deps.metrics?.messages.inc(
        { stage: CAMPAIGN_EVENTS_CONSUMER, result: 'applied' },
        batch.length,
      );
    },
  });
}
