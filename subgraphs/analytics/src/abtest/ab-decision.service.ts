/**
 * Answers the Campaign Manager's `abtest.decision.requested`: the statistics of the requested
 * metric at the requested confidence over the variants in the requested order (the first is the
 * control), recorded in `ab_decision` and published as `abtest.decided` through the outbox in the
 * same transaction. A request id is answered once, however often it arrives.
 */
import {
  ANALYTICS_EVENTS_SUBJECT,
  abDecisionSchema,
  addToOutbox,
  parseEvent,
  queryWithParams,
  type AbDecision,
  type AbDecisionRequested,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CampaignSnapshot } from '../campaign/campaign-snapshot.entity.js';
import { bestVariantId, evaluateAbTest, loadArmCounts, variantLabel } from './ab-test.service.js';

/** Decides each request (within the caller's transaction); returns the answers newly recorded. */
export async function answerDecisionRequests(
  em: EntityManager,
  requests: AbDecisionRequested[],
  now = new Date(),
): Promise<AbDecision[]> {
  const unique = [...new Map(requests.map((r) => [r.requestId, r])).values()];
  if (unique.length === 0) return [];
  const campaignIds = [...new Set(unique.map((r) => r.campaignId))];
  const counts = await loadArmCounts(em, campaignIds);
  const names = await variantNames(em, campaignIds);

  const answers = unique.map((request): AbDecision => {
    const variantIds = [...new Set(request.variantIds)];
    const campaignNames = names.get(request.campaignId);
    const decision = evaluateAbTest(
      request.metric,
      request.confidence,
      variantIds,
      counts.get(request.campaignId) ?? [],
      campaignNames,
    );
    const best = bestVariantId(decision);
    const bestSoFar = best ? variantLabel(best, campaignNames) : 'none, nothing was delivered yet';
    return parseEvent(
      abDecisionSchema,
      {
        type: 'abtest.decided',
        requestId: request.requestId,
        campaignId: request.campaignId,
        metric: request.metric,
        winnerVariantId: decision.winnerVariantId,
        bestVariantId: best,
        reason: decision.decided
          ? decision.reason
          : `${decision.reason}; best so far: ${bestSoFar}`,
        decidedAt: now.toISOString(),
      },
      request.requestId,
    );
  });

  const recorded = await queryWithParams<{ request_id: string }>(
    em,
    `insert into analytics.ab_decision (request_id, campaign_id, metric, confidence, variant_ids,
       winner_variant_id, best_variant_id, reason, decided_at)
     select request_id, campaign_id, metric, confidence, variant_ids, winner_variant_id,
       best_variant_id, reason, decided_at
     from jsonb_to_recordset($1::jsonb) as r(request_id uuid, campaign_id uuid, metric text,
       confidence float8, variant_ids jsonb, winner_variant_id uuid, best_variant_id uuid, reason text,
       decided_at timestamptz)
     on conflict (request_id) do nothing
     returning request_id`,
    [
      JSON.stringify(
        answers.map((a, k) => ({
          request_id: a.requestId,
          campaign_id: a.campaignId,
          metric: a.metric,
          confidence: unique[k].confidence,
          variant_ids: [...new Set(unique[k].variantIds)],
          winner_variant_id: a.winnerVariantId,
          best_variant_id: a.bestVariantId,
          reason: a.reason,
          decided_at: a.decidedAt,
        })),
      ),
    ],
  );
  const fresh = new Set(recorded.map((r) => r.request_id.toLowerCase()));
  const published = answers.filter((a) => fresh.has(a.requestId.toLowerCase()));
  addToOutbox(
    em,
    published.map((a) => ({
      id: `abtest.decided:${a.requestId}`,
      subject: ANALYTICS_EVENTS_SUBJECT,
      data: a,
    })),
  );
  await em.flush();
  return published;
}

async function variantNames(em: EntityManager, campaignIds: string[]) {
  const snapshots = await em.find(CampaignSnapshot, { campaignId: { $in: campaignIds } });
  return new Map(
    snapshots.map((s) => [s.campaignId, new Map(s.variants.map((v) => [v.id, v.name]))]),
  );
}
