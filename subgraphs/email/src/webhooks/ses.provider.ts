/**
 * Amazon SES bounce, complaint and delivery notifications, as SNS delivers them: the envelope's
 * `Message` is the SES notification as a JSON string (`notificationType` for identity
 * notifications, `eventType` for configuration-set event publishing). A hard bounce is SES's
 * `Permanent`; `Transient` and `Undetermined` are soft, and so is a `DeliveryDelay`. Our own
 * Message-ID is the one among the original `mail.headers`; SES's id is `providerMessageId`.
 * Other SES event types (Send, Open, Click, Reject...) and plain-text notices give no events.
 * https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html
 */
import { InvalidInputError } from '@marketing/platform';
import { z } from 'zod';
import type { SnsMessage } from './sns-message.js';
import {
  addressAt,
  compactEvent,
  instantAt,
  messageIdOf,
  parseWith,
  reasonOf,
  type WebhookEvent,
} from './webhook-event.js';

export type SesNotification =
  | { kind: 'events'; events: WebhookEvent[] }
  /** The route confirms (GET `subscribeUrl`, already checked to be SNS's) or logs it. */
  | {
      kind: 'subscription';
      type: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
      topicArn: string;
      subscribeUrl: string;
      token: string;
    };

const id = z.string().min(1).max(500);
const timestamp = z.string().min(1).max(100);
const recipient = z.object({
  emailAddress: z.string().max(1_000),
  status: z.string().max(100).nullish(),
  diagnosticCode: z.string().max(10_000).nullish(),
});
const recipients = z.array(recipient).min(1).max(1_000);
const notification = z.object({
  notificationType: z.string().optional(),
  eventType: z.string().optional(),
  mail: z.object({
    messageId: id,
    timestamp: timestamp.optional(),
    headers: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
    commonHeaders: z.object({ messageId: z.string().nullish() }).optional(),
  }),
});
const bounce = z.object({
  bounceType: z.enum(['Permanent', 'Transient', 'Undetermined']),
  bounceSubType: z.string().max(100).nullish(),
  bouncedRecipients: recipients,
  timestamp,
  feedbackId: id,
});
const complaint = z.object({
  complainedRecipients: z
    .array(recipient.pick({ emailAddress: true }))
    .min(1)
    .max(1_000),
  complaintFeedbackType: z.string().max(100).nullish(),
  timestamp,
  feedbackId: id,
});
const delivery = z.object({
  recipients: z.array(z.string().max(1_000)).min(1).max(1_000),
  smtpResponse: z.string().max(10_000).nullish(),
  timestamp,
});
const deliveryDelay = z.object({
  delayType: z.string().max(100).nullish(),
  delayedRecipients: recipients,
  timestamp,
});

/** The events of an SNS message (already authenticated) from SES, or its subscription step. */
export function parseSesNotification(message: SnsMessage): SesNotification {
  if (message.Type !== 'Notification') {
    return {
      kind: 'subscription',
      type: message.Type,
      topicArn: message.TopicArn,
      subscribeUrl: message.SubscribeURL!,
      token: message.Token!,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(message.Message);
  } catch {
    // SES's "Successfully validated SNS topic" notice and other plain text: nothing to apply.
    return { kind: 'events', events: [] };
  }
  return { kind: 'events', events: sesEvents(json).map(compactEvent) };
}

function sesEvents(json: unknown): WebhookEvent[] {
  const root = 'body.Message';
  const { notificationType, eventType, mail } = parseWith(notification, json, root);
  const type = notificationType ?? eventType;
  const section = (name: string) => (json as Record<string, unknown>)[name];
  const base = {
    provider: 'ses' as const,
    messageId: ourMessageId(mail),
    providerMessageId: mail.messageId,
  };
  const at = (path: string, value: string) => instantAt(value, `${root}.${path}`);
  switch (type) {
    case 'Bounce': {
      const b = parseWith(bounce, section('bounce'), `${root}.bounce`);
      const occurredAt = at('bounce.timestamp', b.timestamp);
      return b.bouncedRecipients.map((r, i) => {
        const email = addressAt(
          r.emailAddress,
          `${root}.bounce.bouncedRecipients[${i}].emailAddress`,
        );
        return {
          ...base,
          eventId: `${b.feedbackId}:${email.toLowerCase()}`,
          type: 'bounce',
          bounceType: b.bounceType === 'Permanent' ? 'hard' : 'soft',
          email,
          occurredAt,
          reason: reasonOf(`${b.bounceType}/${b.bounceSubType ?? ''}`, r.status, r.diagnosticCode),
        };
      });
    }
    case 'Complaint': {
      const c = parseWith(complaint, section('complaint'), `${root}.complaint`);
      const occurredAt = at('complaint.timestamp', c.timestamp);
      return c.complainedRecipients.map((r, i) => {
        const path = `${root}.complaint.complainedRecipients[${i}].emailAddress`;
        const email = addressAt(r.emailAddress, path);
        return {
          ...base,
          eventId: `${c.feedbackId}:${email.toLowerCase()}`,
          type: 'complaint',
          email,
          occurredAt,
          reason: reasonOf(c.complaintFeedbackType ?? 'complaint'),
        };
      });
    }
    case 'Delivery': {
      const d = parseWith(delivery, section('delivery'), `${root}.delivery`);
      const occurredAt = at('delivery.timestamp', d.timestamp);
      return d.recipients.map((r, i) => {
        const email = addressAt(r, `${root}.delivery.recipients[${i}]`);
        return {
          ...base,
          eventId: `${mail.messageId}:delivery:${email.toLowerCase()}`,
          type: 'delivery',
          email,
          occurredAt,
          reason: reasonOf(d.smtpResponse),
        };
      });
    }
    case 'DeliveryDelay': {
      const d = parseWith(deliveryDelay, section('deliveryDelay'), `${root}.deliveryDelay`);
      const occurredAt = at('deliveryDelay.timestamp', d.timestamp);
      return d.delayedRecipients.map((r, i) => {
        const path = `${root}.deliveryDelay.delayedRecipients[${i}].emailAddress`;
        const email = addressAt(r.emailAddress, path);
        return {
          ...base,
          eventId: `${mail.messageId}:delay:${occurredAt}:${email.toLowerCase()}`,
          type: 'bounce',
          bounceType: 'soft',
          email,
          occurredAt,
          reason: reasonOf(`DeliveryDelay/${d.delayType ?? ''}`, r.status, r.diagnosticCode),
        };
      });
    }
    case undefined:
      throw new InvalidInputError('notificationType or eventType is required', root);
    default:
      return [];
  }
}

/** Our Message-ID among the headers as sent (SES may replace it on the wire). */
function ourMessageId(mail: z.output<typeof notification>['mail']): string | undefined {
  const header = mail.headers?.find((h) => h.name.toLowerCase() === 'message-id');
  return messageIdOf(header?.value) ?? messageIdOf(mail.commonHeaders?.messageId);
}
