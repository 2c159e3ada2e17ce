/**
 * The provider-neutral shape every bounce, complaint and delivery notification is parsed into,
 * and the input checks the parsers share. Parsers throw only InvalidInputError, with the path of
 * the offending value from the request body (`body[3].email`, `body.Message.bounce.bounceType`).
 */
import { InvalidInputError } from '@marketing/platform';
import type { z } from 'zod';

export type WebhookProvider = 'ses' | 'sendgrid' | 'generic';

export interface WebhookEvent {
  provider: WebhookProvider;
  /** Unique per provider and stable across redeliveries: applying is idempotent on it. */
  eventId: string;
  type: 'bounce' | 'complaint' | 'delivery';
  /** Set on bounces only. */
  bounceType?: 'hard' | 'soft';
  email: string;
  /** Our Message-ID as sent (`<...@domain>`), when the provider reports it. */
  messageId?: string;
  /** The provider's own id of the message (SES `mail.messageId`, SendGrid `sg_message_id`). */
  providerMessageId?: string;
  /** ISO 8601, UTC. */
  occurredAt: string;
  reason?: string;
}

const MAX_REASON = 1_000;

/** The raw body as JSON; anything else is an InvalidInputError at `body`. */
export function parseJsonBody(raw: string | Uint8Array): unknown {
  try {
    return JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
  } catch {
    throw new InvalidInputError('must be JSON', 'body');
  }
}

/** zod's first issue as an InvalidInputError, its path under `root`. */
export function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  root: string,
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new InvalidInputError(issue.message, joinPath(root, issue.path));
}

export function joinPath(root: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>((at, key) => {
    if (typeof key === 'number') return `${at}[${key}]`;
    const name = String(key);
    return /^[A-Za-z_$][\w$]*$/.test(name) ? `${at}.${name}` : `${at}[${JSON.stringify(name)}]`;
  }, root);
}

/** A recipient address as providers report it (`a@b` or `Name <a@b>`), or an error at `path`. */
export function addressAt(value: string, path: string): string {
  const address = (/<([^<>]*)>\s*$/.exec(value)?.[1] ?? value).trim();
  if (address.length > 320 || !/^[^\s@]+@[^\s@]+$/.test(address)) {
    throw new InvalidInputError('must be an email address', path);
  }
  return address;
}

/** `<id>` for an RFC 5322 Message-ID with or without brackets; undefined for nothing usable. */
export function messageIdOf(value: string | null | undefined): string | undefined {
  const id = value?.trim().replace(/^<|>$/g, '');
  return id && id.length <= 995 && !/[\s<>]/.test(id) ? `<${id}>` : undefined;
}

/** An ISO timestamp or Unix seconds as ISO 8601 UTC, or an error at `path`. */
export function instantAt(value: string | number, path: string): string {
  const date = typeof value === 'number' ? new Date(value * 1_000) : new Date(value);
  const time = date.getTime();
  // Between 2000 and 2200: anything else is a unit mistake, not an event.
  if (!Number.isFinite(time) || time < 946_684_800_000 || time > 7_258_118_400_000) {
    throw new InvalidInputError('must be a valid timestamp', path);
  }
  return date.toISOString();
}

export function reasonOf(...parts: (string | null | undefined)[]): string | undefined {
  const reason = parts
    .filter((p): p is string => typeof p === 'string' && p.trim() !== '')
    .map((p) => p.trim())
    .join(': ');
  return reason ? reason.slice(0, MAX_REASON) : undefined;
}

/** The event without its undefined optional fields. */
export function compactEvent(event: WebhookEvent): WebhookEvent {
  return Object.fromEntries(
    Object.entries(event).filter(([, value]) => value !== undefined),
  ) as unknown as WebhookEvent;
}
