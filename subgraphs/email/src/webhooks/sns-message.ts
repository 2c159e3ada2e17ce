/**
 * Amazon SNS HTTP(S) deliveries: the envelope and its signature. SNS signs a canonical string of
 * the envelope's fields with the key of an X.509 certificate it publishes at `SigningCertURL`
 * (RSA with SHA1 for SignatureVersion 1, SHA256 for 2). The URL must be https on an
 * `sns.<region>.amazonaws.com` host, checked before anything is fetched, and the certificate is
 * fetched by an injected function (so a route can cache it and tests can supply their own key).
 *
 * A valid signature proves SNS sent the message, not that our topic did: anyone can point their
 * own topic at the endpoint. Pass `topicArns` to accept only ours.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { InvalidInputError } from '@marketing/platform';
import { z } from 'zod';
import { parseWith } from './webhook-event.js';

export interface SnsMessage {
  Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: '1' | '2';
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  Token?: string;
  SubscribeURL?: string;
  UnsubscribeURL?: string;
}

/** Returns the PEM (certificate or public key) at an https URL; rejects on failure. */
export type CertificateFetcher = (url: string) => Promise<string | Uint8Array>;

const text = z.string().min(1).max(300_000);
const envelope = z.object({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: text,
  TopicArn: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(\.fifo)?$/, {
    message: 'must be an SNS topic ARN',
  }),
  Message: z.string().max(300_000),
  Timestamp: text,
  SignatureVersion: z.enum(['1', '2']),
  Signature: z.base64().min(1),
  SigningCertURL: text,
  Subject: z.string().nullish(),
  Token: text.optional(),
  SubscribeURL: text.optional(),
  UnsubscribeURL: text.optional(),
});

/** The SNS envelope from the parsed JSON body (Lambda's `...Url` spellings accepted too). */
export function parseSnsMessage(body: unknown): SnsMessage {
  const aliased =
    body && typeof body === 'object' && !Array.isArray(body)
      ? {
          SigningCertURL: (body as Record<string, unknown>).SigningCertUrl,
          SubscribeURL: (body as Record<string, unknown>).SubscribeUrl,
          UnsubscribeURL: (body as Record<string, unknown>).UnsubscribeUrl,
          ...body,
        }
      : body;
  const { Subject, ...message } = parseWith(envelope, aliased, 'body');
  if (message.Type !== 'Notification') {
    if (message.Token === undefined) throw new InvalidInputError('is required', 'body.Token');
    if (message.SubscribeURL === undefined || !isSnsUrl(message.SubscribeURL)) {
      throw new InvalidInputError('must be an https URL of Amazon SNS', 'body.SubscribeURL');
    }
  }
  return typeof Subject === 'string' ? { ...message, Subject } : message;
}

/** https, on `sns.<region>.amazonaws.com` (or `.com.cn`), no credentials or port. */
export function isSnsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      url.protocol === 'https:' &&
      !url.username &&
      !url.password &&
      !url.port &&
      /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(url.hostname)
    );
  } catch {
    return false;
  }
}

/** The canonical "Key\nvalue\n" string SNS signs, fields in byte order. */
export function snsStringToSign(message: SnsMessage): string {
  const keys: (keyof SnsMessage)[] =
    message.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return keys
    .filter((key) => message[key] !== undefined)
    .map((key) => `${key}\n${message[key]}\n`)
    .join('');
}

/**
 * True only for a message of an accepted topic whose signature verifies with the certificate at
 * its (checked) SigningCertURL. Never throws: fetch and key errors are `false`.
 */
export async function verifySnsSignature(
  message: SnsMessage,
  fetchCert: CertificateFetcher,
  options: { topicArns?: readonly string[] } = {},
): Promise<boolean> {
  try {
    if (options.topicArns && !options.topicArns.includes(message.TopicArn)) return false;
    const certUrl = message.SigningCertURL;
    if (!isSnsUrl(certUrl) || !new URL(certUrl).pathname.endsWith('.pem')) return false;
    const key = rsaKey(await fetchCert(certUrl));
    if (!key) return false;
    return verify(
      message.SignatureVersion === '1' ? 'sha1' : 'sha256',
      Buffer.from(snsStringToSign(message), 'utf8'),
      key,
      Buffer.from(message.Signature, 'base64'),
    );
  } catch {
    return false;
  }
}

/** Memoises a fetcher by URL (at most `maxEntries` certificates); failures are not kept. */
export function cachingCertificateFetcher(
  fetchCert: CertificateFetcher,
  maxEntries = 20,
): CertificateFetcher {
  const cache = new Map<string, Promise<string | Uint8Array>>();
  return (url) => {
    let pending = cache.get(url);
    if (!pending) {
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
      pending = fetchCert(url);
      pending.catch(() => cache.delete(url));
      cache.set(url, pending);
    }
    return pending;
  };
}

function rsaKey(pem: string | Uint8Array): KeyObject | null {
  const key = createPublicKey(typeof pem === 'string' ? pem : Buffer.from(pem));
  return key.asymmetricKeyType === 'rsa' ? key : null;
}
