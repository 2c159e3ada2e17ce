/**
 * A/B test figures from the delivery facts: the per-variant counts of one or many campaigns, and
 * the statistics of a metric over them.
 *
 * Exposures are the variant's deliveries that reached the inbox: delivered, or opened or clicked
 * (which proves delivery even when the delivery event is late). Every success is counted among
 * the exposures, so a rate never exceeds 1 while events from two streams arrive in any order.
 * Successes per metric: OPEN a delivery opened (a click counts as an open), CLICK a delivery
 * clicked, CONVERSION a delivery with at least one attributed order (a recipient, not an order
 * count, as the binomial model needs), REVENUE the revenue per exposed recipient (see
 * `revenue-statistics.ts`; successes are then the recipients who bought).
 */
import type { AbDecision as AbDecisionEvent } from '@marketing/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { type AbDecision, compareVariants } from './ab-statistics.js';
import { compareRevenue } from './revenue-statistics.js';

export type AbMetricName = AbDecisionEvent['metric'];

export interface ArmCounts {
  variantId: string;
  exposures: number;
  opens: number;
  clicks: number;
  converters: number;
  revenue: number;
  revenueSquares: number;
}

const noCounts = (variantId: string): ArmCounts => ({
  variantId,
  exposures: 0,
  opens: 0,
  clicks: 0,
  converters: 0,
  revenue: 0,
  revenueSquares: 0,
});

/** Every variant's counts for each campaign, in one statement. */
export async function loadArmCounts(
  em: EntityManager,
  campaignIds: readonly string[],
): Promise<Map<string, ArmCounts[]>> {
  const ids = JSON.stringify([...new Set(campaignIds)]);
  const rows = await em.execute<
    {
      campaign_id: string;
      variant_id: string;
      exposures: number;
      opens: number;
      clicks: number;
      converters: number;
      revenue: number;
      revenue_squares: number;
    }[]
  >(
    `with exposed as (
       select f.campaign_id, f.variant_id, f.first_open_at is not null as opened,
         f.first_click_at is not null as clicked, o.revenue
       from analytics.delivery_fact f
       left join (
         select delivery_id, sum(revenue)::float8 as revenue from analytics.attributed_order
         where campaign_id in (select jsonb_array_elements_text(?::jsonb)::uuid)
         group by delivery_id
       ) o on o.delivery_id = f.delivery_id
       where f.campaign_id in (select jsonb_array_elements_text(?::jsonb)::uuid)
         and f.variant_id is not null
         and (f.delivered_at is not null or f.first_open_at is not null or f.first_click_at is not null)
     )
     select campaign_id, variant_id, count(*)::int as exposures,
       (count(*) filter (where opened or clicked))::int as opens,
       (count(*) filter (where clicked))::int as clicks,
       count(revenue)::int as converters,
       coalesce(sum(revenue), 0)::float8 as revenue,
       coalesce(sum(revenue * revenue), 0)::float8 as revenue_squares
     from exposed group by campaign_id, variant_id`,
    [ids, ids],
  );
  const byCampaign = new Map<string, ArmCounts[]>(campaignIds.map((id) => [id, []]));
  for (const r of rows) {
    byCampaign.get(r.campaign_id)?.push({
      variantId: r.variant_id,
      exposures: r.exposures,
      opens: r.opens,
      clicks: r.clicks,
      converters: r.converters,
      revenue: r.revenue,
      revenueSquares: r.revenue_squares,
    });
  }
  return byCampaign;
}

/**
 * The statistics of `metric` for the variants in order (the first is the control); variants
 * without counts have none yet. `names` (variant id → name) words the reason for a marketer when
 * the names tell the variants apart. A confidence of 50% or less decides nothing.
 */
export function evaluateAbTest(
  metric: AbMetricName,
  confidence: number,
  variantIds: readonly string[],
  counts: readonly ArmCounts[],
  names?: ReadonlyMap<string, string>,
): AbDecision {
  const byId = new Map(counts.map((c) => [c.variantId, c]));
  const labels = variantIds.map((id) => names?.get(id) || id);
  const distinct = new Set(labels).size === labels.length;
  const arms = variantIds.map((id, k) => ({
    ...(byId.get(id) ?? noCounts(id)),
    variantId: distinct ? labels[k] : id,
  }));
  const usable = confidence > 0.5;
  const options = { confidence: usable ? confidence : 0.95 };
  const decision =
    metric === 'REVENUE'
      ? compareRevenue(arms, options)
      : compareVariants(
          arms.map((a) => ({
            variantId: a.variantId,
            exposures: a.exposures,
            successes: metric === 'OPEN' ? a.opens : metric === 'CLICK' ? a.clicks : a.converters,
          })),
          options,
        );
  const winner = decision.variants.findIndex((v) => v.variantId === decision.winnerVariantId);
  return {
    decided: usable && decision.decided,
    winnerVariantId: usable && winner >= 0 ? variantIds[winner] : null,
    reason: usable
      ? decision.reason
      : `a confidence of ${confidence} is not above 50%: nothing is decided at it`,
    variants: decision.variants.map((v, k) => ({ ...v, variantId: variantIds[k] })),
  };
}

/** The variant with the highest rate (the earliest on a tie), or null before any exposure. */
export function bestVariantId(decision: AbDecision): string | null {
  let best: AbDecision['variants'][number] | null = null;
  for (const v of decision.variants) {
    if (v.exposures > 0 && (best === null || v.rate > best.rate)) best = v;
  }
  return best?.variantId ?? null;
}

/** A variant's name for a reason, or its id. */
export function variantLabel(id: string, names?: ReadonlyMap<string, string>): string {
  return names?.get(id) || id;
}
