/**
 * What each kind of destination receives for one event:
 * - WEBHOOK: the event as JSON, signed `X-Marketing-Signature: t=<unix seconds>,v1=<hex
 *   HMAC-SHA256(secret, "<t>.<body>")>`; `t` is the attempt's time, so receivers refuse stale
 *   (replayed) requests, and `id` de-duplicates retries.
 * - SEGMENT: a `track` call of the HTTP Tracking API at `{url}/v1/track`, Basic auth with the write
 *   key (the secret) as user name; `messageId` is the event id (Segment de-duplicates on it).
 * - GA4: a Measurement Protocol hit at `{url}&api_secret=<secret>`; the url carries measurement_id.
 */
import { createHmac } from 'node:crypto';
import { DestinationKind, type ForwardedEvent } from './destination.entity.js';
import type { PostRequest } from './destination.http.js';

export interface DestinationTarget {
  kind: DestinationKind;
  url: string;
  secret: string;
}

export const SIGNATURE_HEADER = 'x-marketing-signature';

export function buildRequest(
  target: DestinationTarget,
  event: ForwardedEvent,
  now = new Date(),
): PostRequest {
  switch (target.kind) {
    case DestinationKind.WEBHOOK:
      return webhookRequest(target, event, now);
    case DestinationKind.SEGMENT:
      return segmentRequest(target, event);
    case DestinationKind.GA4:
      return ga4Request(target, event);
  }
}

/** `t=<unix>,v1=<hex>` over `<unix>.<body>`. */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

function webhookRequest(target: DestinationTarget, event: ForwardedEvent, now: Date): PostRequest {
  const body = JSON.stringify(event);
  const t = Math.floor(now.getTime() / 1000);
  return {
    url: target.url,
    body,
    headers: {
      [SIGNATURE_HEADER]: signWebhook(target.secret, body, t),
      'x-marketing-event-id': event.id,
      'x-marketing-event-type': event.type,
    },
  };
}

/** Segment's Email spec names for the email events; other marketing events in Title Case. */
const SEGMENT_NAMES: Record<string, string> = {
  'email.sent': 'Email Sent',
  'email.delivered': 'Email Delivered',
  'email.deferred': 'Email Deferred',
  'email.bounced': 'Email Bounced',
  'email.opened': 'Email Opened',
  'email.clicked': 'Email Link Clicked',
  'email.unsubscribed': 'Unsubscribed',
  'email.complained': 'Email Marked as Spam',
};

export function segmentEventName(type: string): string {
  if (SEGMENT_NAMES[type]) return SEGMENT_NAMES[type];
  if (!/^[a-z]+(\.[a-z_]+)+$/.test(type)) return type;
  return type
    .split(/[._]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

function segmentRequest(target: DestinationTarget, event: ForwardedEvent): PostRequest {
  const body = {
    type: 'track',
    messageId: event.id,
    event: segmentEventName(event.type),
    properties: event.properties,
    timestamp: event.occurredAt,
    context: { library: { name: 'marketing-platform', version: '1' } },
    ...(event.customerId ? { userId: event.customerId } : { anonymousId: event.id }),
  };
  return {
    url: `${target.url.replace(/\/+$/, '')}/v1/track`,
    body: JSON.stringify(body),
    headers: { authorization: `Basic ${Buffer.from(`${target.secret}:`).toString('base64')}` },
  };
}

/** GA4 event names: letters, digits and underscores, starting with a letter, at most 40. */
export function ga4EventName(type: string): string {
  if (type === 'Order Completed') return 'purchase';
  if (type === 'Order Refunded') return 'refund';
  const name = type
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
  return (/^[a-z]/.test(name) ? name : `event_${name}`).slice(0, 40);
}

/** Scalar properties only (GA4 params are strings and numbers), at most 25, strings to 100. */
function ga4Params(event: ForwardedEvent): Record<string, string | number> {
  const params: Record<string, string | number> = {};
  const p = event.properties;
  if (event.type === 'Order Completed' || event.type === 'Order Refunded') {
    if (p.order_id !== undefined) params.transaction_id = String(p.order_id);
    const value = Number(p.revenue ?? p.total);
    if (Number.isFinite(value)) params.value = value;
    if (typeof p.currency === 'string') params.currency = p.currency;
  }
  for (const [key, value] of Object.entries(p)) {
    if (Object.keys(params).length >= 24) break;
    const name = key.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40);
    if (!/^[A-Za-z]/.test(name) || name in params) continue;
    if (typeof value === 'number' && Number.isFinite(value)) params[name] = value;
    else if (typeof value === 'string') params[name] = value.slice(0, 100);
    else if (typeof value === 'boolean') params[name] = value ? 1 : 0;
  }
  params.event_id = event.id.slice(0, 100);
  return params;
}

function ga4Request(target: DestinationTarget, event: ForwardedEvent): PostRequest {
  const url = new URL(target.url);
  url.searchParams.set('api_secret', target.secret);
  const micros = Date.parse(event.occurredAt) * 1000;
  const body = {
    // No browser cookie here: the customer id stands in for the client id too.
    client_id: event.customerId ?? event.id,
    ...(event.customerId ? { user_id: event.customerId } : {}),
    ...(Number.isFinite(micros) ? { timestamp_micros: micros } : {}),
    events: [{ name: ga4EventName(event.type), params: ga4Params(event) }],
  };
  return { url: url.toString(), body: JSON.stringify(body), headers: {} };
}
