import { createSign, generateKeyPairSync } from 'node:crypto';
import { InvalidInputError } from '@marketing/platform';
import fc from 'fast-check';
import {
  parseSendgridEvents,
  sendgridPublicKey,
  verifySendgridSignature,
} from './sendgrid.provider.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
/** The verification key as SendGrid's settings show it: base64 DER SubjectPublicKeyInfo. */
const verificationKey = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

function sign(timestamp: string, body: string | Buffer, key = privateKey): string {
  return createSign('sha256').update(timestamp).update(body).sign(key, 'base64');
}

const base = {
  email: 'ann@example.test',
  timestamp: 1_772_366_400,
  'smtp-id': '<5d41402abc4b2a76b9719d911017c592@shop.test>',
  sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
};

describe('verifySendgridSignature', () => {
  const body = JSON.stringify([{ ...base, event: 'delivered', sg_event_id: 'e1' }]) + '\r\n';
  const timestamp = '1772366400';

  it('accept a body signed with the key, given as base64 DER, PEM or a KeyObject', () => {
    const signature = sign(timestamp, body);
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    for (const key of [verificationKey, pem, sendgridPublicKey(verificationKey)]) {
      expect(verifySendgridSignature(key, signature, timestamp, body)).toBe(true);
      expect(verifySendgridSignature(key, signature, timestamp, Buffer.from(body))).toBe(true);
    }
  });

  it('refuse a changed body or timestamp, another key, and missing or garbled headers', () => {
    const signature = sign(timestamp, body);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expect(
      verifySendgridSignature(verificationKey, signature, timestamp, body.replace('e1', 'e2')),
    ).toBe(false);
    expect(verifySendgridSignature(verificationKey, signature, '1772366401', body)).toBe(false);
    expect(
      verifySendgridSignature(verificationKey, sign(timestamp, body, other), timestamp, body),
    ).toBe(false);
    expect(verifySendgridSignature(verificationKey, undefined, timestamp, body)).toBe(false);
    expect(verifySendgridSignature(verificationKey, signature, undefined, body)).toBe(false);
    expect(verifySendgridSignature(verificationKey, 'bm90IGEgc2lnbmF0dXJl', timestamp, body)).toBe(
      false,
    );
    expect(verifySendgridSignature(verificationKey, signature, `${timestamp}x`, body)).toBe(false);
    expect(verifySendgridSignature('not a key', signature, timestamp, body)).toBe(false);
  });

  it('refuse a stale timestamp when a maximum age is given', () => {
    const signature = sign(timestamp, body);
    const now = (Number(timestamp) + 600) * 1_000;
    expect(verifySendgridSignature(verificationKey, signature, timestamp, body, { now })).toBe(
      true,
    );
    expect(
      verifySendgridSignature(verificationKey, signature, timestamp, body, {
        now,
        maxAgeSeconds: 300,
      }),
    ).toBe(false);
    expect(
      verifySendgridSignature(verificationKey, signature, timestamp, body, {
        now,
        maxAgeSeconds: 900,
      }),
    ).toBe(true);
  });

  it('never throw on arbitrary headers and bodies (property)', () => {
    fc.assert(
      fc.property(
        fc.option(fc.string()),
        fc.option(fc.string()),
        fc.string(),
        (signature, ts, raw) => {
          expect(verifySendgridSignature(verificationKey, signature, ts, raw)).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('sendgridPublicKey', () => {
  it('refuse what is not a P-256 public key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    for (const key of [
      '',
      'AAAA',
      rsa.export({ type: 'spki', format: 'der' }).toString('base64'),
    ]) {
      expect(() => sendgridPublicKey(key)).toThrow(InvalidInputError);
    }
  });
});

describe('parseSendgridEvents', () => {
  it('map bounces, blocks, deferrals, drops, spam reports and deliveries', () => {
    const parsed = parseSendgridEvents([
      { ...base, event: 'processed', sg_event_id: 'p' },
      {
        ...base,
        event: 'bounce',
        type: 'bounce',
        status: '5.1.1',
        reason: '550 no such user',
        sg_event_id: 'b',
      },
      { ...base, event: 'bounce', type: 'blocked', reason: '421 try later', sg_event_id: 'bl' },
      { ...base, event: 'deferred', response: '451 greylisted', attempt: '1', sg_event_id: 'd' },
      { ...base, event: 'dropped', reason: 'Bounced Address', sg_event_id: 'dr1' },
      { ...base, event: 'dropped', reason: 'Spam Reporting Address', sg_event_id: 'dr2' },
      { ...base, event: 'dropped', reason: 'Unsubscribed Address', sg_event_id: 'dr3' },
      {
        email: 'bob@example.test',
        timestamp: 1_772_366_401,
        event: 'spamreport',
        sg_event_id: 's',
      },
      { ...base, event: 'delivered', response: '250 OK', sg_event_id: 'ok' },
      { ...base, event: 'open', sg_event_id: 'o', useragent: 'x' },
      { event: 'group_unsubscribe' },
    ]);
    expect(parsed.map((e) => [e.eventId, e.type, e.bounceType, e.reason])).toEqual([
      ['b', 'bounce', 'hard', 'bounce: 5.1.1: 550 no such user'],
      ['bl', 'bounce', 'soft', 'blocked: 421 try later'],
      ['d', 'bounce', 'soft', 'deferred: 451 greylisted'],
      ['dr1', 'bounce', 'hard', 'dropped: Bounced Address'],
      ['dr2', 'complaint', undefined, 'dropped: Spam Reporting Address'],
      ['dr3', 'bounce', 'soft', 'dropped: Unsubscribed Address'],
      ['s', 'complaint', undefined, 'spamreport'],
      ['ok', 'delivery', undefined, '250 OK'],
    ]);
    expect(parsed[0]).toEqual({
      provider: 'sendgrid',
      eventId: 'b',
      type: 'bounce',
      bounceType: 'hard',
      email: 'ann@example.test',
      messageId: '<5d41402abc4b2a76b9719d911017c592@shop.test>',
      providerMessageId: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
      occurredAt: '2026-03-01T12:00:00.000Z',
      reason: 'bounce: 5.1.1: 550 no such user',
    });
    expect(parsed[6]).toEqual({
      provider: 'sendgrid',
      eventId: 's',
      type: 'complaint',
      email: 'bob@example.test',
      occurredAt: '2026-03-01T12:00:01.000Z',
      reason: 'spamreport',
    });
  });

  it('accept an empty batch', () => {
    expect(parseSendgridEvents([])).toEqual([]);
  });

  it.each([
    [{}, 'body'],
    [[null], 'body[0]'],
    [[{ email: 'a@b.test' }], 'body[0].event'],
    [[{ event: 'bounce', email: 'a@b.test', timestamp: 1_772_366_400 }], 'body[0].sg_event_id'],
    [
      [{ ...base, event: 'delivered', sg_event_id: 'x', timestamp: '1772366400' }],
      'body[0].timestamp',
    ],
    [
      [{ ...base, event: 'delivered', sg_event_id: 'x', timestamp: 1_772_366_400_000 }],
      'body[0].timestamp',
    ],
    [
      [{ event: 'open' }, { ...base, event: 'bounce', sg_event_id: 'x', email: 'nobody' }],
      'body[1].email',
    ],
    [[{ ...base, event: 'delivered', sg_event_id: 'x', 'smtp-id': 7 }], 'body[0]["smtp-id"]'],
  ])('refuse %j with an InvalidInputError at %s', (body, path) => {
    const parse = () => parseSendgridEvents(body);
    expect(parse).toThrow(InvalidInputError);
    expect(parse).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ path }) }),
    );
  });

  it('throw nothing but InvalidInputError for any JSON body (property)', () => {
    const item = fc.record(
      {
        event: fc.constantFrom('bounce', 'dropped', 'deferred', 'spamreport', 'delivered', 'open'),
        email: fc.oneof(fc.emailAddress(), fc.string()),
        timestamp: fc.oneof(fc.integer(), fc.constant(1_772_366_400), fc.double()),
        sg_event_id: fc.string(),
        'smtp-id': fc.oneof(fc.string(), fc.jsonValue()),
        type: fc.oneof(fc.constantFrom('bounce', 'blocked'), fc.jsonValue()),
        reason: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.array(fc.oneof(item, fc.jsonValue()))), (body) => {
        try {
          for (const event of parseSendgridEvents(body)) {
            expect(Number.isNaN(Date.parse(event.occurredAt))).toBe(false);
          }
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidInputError);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
