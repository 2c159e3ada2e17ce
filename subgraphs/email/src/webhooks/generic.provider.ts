/**
 * Our own webhook format, for relays and providers without a parser here:
 * `{ "events": [{ id, type, bounceType?, email, messageId?, occurredAt, reason? }] }`.
 *
 * Authentication: `X-Webhook-Signature: sha256=<hex>` is HMAC-SHA256 with the shared secret over
 * `<timestamp>.<raw body>`, where `<timestamp>` is the `X-Webhook-Timestamp` header (Unix
 * seconds), at most 5 minutes off. The timestamp is signed so a captured request cannot be
 * replayed later with a fresh one. Several secrets verify (rotation), and the header may carry
 * several comma-separated signatures (the sender's rotation).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { compactEvent, messageIdOf, parseWith, type WebhookEvent } from './webhook-event.js';

export const GENERIC_SIGNATURE_HEADER = 'x-webhook-signature';
export const GENERIC_TIMESTAMP_HEADER = 'x-webhook-timestamp';
export const GENERIC_TOLERANCE_SECONDS = 300;

const payload = z.object({
  events: z
    .array(
      z.object({
        id: z.string().min(1).max(200),
        type: z.enum(['bounce', 'complaint', 'delivery']),
        bounceType: z.enum(['hard', 'soft']).optional(),
        email: z.email().max(320),
        messageId: z.string().max(1_000).optional(),
        occurredAt: z.iso.datetime({ offset: true }),
        reason: z.string().max(1_000).optional(),
      }),
    )
    .min(1)
    .max(1_000),
});

/** The headers a sender adds (also what the tests and the README example use). */
export function signGenericWebhook(
  secret: string,
  rawBody: string | Uint8Array,
  timestamp = Math.floor(Date.now() / 1_000),
): Record<'X-Webhook-Signature' | 'X-Webhook-Timestamp', string> {
  return {
    'X-Webhook-Signature': `sha256=${mac(secret, String(timestamp), rawBody).toString('hex')}`,
    'X-Webhook-Timestamp': String(timestamp),
  };
}

/** True only for a fresh timestamp and a signature by one of `secrets`. Never throws. */
export function verifyGenericSignature(
  secrets: string | readonly string[],
  signature: string | null | undefined,
  timestamp: string | null | undefined,
  rawBody: string | Uint8Array,
  options: { now?: number; toleranceSeconds?: number } = {},
): boolean {
  try {
    if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp.trim())) return false;
    const age = (options.now ?? Date.now()) / 1_000 - Number(timestamp.trim());
    if (Math.abs(age) > (options.toleranceSeconds ?? GENERIC_TOLERANCE_SECONDS)) return false;
    const given = signature
      .split(',')
      .map((s) => /^\s*(?:sha256=)?([0-9a-f]{64})\s*$/i.exec(s)?.[1])
      .filter((hex): hex is string => hex !== undefined)
      .map((hex) => Buffer.from(hex, 'hex'));
    let valid = false;
    for (const secret of typeof secrets === 'string' ? [secrets] : secrets) {
      const expected = mac(secret, timestamp.trim(), rawBody);
      // Every comparison runs, so the time taken says nothing about which one matched.
      for (const candidate of given) valid = timingSafeEqual(candidate, expected) || valid;
    }
    return valid;
  } catch {
    return false;
  }
}

/** The events of a (verified) generic webhook body. */
export function parseGenericEvents(body: unknown): WebhookEvent[] {
  return parseWith(payload, body, 'body').events.map((e) =>
    compactEvent({
      provider: 'generic',
      eventId: e.id,
      type: e.type,
      bounceType: e.type === 'bounce' ? (e.bounceType ?? 'hard') : undefined,
      email: e.email,
      messageId: messageIdOf(e.messageId),
      occurredAt: new Date(e.occurredAt).toISOString(),
      reason: e.reason,
    }),
  );
}

function mac(secret: string, timestamp: string, rawBody: string | Uint8Array): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
}
