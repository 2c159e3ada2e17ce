/**
 * Events the marketing services publish to one another on the bus, with their subjects and
 * validators. Consumers validate what they read: a malformed event is dead-lettered with its reason.
 */
import { z } from 'zod';

/** Email lifecycle events from the email service (`email.sent`, `email.opened`, ...). */
export const EMAIL_EVENTS_SUBJECT = 'marketing.email';
/** Model outputs from the analytics service, one message per customer and fit. */
export const PREDICTION_EVENTS_SUBJECT = 'marketing.predictions';

const isoDateTime = z.iso.datetime({ offset: true });

/** Send requests to the email service (from the Campaign Manager's broadcasts and workflows). */
export const SEND_REQUESTS_SUBJECT = 'marketing.sends';

export const sendRequestSchema = z.object({
  type: z.literal('email.send.requested'),
  /** Unique per (campaign or workflow step, customer): the same key is sent at most once. */
  dedupeKey: z.string().min(1).max(500),
  customerId: z.string().min(1),
  templateId: z.uuid(),
  /** The pinned template version; the current one when absent. */
  templateVersion: z.number().int().positive().optional(),
  campaignId: z.uuid().nullish(),
  variantId: z.uuid().nullish(),
  /** Subscription topic: customers unsubscribed from it are skipped. */
  topic: z.string().min(1).nullish(),
  /** Data of the triggering event, available to the template as `event`. */
  event: z.record(z.string(), z.unknown()).nullish(),
  requestedAt: isoDateTime,
});
export type SendRequest = z.infer<typeof sendRequestSchema>;

/** Template versions saved in the email service (campaigns pin them). */
export const TEMPLATE_EVENTS_SUBJECT = 'marketing.templates';

export const templateSavedSchema = z.object({
  type: z.literal('template.saved'),
  templateId: z.uuid(),
  version: z.number().int().positive(),
  name: z.string(),
  savedAt: isoDateTime,
});
export type TemplateSaved = z.infer<typeof templateSavedSchema>;

/** Segment membership changes from the segments service. */
export const SEGMENT_EVENTS_SUBJECT = 'marketing.segments';

export const segmentMembershipEventSchema = z.object({
  type: z.enum(['segment.entered', 'segment.exited']),
  segmentId: z.uuid(),
  segmentName: z.string(),
  customerId: z.string().min(1),
  occurredAt: z.string(),
  reason: z.string(),
});
export type SegmentMembershipEvent = z.infer<typeof segmentMembershipEventSchema>;

export const EMAIL_EVENT_TYPES = [
  'email.sent',
  'email.delivered',
  'email.deferred',
  'email.bounced',
  'email.opened',
  'email.clicked',
  'email.unsubscribed',
  'email.complained',
] as const;

export const emailEventSchema = z.object({
  type: z.enum(EMAIL_EVENT_TYPES),
  customerId: z.string().min(1),
  deliveryId: z.uuid().optional(),
  campaignId: z.uuid().nullish(),
  variantId: z.uuid().nullish(),
  occurredAt: isoDateTime,
  /** For opens and clicks: whether it is the delivery's first. */
  unique: z.boolean().optional(),
  /** For clicks: the link's index in the message. */
  linkIndex: z.number().int().nonnegative().optional(),
});
export type EmailEvent = z.infer<typeof emailEventSchema>;

export const predictionEventSchema = z.object({
  type: z.literal('prediction.updated'),
  customerId: z.string().min(1),
  probabilityAlive: z.number().finite().nullable(),
  churnRisk: z.number().finite().nullable(),
  expectedPurchases90d: z.number().finite().nullable(),
  predictedClv365d: z.number().finite().nullable(),
  predictedAt: isoDateTime,
});
export type PredictionEvent = z.infer<typeof predictionEventSchema>;

/** Parses `data` with `schema`, or throws an error naming every problem (the dead-letter reason). */
export function parseEvent<T>(schema: z.ZodType<T>, data: unknown, id: string): T {
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new Error(
      `invalid event ${id}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'} ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
}

/** Campaign and enrolment changes from the Campaign Manager, and its requests to analytics. */
export const CAMPAIGN_EVENTS_SUBJECT = 'marketing.campaigns';

export const AB_METRICS = ['OPEN', 'CLICK', 'CONVERSION', 'REVENUE'] as const;

export const abTestSettingsSchema = z.object({
  metric: z.enum(AB_METRICS),
  testFraction: z.number().gt(0).lte(1),
  decisionDelaySeconds: z.number().int().nonnegative(),
  confidence: z.number().gt(0).lt(1),
});
export type AbTestSettingsData = z.infer<typeof abTestSettingsSchema>;

/** A campaign's current shape, published on every change (consumers keep the highest `version`). */
export const campaignChangedSchema = z.object({
  type: z.literal('campaign.changed'),
  campaignId: z.uuid(),
  /** Increases with every change of the campaign. */
  version: z.number().int().nonnegative(),
  name: z.string(),
  kind: z.enum(['BROADCAST', 'AUTOMATION']),
  status: z.enum(['DRAFT', 'SCHEDULED', 'RUNNING', 'PAUSED', 'COMPLETED', 'ARCHIVED']),
  /** In order: the first is the control. */
  variants: z.array(z.object({ id: z.uuid(), name: z.string(), weight: z.number() })),
  abTest: abTestSettingsSchema.nullable(),
  launchedAt: isoDateTime.nullable(),
  changedAt: isoDateTime,
});
export type CampaignChanged = z.infer<typeof campaignChangedSchema>;

/** An enrolment's progress through a campaign (entered, each step, completed or exited). */
export const enrollmentEventSchema = z.object({
  type: z.enum([
    'enrollment.entered',
    'enrollment.step',
    'enrollment.completed',
    'enrollment.exited',
  ]),
  campaignId: z.uuid(),
  enrollmentId: z.uuid(),
  customerId: z.string().min(1),
  /** The step's id in the workflow, and its kind (wait, waitForEvent, sendEmail, ...). */
  stepId: z.string().nullish(),
  stepType: z.string().nullish(),
  /** Why an enrolment exited (goal reached, frequency cap, erased, ...). */
  reason: z.string().nullish(),
  occurredAt: isoDateTime,
});
export type EnrollmentEvent = z.infer<typeof enrollmentEventSchema>;

/** The Campaign Manager asking analytics which variant of an A/B test won. */
export const abDecisionRequestedSchema = z.object({
  type: z.literal('abtest.decision.requested'),
  requestId: z.uuid(),
  campaignId: z.uuid(),
  metric: z.enum(AB_METRICS),
  confidence: z.number().gt(0).lt(1),
  /** In order: the first is the control. */
  variantIds: z.array(z.uuid()).min(1),
  requestedAt: isoDateTime,
});
export type AbDecisionRequested = z.infer<typeof abDecisionRequestedSchema>;

/** Analytics' answers (A/B decisions). */
export const ANALYTICS_EVENTS_SUBJECT = 'marketing.analytics';

export const abDecisionSchema = z.object({
  type: z.literal('abtest.decided'),
  requestId: z.uuid(),
  campaignId: z.uuid(),
  metric: z.enum(AB_METRICS),
  /** Null when no variant beats the control at the requested confidence. */
  winnerVariantId: z.uuid().nullable(),
  /** The best variant so far (highest rate), for a "best so far" fallback. */
  bestVariantId: z.uuid().nullable(),
  reason: z.string(),
  decidedAt: isoDateTime,
});
export type AbDecision = z.infer<typeof abDecisionSchema>;

/** A GDPR erasure request, and each service's report that it has forgotten the customer. */
export const ERASURE_EVENTS_SUBJECT = 'marketing.erasure';

/** An admin's request to forget a customer everywhere (its only personal datum is the id). */
export const erasureRequestedSchema = z.object({
  type: z.literal('erasure.requested'),
  requestId: z.uuid(),
  customerId: z.string().min(1),
  /** The `sub` of the admin who asked. */
  requestedBy: z.string().min(1),
  requestedAt: isoDateTime,
});
export type ErasureRequested = z.infer<typeof erasureRequestedSchema>;

/** A service's report that it has erased the request's customer (counts of rows, no data). */
export const erasureCompletedSchema = z.object({
  type: z.literal('erasure.completed'),
  requestId: z.uuid(),
  service: z.string().min(1),
  completedAt: isoDateTime,
  counts: z.record(z.string(), z.number().int().nonnegative()).optional(),
});
export type ErasureCompleted = z.infer<typeof erasureCompletedSchema>;
