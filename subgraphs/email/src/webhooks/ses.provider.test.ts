import { InvalidInputError } from '@marketing/platform';
import fc from 'fast-check';
import { parseSesNotification } from './ses.provider.js';
import type { SnsMessage } from './sns-message.js';

function envelope(message: unknown, fields: Partial<SnsMessage> = {}): SnsMessage {
  return {
    Type: 'Notification',
    MessageId: 'sns-1',
    TopicArn: 'arn:aws:sns:eu-west-1:123456789012:ses-feedback',
    Message: typeof message === 'string' ? message : JSON.stringify(message),
    Timestamp: '2026-03-01T12:00:05.000Z',
    SignatureVersion: '2',
    Signature: 'c2ln',
    SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem',
    ...fields,
  };
}

const mail = {
  timestamp: '2026-03-01T11:59:00.000Z',
  messageId: '0102018e0000aaaa-ses',
  source: 'news@shop.test',
  destination: ['ann@example.test', 'bob@example.test'],
  headersTruncated: false,
  headers: [
    { name: 'From', value: 'news@shop.test' },
    { name: 'Message-ID', value: '<5d41402abc4b2a76b9719d911017c592@shop.test>' },
  ],
  commonHeaders: { messageId: '<other@shop.test>' },
};

function events(message: unknown) {
  const result = parseSesNotification(envelope(message));
  if (result.kind !== 'events') throw new Error('expected events');
  return result.events;
}

describe('parseSesNotification', () => {
  it('map a permanent bounce to a hard bounce per recipient, with our Message-ID', () => {
    expect(
      events({
        notificationType: 'Bounce',
        bounce: {
          bounceType: 'Permanent',
          bounceSubType: 'General',
          bouncedRecipients: [
            {
              emailAddress: 'ann@example.test',
              action: 'failed',
              status: '5.1.1',
              diagnosticCode: 'smtp; 550 5.1.1 user unknown',
            },
            { emailAddress: '"Bob" <Bob@Example.test>' },
          ],
          timestamp: '2026-03-01T12:00:00.123Z',
          feedbackId: 'fb-1',
          reportingMTA: 'dsn; a1-2.smtp-out.amazonses.com',
        },
        mail,
      }),
    ).toEqual([
      {
        provider: 'ses',
        eventId: 'fb-1:ann@example.test',
        type: 'bounce',
        bounceType: 'hard',
        email: 'ann@example.test',
        messageId: '<5d41402abc4b2a76b9719d911017c592@shop.test>',
        providerMessageId: '0102018e0000aaaa-ses',
        occurredAt: '2026-03-01T12:00:00.123Z',
        reason: 'Permanent/General: 5.1.1: smtp; 550 5.1.1 user unknown',
      },
      {
        provider: 'ses',
        eventId: 'fb-1:bob@example.test',
        type: 'bounce',
        bounceType: 'hard',
        email: 'Bob@Example.test',
        messageId: '<5d41402abc4b2a76b9719d911017c592@shop.test>',
        providerMessageId: '0102018e0000aaaa-ses',
        occurredAt: '2026-03-01T12:00:00.123Z',
        reason: 'Permanent/General',
      },
    ]);
  });

  it.each(['Transient', 'Undetermined'])('map a %s bounce to a soft bounce', (bounceType) => {
    const [event] = events({
      notificationType: 'Bounce',
      bounce: {
        bounceType,
        bounceSubType: 'MailboxFull',
        bouncedRecipients: [{ emailAddress: 'ann@example.test' }],
        timestamp: '2026-03-01T12:00:00Z',
        feedbackId: 'fb-2',
      },
      mail,
    });
    expect(event).toMatchObject({
      type: 'bounce',
      bounceType: 'soft',
      reason: `${bounceType}/MailboxFull`,
    });
  });

  it('map a complaint, and fall back to the common headers for the Message-ID', () => {
    const { headers: _headers, ...withoutHeaders } = mail;
    expect(
      events({
        notificationType: 'Complaint',
        complaint: {
          complainedRecipients: [{ emailAddress: 'ann@example.test' }],
          complaintFeedbackType: 'abuse',
          complaintSubType: null,
          timestamp: '2026-03-01T12:01:00Z',
          feedbackId: 'fb-3',
        },
        mail: withoutHeaders,
      }),
    ).toEqual([
      {
        provider: 'ses',
        eventId: 'fb-3:ann@example.test',
        type: 'complaint',
        email: 'ann@example.test',
        messageId: '<other@shop.test>',
        providerMessageId: '0102018e0000aaaa-ses',
        occurredAt: '2026-03-01T12:01:00.000Z',
        reason: 'abuse',
      },
    ]);
  });

  it('map a delivery per recipient, and a configuration-set event (eventType) alike', () => {
    for (const kind of ['notificationType', 'eventType']) {
      expect(
        events({
          [kind]: 'Delivery',
          delivery: {
            timestamp: '2026-03-01T12:00:01Z',
            processingTimeMillis: 546,
            recipients: ['ann@example.test'],
            smtpResponse: '250 ok',
            reportingMTA: 'a8-70.smtp-out.amazonses.com',
          },
          mail: { messageId: 'ses-2' },
        }),
      ).toEqual([
        {
          provider: 'ses',
          eventId: 'ses-2:delivery:ann@example.test',
          type: 'delivery',
          email: 'ann@example.test',
          providerMessageId: 'ses-2',
          occurredAt: '2026-03-01T12:00:01.000Z',
          reason: '250 ok',
        },
      ]);
    }
  });

  it('map a delivery delay to a soft bounce', () => {
    expect(
      events({
        eventType: 'DeliveryDelay',
        deliveryDelay: {
          delayType: 'MailboxFull',
          delayedRecipients: [
            { emailAddress: 'ann@example.test', status: '4.2.2', diagnosticCode: 'smtp; 452 full' },
          ],
          timestamp: '2026-03-01T13:00:00Z',
          expirationTime: '2026-03-02T12:00:00Z',
        },
        mail,
      }),
    ).toMatchObject([
      {
        eventId: '0102018e0000aaaa-ses:delay:2026-03-01T13:00:00.000Z:ann@example.test',
        type: 'bounce',
        bounceType: 'soft',
        reason: 'DeliveryDelay/MailboxFull: 4.2.2: smtp; 452 full',
      },
    ]);
  });

  it('give no events for other SES event types and for plain-text notices', () => {
    expect(events({ eventType: 'Open', open: {}, mail })).toEqual([]);
    expect(events({ notificationType: 'AmazonSnsSubscriptionSucceeded', mail })).toEqual([]);
    expect(events('Successfully validated SNS topic for Amazon SES event publishing.')).toEqual([]);
  });

  it.each(['SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const)(
    'hand a %s to the route',
    (type) => {
      const subscribeUrl =
        'https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=t';
      expect(
        parseSesNotification(
          envelope('You have chosen...', { Type: type, Token: 't', SubscribeURL: subscribeUrl }),
        ),
      ).toEqual({
        kind: 'subscription',
        type,
        topicArn: 'arn:aws:sns:eu-west-1:123456789012:ses-feedback',
        subscribeUrl,
        token: 't',
      });
    },
  );

  const bounce = {
    bounceType: 'Permanent',
    bouncedRecipients: [{ emailAddress: 'ann@example.test' }],
    timestamp: '2026-03-01T12:00:00Z',
    feedbackId: 'fb',
  };
  it.each([
    [{ mail }, 'body.Message'],
    [{ notificationType: 'Bounce' }, 'body.Message.mail'],
    [{ notificationType: 'Bounce', mail }, 'body.Message.bounce'],
    [
      { notificationType: 'Bounce', mail, bounce: { ...bounce, bounceType: 'Hard' } },
      'body.Message.bounce.bounceType',
    ],
    [
      { notificationType: 'Bounce', mail, bounce: { ...bounce, bouncedRecipients: [] } },
      'body.Message.bounce.bouncedRecipients',
    ],
    [
      {
        notificationType: 'Bounce',
        mail,
        bounce: { ...bounce, bouncedRecipients: [{ emailAddress: 'nobody' }] },
      },
      'body.Message.bounce.bouncedRecipients[0].emailAddress',
    ],
    [
      { notificationType: 'Bounce', mail, bounce: { ...bounce, timestamp: 'yesterday' } },
      'body.Message.bounce.timestamp',
    ],
    [
      { notificationType: 'Complaint', mail, complaint: { timestamp: 'x', feedbackId: 'f' } },
      'body.Message.complaint.complainedRecipients',
    ],
    [
      {
        notificationType: 'Delivery',
        mail,
        delivery: { timestamp: '2026-03-01T12:00:00Z', recipients: [7] },
      },
      'body.Message.delivery.recipients[0]',
    ],
    [[], 'body.Message'],
  ])('refuse %j with an InvalidInputError at %s', (message, path) => {
    const parse = () => parseSesNotification(envelope(message));
    expect(parse).toThrow(InvalidInputError);
    expect(parse).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ path }) }),
    );
  });

  it('throw nothing but InvalidInputError for any JSON message (property)', () => {
    const sesLike = fc.record(
      {
        notificationType: fc.constantFrom('Bounce', 'Complaint', 'Delivery', 'Other'),
        eventType: fc.constantFrom('Bounce', 'DeliveryDelay'),
        mail: fc.oneof(fc.jsonValue(), fc.constant(mail)),
        bounce: fc.oneof(fc.jsonValue(), fc.constant(bounce)),
        complaint: fc.jsonValue(),
        delivery: fc.jsonValue(),
        deliveryDelay: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), sesLike, fc.string()), (message) => {
        try {
          const result = parseSesNotification(
            envelope(typeof message === 'string' ? message : JSON.stringify(message)),
          );
          expect(result.kind).toBe('events');
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidInputError);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
