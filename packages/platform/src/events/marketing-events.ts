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
