/**
 * Tracking and compliance pieces of an outgoing message: signed tokens for the open pixel, click
 * redirects and unsubscribe links; link rewriting; the RFC 8058 headers; the Message-ID.
 *
 * Tokens are `<kind><key id>.<payload>.<mac>` in base64url: an HMAC-SHA256 (truncated to 128
 * bits) over kind and payload with the current key; older keys still verify (rotation). A click
 * token names a link *index*; the URL itself is looked up server-side, so a token can never
 * redirect anywhere the message did not link to.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Parser } from 'htmlparser2';

type Kind = 'o' | 'c' | 'u';

export interface Tokens {
  open(deliveryId: string): string;
  click(deliveryId: string, linkIndex: number): string;
  unsubscribe(target: { customerId: string; deliveryId?: string | null }): string;
  verifyOpen(token: string): { deliveryId: string } | null;
  verifyClick(token: string): { deliveryId: string; linkIndex: number } | null;
  verifyUnsubscribe(token: string): { customerId: string; deliveryId: string | null } | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function createTokens(keys: string[]): Tokens {
  if (keys.length === 0) throw new Error('at least one token key is needed');
  const keyIds = keys.map((k) => createHash('sha256').update(k).digest('base64url').slice(0, 4));
  const mac = (key: string, kind: Kind, payload: string) =>
    createHmac('sha256', key).update(`${kind}.${payload}`).digest().subarray(0, 16);

  const sign = (kind: Kind, payload: string) => {
    const body = Buffer.from(payload, 'utf8').toString('base64url');
    return `${kind}${keyIds[0]}.${body}.${mac(keys[0]!, kind, payload).toString('base64url')}`;
  };

  const open = (kind: Kind, token: unknown): string | null => {
    if (typeof token !== 'string' || token.length > 512) return null;
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0]!.length !== 5 || parts[0]![0] !== kind) return null;
    const index = keyIds.indexOf(parts[0]!.slice(1));
    if (index < 0) return null;
    const payload = Buffer.from(parts[1]!, 'base64url').toString('utf8');
    // Canonical encodings only: a re-encoded payload or MAC is a different token.
    if (Buffer.from(payload, 'utf8').toString('base64url') !== parts[1]) return null;
    const given = Buffer.from(parts[2]!, 'base64url');
    if (given.toString('base64url') !== parts[2] || given.length !== 16) return null;
    return timingSafeEqual(given, mac(keys[index]!, kind, payload)) ? payload : null;
  };

  return {
    open: (deliveryId) => sign('o', deliveryId),
    click: (deliveryId, linkIndex) => sign('c', `${deliveryId}:${linkIndex}`),
    unsubscribe: ({ customerId, deliveryId }) => sign('u', `${deliveryId ?? ''}:${customerId}`),
    verifyOpen(token) {
      const payload = open('o', token);
      return payload && UUID.test(payload) ? { deliveryId: payload } : null;
    },
    verifyClick(token) {
      const payload = open('c', token);
      const m = payload ? /^([0-9a-f-]{36}):(\d{1,4})$/.exec(payload) : null;
      return m && UUID.test(m[1]!) ? { deliveryId: m[1]!, linkIndex: Number(m[2]) } : null;
    },
    verifyUnsubscribe(token) {
      const payload = open('u', token);
      if (!payload) return null;
      const cut = payload.indexOf(':');
      const deliveryId = payload.slice(0, cut);
      const customerId = payload.slice(cut + 1);
      if (cut < 0 || customerId.length === 0 || (deliveryId && !UUID.test(deliveryId))) return null;
      return { customerId, deliveryId: deliveryId || null };
    },
  };
}

export interface RewriteOptions {
  baseUrl: string;
  deliveryId: string;
  tokens: Tokens;
  /** URLs left as they are (the unsubscribe and preference links). */
  skip: string[];
}

/**
 * Rewrites every http(s) `<a href>` to a click-tracking link and adds the open pixel. Links with
 * `data-no-track` are left alone. Returns the tracked URLs by index (the same URL shares one).
 */
export function rewriteLinks(
  html: string,
  options: RewriteOptions,
): { html: string; links: string[] } {
  const links: string[] = [];
  const edits: { start: number; end: number; text: string }[] = [];
  let closeBody = -1;
  const parser: Parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name !== 'a') return;
        const href = attributes.href;
        if (!href || 'data-no-track' in attributes) return;
        const url = decodeEntities(href.trim());
        if (!/^https?:\/\//i.test(url) || options.skip.includes(url)) return;
        let index = links.indexOf(url);
        if (index < 0) index = links.push(url) - 1;
        const tag = html.slice(parser.startIndex, parser.endIndex + 1);
        const tracked = `${options.baseUrl}/t/c/${options.tokens.click(options.deliveryId, index)}`;
        const rewritten = tag.replace(
          /(\shref\s*=\s*)("[^"]*"|'[^']*'|[^\s>]+)/i,
          `$1"${tracked}"`,
        );
        edits.push({ start: parser.startIndex, end: parser.endIndex + 1, text: rewritten });
      },
      onclosetag(name) {
        if (name === 'body') closeBody = parser.startIndex;
      },
    },
    { decodeEntities: false, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  const pixel = `<img src="${options.baseUrl}/t/o/${options.tokens.open(options.deliveryId)}" width="1" height="1" alt="" style="display:none">`;
  edits.push(
    closeBody >= 0
      ? { start: closeBody, end: closeBody, text: pixel }
      : { start: html.length, end: html.length, text: pixel },
  );
  let out = '';
  let at = 0;
  for (const e of edits.sort((a, b) => a.start - b.start)) {
    out += html.slice(at, e.start) + e.text;
    at = e.end;
  }
  return { html: out + html.slice(at), links };
}

/** Rewrites bare http(s) URLs of the text part, sharing indexes with the html's links. */
export function rewriteTextLinks(
  text: string,
  options: RewriteOptions & { links: string[] },
): string {
  return text.replace(/https?:\/\/[^\s<>"\]]+/g, (url) => {
    if (options.skip.includes(url)) return url;
    let index = options.links.indexOf(url);
    if (index < 0) index = options.links.push(url) - 1;
    return `${options.baseUrl}/t/c/${options.tokens.click(options.deliveryId, index)}`;
  });
}

/** RFC 2369 / RFC 8058 headers every marketing message carries. */
export function complianceHeaders(options: { unsubscribeUrl: string }): Record<string, string> {
  return {
    'List-Unsubscribe': `<${options.unsubscribeUrl}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}

/** The same dedupe key always gives the same Message-ID, so receivers can spot a duplicate. */
export function messageIdFor(dedupeKey: string, domain: string): string {
  return `<${createHash('sha256').update(dedupeKey).digest('hex').slice(0, 32)}@${domain}>`;
}

/** RFC 8058 §3.1: the POST body is `List-Unsubscribe=One-Click`, form-encoded or multipart. */
export function isOneClickUnsubscribe(contentType: string, body: string): boolean {
  const type = contentType.toLowerCase();
  if (type.startsWith('application/x-www-form-urlencoded')) {
    return new URLSearchParams(body.trim()).get('List-Unsubscribe') === 'One-Click';
  }
  if (type.startsWith('multipart/form-data')) {
    return /name="?List-Unsubscribe"?\s*\r?\n\r?\n\s*One-Click\s*(\r?\n|$)/i.test(body);
  }
  return false;
}

function decodeEntities(value: string): string {
  return value
    .replace(/&amp;/g, '&')
    .replace(/&#x2F;/gi, '/')
    .replace(/&#47;/g, '/')
    .replace(/&quot;/g, '"');
}
