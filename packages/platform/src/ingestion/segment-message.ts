/**
 * The ingestion format (Segment HTTP Tracking API compatible): validation and normalisation of
 * identify and track messages. The gateway validates what arrives over HTTP; the profile projection
 * validates again what arrives on `ecommerce.events` from other publishers. A message either
 * normalises or yields errors, each with a path to the offending value.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const ECOMMERCE_EVENTS_SUBJECT = 'ecommerce.events';
export const MAX_MESSAGE_BYTES = 32 * 1024;
export const MAX_BATCH_BYTES = 500 * 1024;

interface BaseMessage {
  messageId: string;
  userId: string;
  /** When it happened (ISO 8601, UTC). */
  timestamp: string;
  /** When the platform received it. */
  receivedAt: string;
}
export interface IdentifyMessage extends BaseMessage {
  type: 'identify';
  traits: Record<string, unknown>;
}
export interface TrackMessage extends BaseMessage {
  type: 'track';
  event: string;
  properties: Record<string, unknown>;
}
export type IngestedMessage = IdentifyMessage | TrackMessage;

export interface MessageError {
  path: string;
  message: string;
}
export type ParseResult =
  { ok: true; message: IngestedMessage } | { ok: false; errors: MessageError[] };

const ORDER_EVENTS = new Set(['Order Completed', 'Order Refunded']);
const idString = z
  .union([z.string(), z.number()])
  .transform(String)
  .pipe(z.string().trim().min(1).max(256));
const timestamp = z.string().refine((v) => isPlausibleTime(v), {
  message: 'must be an ISO 8601 date-time between 2000 and one day from now',
});
const record = z.record(z.string(), z.unknown());

const base = {
  userId: idString,
  messageId: idString.optional(),
  timestamp: timestamp.optional(),
};
const identifySchema = z.object({
  type: z.literal('identify'),
  ...base,
  traits: record.default({}),
});
const trackSchema = z.object({
  type: z.literal('track'),
  ...base,
  event: z.string().trim().min(1).max(200),
  properties: record.default({}),
});
const messageSchema = z.discriminatedUnion('type', [identifySchema, trackSchema]);
const orderProperties = z.object({
  order_id: idString,
  total: z.number().nonnegative().max(1e10).optional(),
  revenue: z.number().nonnegative().max(1e10).optional(),
});

function isPlausibleTime(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(value))
    return false;
  const t = Date.parse(value);
  return Number.isFinite(t) && t >= Date.UTC(2000, 0, 1) && t <= Date.now() + 86_400_000;
}

function toErrors(error: z.ZodError, prefix: string): MessageError[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))]
      .join('')
      .replace(/^\./, ''),
    message:
      issue.code === 'invalid_union' && issue.path.length === 0
        ? 'type must be "identify" or "track"'
        : issue.message,
  }));
}

/**
 * Validates one message. `type` fills in the type for /v1/identify and /v1/track; `path` prefixes
 * error paths (e.g. `batch[3]`). A missing messageId becomes a hash of the message, so an exact
 * retry is still idempotent; a missing timestamp becomes the time of receipt.
 */
export function parseSegmentMessage(
  raw: unknown,
  options: {
    type?: 'identify' | 'track';
    path?: string;
    receivedAt?: Date;
    /** Off where messages were accepted already (normalisation adds a few fields). */
    checkSize?: boolean;
  } = {},
): ParseResult {
  const prefix = options.path ?? '';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return {
      ok: false,
      errors: [{ path: prefix || '(message)', message: 'must be a JSON object' }],
    };
  }
  const input = options.type ? { ...raw, type: options.type } : raw;
  let json: string;
  try {
    json = JSON.stringify(input);
  } catch {
    return {
      ok: false,
      errors: [{ path: prefix || '(message)', message: 'is nested too deeply' }],
    };
  }
  // PostgreSQL's jsonb cannot store NUL characters: refuse them here rather than fail later.
  if (json.includes('\\u0000')) {
    return {
      ok: false,
      errors: [{ path: prefix || '(message)', message: 'contains a NUL character (\\u0000)' }],
    };
  }
  const size = Buffer.byteLength(json);
  if (options.checkSize !== false && size > MAX_MESSAGE_BYTES) {
    return {
      ok: false,
      errors: [
        {
          path: prefix || '(message)',
          message: `is ${size} bytes; the limit is ${MAX_MESSAGE_BYTES}`,
        },
      ],
    };
  }
  const parsed = messageSchema.safeParse(input);
  if (!parsed.success) return { ok: false, errors: toErrors(parsed.error, prefix) };
  const m = parsed.data;
  if (m.type === 'track' && ORDER_EVENTS.has(m.event)) {
    const order = orderProperties.safeParse(m.properties);
    if (!order.success)
      return {
        ok: false,
        errors: toErrors(order.error, `${prefix}${prefix ? '.' : ''}properties`),
      };
  }
  // A message that already carries its time of receipt (normalised before) keeps it, so a rebuild
  // gives every message the same time as the first projection did.
  const received = (raw as { receivedAt?: unknown }).receivedAt;
  const receivedAt =
    typeof received === 'string' && isPlausibleTime(received)
      ? new Date(received).toISOString()
      : (options.receivedAt ?? new Date()).toISOString();
  const messageId =
    m.messageId ??
    `hash:${createHash('sha256').update(JSON.stringify(input)).digest('hex').slice(0, 40)}`;
  const when = m.timestamp ? new Date(m.timestamp).toISOString() : receivedAt;
  const common = { messageId, userId: m.userId, timestamp: when, receivedAt };
  return {
    ok: true,
    message:
      m.type === 'identify'
        ? { type: 'identify', ...common, traits: m.traits }
        : { type: 'track', ...common, event: m.event, properties: m.properties },
  };
}
