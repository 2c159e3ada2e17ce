/**
 * Signed, URL-safe tokens for the open pixel, click redirects and unsubscribe links.
 *
 * A token is `<key id>.<base64url(header | payload | mac)>`: the header byte holds the format
 * version and the kind, the payload is compact binary (a delivery id is its 16 UUID bytes) and
 * the MAC is HMAC-SHA256 truncated to 128 bits over the key id, header and payload. Tokens are
 * signed with the first key; every listed key still verifies, so a key can be rotated by putting
 * the new one first and dropping the old one once its links no longer matter.
 *
 * Only canonical encodings verify, so every change to a token's text is a different, invalid
 * token. `verify` never throws: anything malformed, tampered, of another kind or signed with an
 * unknown key is null. A click token names a link *index*; the URL stays server-side.
 */
import {
  createHash,
  createHmac,
  createSecretKey,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { InvalidInputError } from '@marketing/platform';

export interface OpenToken {
  kind: 'open';
  deliveryId: string;
}
export interface ClickToken {
  kind: 'click';
  deliveryId: string;
  linkIndex: number;
}
export interface UnsubscribeToken {
  kind: 'unsubscribe';
  customerId: string;
  deliveryId?: string;
  topic?: string;
}
export type TrackingToken = OpenToken | ClickToken | UnsubscribeToken;
export type TokenKind = TrackingToken['kind'];

/** A signing key; `id` is what tokens carry to name it (`[A-Za-z0-9_-]{1,16}`). */
export interface TokenKey {
  id: string;
  secret: string | Uint8Array;
}

export interface TokenCodec {
  /** Signs with the first key. Throws InvalidInputError for an invalid payload (our own bug). */
  sign(token: TrackingToken): string;
  /** The payload if `token` is a valid token of `kind` under any key, else null. Never throws. */
  verify<K extends TokenKind>(token: unknown, kind: K): Extract<TrackingToken, { kind: K }> | null;
}

export const MAX_LINK_INDEX = 0xffff_ffff;
/** Longest customer id and topic, in UTF-8 bytes. */
export const MAX_TOKEN_TEXT_BYTES = 255;

const VERSION = 1;
const KIND_CODES: Record<TokenKind, number> = { open: 1, click: 2, unsubscribe: 3 };
const MAC_BYTES = 16;
const MIN_SECRET_BYTES = 16;
const MAX_TOKEN_LENGTH = 1_024;
const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HAS_DELIVERY = 1;
const HAS_TOPIC = 2;
/** The customer id is a lower-case UUID, stored as its 16 bytes. */
const UUID_CUSTOMER = 4;
const LOWER_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A stable 4-character id for a secret, for configurations that list bare secrets. */
export function deriveKeyId(secret: string | Uint8Array): string {
  return createHash('sha256')
    .update('email-token-key-id\0')
    .update(secret)
    .digest()
    .subarray(0, 3)
    .toString('base64url');
}

/** Keys are bare secrets (id derived) or `{ id, secret }`; the first one signs. */
export function createTokenCodec(keys: readonly (string | TokenKey)[]): TokenCodec {
  if (keys.length === 0) throw new InvalidInputError('at least one key is needed', 'keys');
  // KeyObjects: createHmac with a Buffer key checks it against KeyObject and CryptoKey first, at
  // about 7 µs a token on Node 24 (a third of a message's tracking cost); a KeyObject is ready.
  const byId = new Map<string, KeyObject>();
  keys.forEach((key, i) => {
    const { id, secret } = typeof key === 'string' ? { id: deriveKeyId(key), secret: key } : key;
    const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    if (!KEY_ID.test(id)) {
      throw new InvalidInputError('must match [A-Za-z0-9_-]{1,16}', `keys[${i}].id`);
    }
    if (byId.has(id)) throw new InvalidInputError(`duplicate key id "${id}"`, `keys[${i}].id`);
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new InvalidInputError(
        `must be at least ${MIN_SECRET_BYTES} bytes`,
        `keys[${i}].secret`,
      );
    }
    byId.set(id, createSecretKey(bytes));
  });
  const [signingId, signingSecret] = byId.entries().next().value!;

  return {
    sign(token) {
      const signed = encode(token);
      const mac = macOf(signingSecret, signingId, signed);
      return `${signingId}.${Buffer.concat([signed, mac]).toString('base64url')}`;
    },
    verify<K extends TokenKind>(token: unknown, kind: K) {
      try {
        const signed = authenticate(byId, token);
        const decoded = signed && decode(signed);
        return decoded?.kind === kind ? (decoded as Extract<TrackingToken, { kind: K }>) : null;
      } catch {
        return null;
      }
    },
  };
}

function macOf(secret: KeyObject, keyId: string, signed: Uint8Array): Buffer {
  return createHmac('sha256', secret)
    .update(`email-token\0${keyId}\0`)
    .update(signed)
    .digest()
    .subarray(0, MAC_BYTES);
}

/** The header and payload bytes of an authentic token, or null. */
function authenticate(keys: ReadonlyMap<string, KeyObject>, token: unknown): Buffer | null {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
  const dot = token.indexOf('.');
  const keyId = token.slice(0, dot);
  const body = token.slice(dot + 1);
  const secret = dot > 0 ? keys.get(keyId) : undefined;
  if (!secret || !BASE64URL.test(body)) return null;
  const bytes = Buffer.from(body, 'base64url');
  // Canonical encodings only: unused trailing bits must be zero, so no two texts are one token.
  if (bytes.toString('base64url') !== body || bytes.length < 1 + MAC_BYTES) return null;
  const signed = bytes.subarray(0, bytes.length - MAC_BYTES);
  const given = bytes.subarray(bytes.length - MAC_BYTES);
  return timingSafeEqual(given, macOf(secret, keyId, signed)) ? signed : null;
}

function encode(token: TrackingToken): Buffer {
  const header = Buffer.of((VERSION << 4) | KIND_CODES[token.kind]);
  switch (token.kind) {
    case 'open':
      return Buffer.concat([header, uuidBytes(token.deliveryId, 'deliveryId')]);
    case 'click': {
      const { linkIndex } = token;
      if (!Number.isInteger(linkIndex) || linkIndex < 0 || linkIndex > MAX_LINK_INDEX) {
        throw new InvalidInputError(`must be an integer in 0..${MAX_LINK_INDEX}`, 'linkIndex');
      }
      return Buffer.concat([
        header,
        uuidBytes(token.deliveryId, 'deliveryId'),
        uintBytes(linkIndex),
      ]);
    }
    case 'unsubscribe': {
      const hasDelivery = token.deliveryId !== undefined;
      const hasTopic = token.topic !== undefined;
      const uuidCustomer =
        typeof token.customerId === 'string' && LOWER_UUID.test(token.customerId);
      const flags =
        (hasDelivery ? HAS_DELIVERY : 0) |
        (hasTopic ? HAS_TOPIC : 0) |
        (uuidCustomer ? UUID_CUSTOMER : 0);
      return Buffer.concat([
        header,
        Buffer.of(flags),
        ...(hasDelivery ? [uuidBytes(token.deliveryId, 'deliveryId')] : []),
        uuidCustomer
          ? uuidBytes(token.customerId, 'customerId')
          : textBytes(token.customerId, 'customerId'),
        ...(hasTopic ? [textBytes(token.topic, 'topic')] : []),
      ]);
    }
    default:
      throw new InvalidInputError('unknown token kind', 'kind');
  }
}

/** Strict inverse of `encode`: null unless `bytes` is exactly what `encode` makes. */
function decode(bytes: Buffer): TrackingToken | null {
  const header = bytes[0]!;
  if (header >> 4 !== VERSION) return null;
  const kind = (Object.keys(KIND_CODES) as TokenKind[]).find(
    (k) => KIND_CODES[k] === (header & 15),
  );
  if (kind === 'open') {
    return bytes.length === 17 ? { kind, deliveryId: uuidText(bytes.subarray(1, 17)) } : null;
  }
  if (kind === 'click') {
    const index = bytes.subarray(17);
    // Minimal big-endian: no leading zero byte, at most 4 bytes (index 0 has no bytes at all).
    if (bytes.length < 17 || index.length > 4 || index[0] === 0) return null;
    const linkIndex = index.reduce((n, b) => n * 256 + b, 0);
    return { kind, deliveryId: uuidText(bytes.subarray(1, 17)), linkIndex };
  }
  if (kind !== 'unsubscribe' || bytes.length < 3) return null;
  const flags = bytes[1]!;
  if (flags & ~(HAS_DELIVERY | HAS_TOPIC | UUID_CUSTOMER)) return null;
  let at = 2;
  const token: UnsubscribeToken = { kind, customerId: '' };
  if (flags & HAS_DELIVERY) {
    if (bytes.length < at + 16) return null;
    token.deliveryId = uuidText(bytes.subarray(at, at + 16));
    at += 16;
  }
  if (flags & UUID_CUSTOMER) {
    if (bytes.length < at + 16) return null;
    token.customerId = uuidText(bytes.subarray(at, at + 16));
    at += 16;
  } else {
    const customer = readText(bytes, at);
    // A lower-case UUID has only the compact encoding: one payload, one token.
    if (!customer || LOWER_UUID.test(customer.text)) return null;
    token.customerId = customer.text;
    at = customer.next;
  }
  if (flags & HAS_TOPIC) {
    const topic = readText(bytes, at);
    if (!topic) return null;
    token.topic = topic.text;
    at = topic.next;
  }
  return at === bytes.length ? token : null;
}

function uuidBytes(value: unknown, path: string): Buffer {
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw new InvalidInputError('must be a UUID', path);
  }
  return Buffer.from(value.replace(/-/g, ''), 'hex');
}

function uuidText(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function uintBytes(value: number): Buffer {
  const bytes: number[] = [];
  for (let n = value; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from(bytes);
}

/** Length-prefixed UTF-8; non-empty, well-formed (no lone surrogates) and short. */
function textBytes(value: unknown, path: string): Buffer {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidInputError('must be a non-empty string', path);
  }
  const bytes = encoder.encode(value);
  if (bytes.length > MAX_TOKEN_TEXT_BYTES || decoder.decode(bytes) !== value) {
    throw new InvalidInputError(
      `must be well-formed text of at most ${MAX_TOKEN_TEXT_BYTES} UTF-8 bytes`,
      path,
    );
  }
  return Buffer.concat([Buffer.of(bytes.length), bytes]);
}

function readText(bytes: Buffer, at: number): { text: string; next: number } | null {
  const length = bytes[at];
  if (!length || bytes.length < at + 1 + length) return null;
  // `fatal` makes invalid UTF-8 throw; `verify` turns that into null.
  return { text: decoder.decode(bytes.subarray(at + 1, at + 1 + length)), next: at + 1 + length };
}
