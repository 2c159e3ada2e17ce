import { InvalidInputError } from '@marketing/platform';
import fc from 'fast-check';
import {
  parseGenericEvents,
  signGenericWebhook,
  verifyGenericSignature,
} from './generic.provider.js';

const secret = 'generic-webhook-secret-0123456789';
const now = Date.UTC(2026, 2, 1, 12, 0, 0);
const timestamp = now / 1_000;
const body = JSON.stringify({
  events: [
    {
      id: 'evt-1',
      type: 'bounce',
      bounceType: 'soft',
      email: 'ann@example.test',
      messageId: '5d41402abc4b2a76b9719d911017c592@shop.test',
      occurredAt: '2026-03-01T13:00:00+01:00',
      reason: 'mailbox full',
    },
    {
      id: 'evt-2',
      type: 'complaint',
      email: 'bob@example.test',
      occurredAt: '2026-03-01T12:00:00Z',
    },
    { id: 'evt-3', type: 'bounce', email: 'cid@example.test', occurredAt: '2026-03-01T12:00:00Z' },
    {
      id: 'evt-4',
      type: 'delivery',
      bounceType: 'hard',
      email: 'dan@example.test',
      occurredAt: '2026-03-01T12:00:00Z',
    },
  ],
});

describe('verifyGenericSignature', () => {
  const headers = signGenericWebhook(secret, body, timestamp);
  const signature = headers['X-Webhook-Signature'];

  it('accept a body signed with the secret within five minutes either way', () => {
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(headers['X-Webhook-Timestamp']).toBe(String(timestamp));
    for (const offset of [0, 299, -299]) {
      expect(
        verifyGenericSignature(secret, signature, String(timestamp), body, {
          now: now + offset * 1_000,
        }),
      ).toBe(true);
    }
    expect(
      verifyGenericSignature(secret, signature, String(timestamp), Buffer.from(body), { now }),
    ).toBe(true);
    expect(
      verifyGenericSignature(secret, signature.slice(7).toUpperCase(), String(timestamp), body, {
        now,
      }),
    ).toBe(true);
  });

  it('refuse a replay older (or newer) than five minutes, even with a good signature', () => {
    expect(
      verifyGenericSignature(secret, signature, String(timestamp), body, { now: now + 301_000 }),
    ).toBe(false);
    expect(
      verifyGenericSignature(secret, signature, String(timestamp), body, { now: now - 301_000 }),
    ).toBe(false);
  });

  it('refuse a fresh timestamp put on an old signature: the timestamp is signed', () => {
    expect(verifyGenericSignature(secret, signature, String(timestamp + 60), body, { now })).toBe(
      false,
    );
  });

  it('refuse a changed body, another secret, and missing or malformed headers', () => {
    expect(verifyGenericSignature(secret, signature, String(timestamp), body + ' ', { now })).toBe(
      false,
    );
    expect(
      verifyGenericSignature(
        'another-secret-another-secret!!',
        signature,
        String(timestamp),
        body,
        { now },
      ),
    ).toBe(false);
    expect(verifyGenericSignature(secret, undefined, String(timestamp), body, { now })).toBe(false);
    expect(verifyGenericSignature(secret, signature, null, body, { now })).toBe(false);
    expect(verifyGenericSignature(secret, 'sha256=abc', String(timestamp), body, { now })).toBe(
      false,
    );
    expect(verifyGenericSignature(secret, signature, '2026-03-01T12:00:00Z', body, { now })).toBe(
      false,
    );
  });

  it('accept any of several secrets and any of several signatures (rotation on both sides)', () => {
    const old = signGenericWebhook('old-secret-old-secret-old-secret', body, timestamp)[
      'X-Webhook-Signature'
    ];
    expect(
      verifyGenericSignature(
        ['new-secret-new-secret-new-secret', secret],
        signature,
        String(timestamp),
        body,
        { now },
      ),
    ).toBe(true);
    expect(
      verifyGenericSignature(secret, `${old}, ${signature}`, String(timestamp), body, { now }),
    ).toBe(true);
    expect(verifyGenericSignature(secret, old, String(timestamp), body, { now })).toBe(false);
  });

  it('never throw on arbitrary headers and bodies (property)', () => {
    fc.assert(
      fc.property(fc.option(fc.string()), fc.option(fc.string()), fc.string(), (sig, ts, raw) => {
        expect(verifyGenericSignature(secret, sig, ts, raw)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('parseGenericEvents', () => {
  it('map our own format, normalising the Message-ID, time and bounce type', () => {
    expect(parseGenericEvents(JSON.parse(body))).toEqual([
      {
        provider: 'generic',
        eventId: 'evt-1',
        type: 'bounce',
        bounceType: 'soft',
        email: 'ann@example.test',
        messageId: '<5d41402abc4b2a76b9719d911017c592@shop.test>',
        occurredAt: '2026-03-01T12:00:00.000Z',
        reason: 'mailbox full',
      },
      {
        provider: 'generic',
        eventId: 'evt-2',
        type: 'complaint',
        email: 'bob@example.test',
        occurredAt: '2026-03-01T12:00:00.000Z',
      },
      {
        provider: 'generic',
        eventId: 'evt-3',
        type: 'bounce',
        bounceType: 'hard',
        email: 'cid@example.test',
        occurredAt: '2026-03-01T12:00:00.000Z',
      },
      {
        provider: 'generic',
        eventId: 'evt-4',
        type: 'delivery',
        email: 'dan@example.test',
        occurredAt: '2026-03-01T12:00:00.000Z',
      },
    ]);
  });

  const event = { id: 'e', type: 'bounce', email: 'a@b.test', occurredAt: '2026-03-01T12:00:00Z' };
  it.each([
    [[], 'body'],
    [{}, 'body.events'],
    [{ events: [] }, 'body.events'],
    [{ events: [{ ...event, id: '' }] }, 'body.events[0].id'],
    [{ events: [event, { ...event, type: 'open' }] }, 'body.events[1].type'],
    [{ events: [{ ...event, bounceType: 'medium' }] }, 'body.events[0].bounceType'],
    [{ events: [{ ...event, email: 'nobody' }] }, 'body.events[0].email'],
    [{ events: [{ ...event, occurredAt: 'yesterday' }] }, 'body.events[0].occurredAt'],
    [{ events: [{ ...event, occurredAt: 1_772_366_400 }] }, 'body.events[0].occurredAt'],
  ])('refuse %j with an InvalidInputError at %s', (input, path) => {
    const parse = () => parseGenericEvents(input);
    expect(parse).toThrow(InvalidInputError);
    expect(parse).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ path }) }),
    );
  });

  it('throw nothing but InvalidInputError for any JSON body (property)', () => {
    const item = fc.record(
      {
        id: fc.string(),
        type: fc.constantFrom('bounce', 'complaint', 'delivery', 'open'),
        bounceType: fc.constantFrom('hard', 'soft', 'x'),
        email: fc.oneof(fc.emailAddress(), fc.string()),
        messageId: fc.oneof(fc.string(), fc.jsonValue()),
        occurredAt: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.string(),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue(), fc.record({ events: fc.array(fc.oneof(item, fc.jsonValue())) })),
        (input) => {
          try {
            parseGenericEvents(input);
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidInputError);
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
