/**
 * SendGrid's Event Webhook: a JSON array of events, authenticated by the Signed Event Webhook,
 * an ECDSA P-256 / SHA-256 signature (base64 DER) of `timestamp + raw body`, with the
 * verification key from SendGrid's settings (base64 DER SubjectPublicKeyInfo).
 *
 * Mapping: `bounce` is a hard bounce, or soft with `type: blocked`; `deferred` is a soft bounce;
 * `dropped` is a hard bounce for an invalid or already bounced address, a complaint for an address
 * that reported spam, else soft; `spamreport` is a complaint; `delivered` a delivery. Other
 * events (processed, open, click, unsubscribe...) give nothing. `smtp-id` is our Message-ID.
 * https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { InvalidInputError } from '@marketing/platform';
import { z } from 'zod';
import {
  addressAt,
  compactEvent,
  instantAt,
  messageIdOf,
  parseWith,
  reasonOf,
  type WebhookEvent,
} from './webhook-event.js';

export const SENDGRID_SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const SENDGRID_TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

const MAPPED = new Set(['bounce', 'dropped', 'deferred', 'spamreport', 'delivered']);
const note = z.string().max(10_000).nullish();
const batch = z.array(z.object({ event: z.string().max(100) })).max(10_000);
const mapped = z.object({
  event: z.string(),
  email: z.string().max(1_000),
  timestamp: z.number().int(),
  sg_event_id: z.string().min(1).max(500),
  sg_message_id: z.string().max(500).nullish(),
  'smtp-id': z.string().max(1_000).nullish(),
  type: z.string().max(100).nullish(),
  reason: note,
  response: note,
  status: z.string().max(100).nullish(),
});

/** The verification key from SendGrid's settings (base64 DER SPKI, or PEM); throws if it is not P-256. */
export function sendgridPublicKey(key: string): KeyObject {
  try {
    const object = key.includes('-----BEGIN')
      ? createPublicKey(key)
      : createPublicKey({ key: Buffer.from(key, 'base64'), format: 'der', type: 'spki' });
    if (object.asymmetricKeyDetails?.namedCurve === 'prime256v1') return object;
  } catch {
    // reported below
  }
  throw new InvalidInputError('must be an ECDSA P-256 public key (base64 DER)', 'publicKey');
}

/**
 * True only when `signature` (the signature header) verifies `timestamp` (the timestamp header)
 * followed by the raw body with `publicKey`; with `maxAgeSeconds`, the timestamp must also be that
 * recent. Never throws.
 */
export function verifySendgridSignature(
  publicKey: string | KeyObject,
  signature: string | null | undefined,
  timestamp: string | null | undefined,
  rawBody: string | Uint8Array,
  options: { maxAgeSeconds?: number; now?: number } = {},
): boolean {
  try {
    if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
    if (options.maxAgeSeconds !== undefined) {
      const age = (options.now ?? Date.now()) / 1_000 - Number(timestamp);
      if (Math.abs(age) > options.maxAgeSeconds) return false;
    }
    const key = typeof publicKey === 'string' ? sendgridPublicKey(publicKey) : publicKey;
    const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
    return verify(
      'sha256',
      Buffer.concat([Buffer.from(timestamp, 'utf8'), body]),
      { key, dsaEncoding: 'der' },
      Buffer.from(signature.trim(), 'base64'),
    );
  } catch {
    return false;
  }
}

/** The bounce, complaint and delivery events of a (verified) Event Webhook body. */
export function parseSendgridEvents(body: unknown): WebhookEvent[] {
  const events: WebhookEvent[] = [];
  parseWith(batch, body, 'body').forEach((item, i) => {
    if (!MAPPED.has(item.event)) return;
    const path = `body[${i}]`;
    const e = parseWith(mapped, (body as unknown[])[i], path);
    const event = {
      provider: 'sendgrid' as const,
      eventId: e.sg_event_id,
      email: addressAt(e.email, `${path}.email`),
      messageId: messageIdOf(e['smtp-id']),
      providerMessageId: e.sg_message_id ?? undefined,
      occurredAt: instantAt(e.timestamp, `${path}.timestamp`),
    };
    events.push(compactEvent({ ...event, ...classify(e) }));
  });
  return events;
}

function classify(
  e: z.output<typeof mapped>,
): Pick<WebhookEvent, 'type' | 'bounceType' | 'reason'> {
  switch (e.event) {
    case 'bounce':
      return {
        type: 'bounce',
        bounceType: e.type === 'blocked' ? 'soft' : 'hard',
        reason: reasonOf(e.type ?? 'bounce', e.status, e.reason),
      };
    case 'deferred':
      return { type: 'bounce', bounceType: 'soft', reason: reasonOf('deferred', e.response) };
    case 'dropped': {
      const reason = reasonOf('dropped', e.reason);
      if (/^spam reporting address$/i.test(e.reason ?? '')) return { type: 'complaint', reason };
      const hard = /^(bounced address|invalid)$/i.test(e.reason ?? '');
      return { type: 'bounce', bounceType: hard ? 'hard' : 'soft', reason };
    }
    case 'spamreport':
      return { type: 'complaint', reason: 'spamreport' };
    default:
      return { type: 'delivery', reason: reasonOf(e.response) };
  }
}
