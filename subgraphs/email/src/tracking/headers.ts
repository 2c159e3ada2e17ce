/**
 * The headers every marketing message carries: RFC 2369 `List-Unsubscribe` with RFC 8058's
 * one-click `List-Unsubscribe-Post`, and a Message-ID derived from the delivery's dedupe key, so
 * a retried send carries the same id and receivers (and our bounce webhooks) can match it.
 */
import { createHash } from 'node:crypto';
import { InvalidInputError } from '@marketing/platform';

export interface ComplianceHeaders {
  'List-Unsubscribe': string;
  'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click';
}

const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * `unsubscribeUrl` is the one-click URL (`POST` unsubscribes, `GET` shows the preference page);
 * RFC 8058 wants it to be https (mailbox providers ignore plain http), plain http is accepted for
 * local runs. `mailto` (an address or a `mailto:` URL) adds the RFC 2369 mail alternative.
 */
export function complianceHeaders(options: {
  unsubscribeUrl: string;
  mailto?: string;
}): ComplianceHeaders {
  const uris = [`<${httpUri(options.unsubscribeUrl)}>`];
  if (options.mailto !== undefined) uris.push(`<${mailtoUri(options.mailto)}>`);
  return {
    'List-Unsubscribe': uris.join(', '),
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}

/** `<32 hex chars@domain>`: the same dedupe key always gives the same RFC 5322 Message-ID. */
export function messageIdFor(dedupeKey: string, domain: string): string {
  if (typeof dedupeKey !== 'string' || dedupeKey.length === 0) {
    throw new InvalidInputError('must be a non-empty string', 'dedupeKey');
  }
  const host = typeof domain === 'string' ? domain.trim().toLowerCase() : '';
  if (!HOSTNAME.test(host)) throw new InvalidInputError('must be a domain name', 'domain');
  const hash = createHash('sha256').update(dedupeKey, 'utf8').digest('hex').slice(0, 32);
  return `<${hash}@${host}>`;
}

function httpUri(value: string): string {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username) {
    throw new InvalidInputError('must be an absolute http(s) URL', 'unsubscribeUrl');
  }
  // The serialisation has no spaces, controls or angle brackets; commas separate the URIs.
  return url.href.replace(/,/g, '%2C');
}

function mailtoUri(value: string): string {
  const uri = /^mailto:/i.test(value) ? `mailto:${value.slice(7)}` : `mailto:${value}`;
  const address = uri.slice(7).split('?')[0]!;
  if (!/^[^\s@<>,()"\\]+@[^\s@<>,()"\\]+$/.test(address) || /[\s<>,"\\]/.test(uri)) {
    throw new InvalidInputError('must be one address or mailto: URL', 'mailto');
  }
  return uri;
}
