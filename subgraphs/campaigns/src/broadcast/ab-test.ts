/**
 * Test-then-winner for broadcasts. At launch a share of the audience (`testFraction`) gets the
 * variants and the rest is HELD. Once the test share has been requested, the campaign WAITs
 * `decisionDelaySeconds`, then asks analytics (`abtest.decision.requested` on the bus) for the
 * decision on the test's metric at its confidence. The answer (`abtest.decided`) releases the held
 * customers with the winner, or, when no variant won, with the configured fallback (the control or
 * the best so far), and the outcome and its reason are recorded on the campaign and in its audit
 * trail. If analytics does not answer in time, the fallback is used and the reason says so.
 */
import {
  ANALYTICS_EVENTS_SUBJECT,
  abDecisionSchema,
  addToOutbox,
  CAMPAIGN_EVENTS_SUBJECT,
  parseEvent,
  queryWithParams,
  reportDeadLetter,
  type AbDecision,
  type AbDecisionRequested,
  type ConsumerDeps,
  type Identity,
} from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { AbFallback, Campaign, CampaignVariant } from '../campaign/campaign.entity.js';
import { lockCampaign, recordChange } from '../campaign/campaign.service.js';

export const AB_DECISIONS_CONSUMER = 'campaigns.ab-decisions';
/** How long to wait for analytics' answer before falling back. */
export const AB_ANSWER_TIMEOUT_MS = 10 * 60_000;

/** Moves every broadcast A/B test whose phase is due to the next one (a dispatcher tick). */
export async function advanceAbTests(em: EntityManager, system: Identity): Promise<void> {
  // The test share is out: wait the decision delay.
  const tested = await queryWithParams<{ id: string }>(
    em,
    `select c.id from campaigns.campaign c
     where c.status = 'RUNNING' and c.ab_state = 'TESTING'
       and not exists (select 1 from campaigns.campaign_enrollment e
                       where e.campaign_id = c.id and e.entry_key = 'broadcast' and e.status = 'ACTIVE')`,
    [],
  );
  for (const { id } of tested) {
    const campaign = await lockCampaign(em, id);
    if (campaign.abState !== 'TESTING') continue;
    campaign.abState = 'WAITING';
    campaign.abDecisionDueAt = new Date(
      Date.now() + (campaign.abTest?.decisionDelaySeconds ?? 0) * 1_000,
    );
    await recordChange(em, campaign, system, 'ab test sent', {
      decisionDueAt: campaign.abDecisionDueAt.toISOString(),
    });
  }
  // The delay is over: ask analytics.
  const due = await queryWithParams<{ id: string }>(
    em,
    `select id from campaigns.campaign
     where status = 'RUNNING' and ab_state = 'WAITING' and ab_decision_due_at <= now()`,
    [],
  );
  for (const { id } of due) {
    const campaign = await lockCampaign(em, id);
    if (campaign.abState !== 'WAITING' || !campaign.abTest) continue;
    const variants = await em.find(
      CampaignVariant,
      { campaign: id },
      { orderBy: { position: 'asc' } },
    );
    const request: AbDecisionRequested = {
      type: 'abtest.decision.requested',
      requestId: crypto.randomUUID(),
      campaignId: id,
      metric: campaign.abTest.metric,
      confidence: campaign.abTest.confidence,
      variantIds: variants.map((v) => v.id),
      requestedAt: new Date().toISOString(),
    };
    campaign.abState = 'DECIDING';
    campaign.abRequestId = request.requestId;
    addToOutbox(em, [
      { id: `abtest:${request.requestId}`, subject: CAMPAIGN_EVENTS_SUBJECT, data: request },
    ]);
    await recordChange(em, campaign, system, 'ab decision requested', {
      requestId: request.requestId,
      metric: request.metric,
      confidence: request.confidence,
    });
  }
  // No answer in time: fall back.
  const silent = await queryWithParams<{ id: string; ab_request_id: string }>(
    em,
    `select id, ab_request_id from campaigns.campaign
     where status = 'RUNNING' and ab_state = 'DECIDING'
       and ab_decision_due_at <= now() - make_interval(secs => $1::float8 / 1000)`,
    [AB_ANSWER_TIMEOUT_MS],
  );
  for (const { id, ab_request_id } of silent) {
    await applyDecision(
      em,
      id,
      ab_request_id,
      null,
      null,
      `analytics did not answer within ${AB_ANSWER_TIMEOUT_MS / 60_000} minutes`,
      system,
    );
  }
}

/** Releases the held customers with the winner or the fallback; a stale answer is ignored. */
export async function applyDecision(
  em: EntityManager,
  campaignId: string,
  requestId: string,
  winnerVariantId: string | null,
  bestVariantId: string | null,
  reason: string,
  system: Identity,
): Promise<boolean> {
  const campaign = await em.findOne(Campaign, { id: campaignId }, { lockMode: 4 });
  if (!campaign || campaign.abState !== 'DECIDING' || campaign.abRequestId !== requestId)
    return false;
  const variants = await em.find(
    CampaignVariant,
    { campaign: campaignId },
    { orderBy: { position: 'asc' } },
  );
  const known = (id: string | null) => (id && variants.some((v) => v.id === id) ? id : null);
  const winner = known(winnerVariantId);
  const fallback = campaign.abTest?.fallback ?? AbFallback.CONTROL;
  const chosen =
    winner ??
    (fallback === AbFallback.BEST_SO_FAR ? known(bestVariantId) : null) ??
    variants[0]!.id;
  const [released] = await queryWithParams<{ n: number }>(
    em,
    `with released as (
       update campaigns.campaign_enrollment set status = 'ACTIVE', variant_id = $2, current_step = 'queued'
       where campaign_id = $1 and entry_key = 'broadcast' and status = 'HELD'
       returning 1)
     select count(*)::int as n from released`,
    [campaignId, chosen],
  );
  campaign.abState = 'DECIDED';
  campaign.abOutcome = {
    winnerVariantId: winner,
    sentVariantId: chosen,
    fallbackUsed: winner === null ? fallback : null,
    reason,
    released: released!.n,
    decidedAt: new Date().toISOString(),
  };
  await recordChange(em, campaign, system, 'ab decision', campaign.abOutcome);
  return true;
}

export async function startAbDecisionConsumer(deps: ConsumerDeps, system: Identity) {
  const consumer = await deps.bus.consume<unknown>({
    name: AB_DECISIONS_CONSUMER,
    subjects: [ANALYTICS_EVENTS_SUBJECT],
    batchSize: 50,
    backoffMs: deps.backoffMs,
    onDeadLetter: reportDeadLetter(AB_DECISIONS_CONSUMER, deps),
    handle: async (batch) => {
      for (const delivery of batch) {
        const data = delivery.data as { type?: unknown } | null;
        if (data?.type !== 'abtest.decided') continue; // other analytics events are not ours
        const decision: AbDecision = parseEvent(abDecisionSchema, delivery.data, delivery.id);
        // Applying is idempotent: a second copy finds the campaign DECIDED and does nothing.
        await deps.orm.em
          .fork()
          .transactional((em) =>
            applyDecision(
              em,
              decision.campaignId,
              decision.requestId,
              decision.winnerVariantId,
              decision.bestVariantId,
              decision.reason,
              system,
            ),
          );
      }
    },
  });
  return () => consumer.stop();
}
