/** What each kind of destination receives: names, shapes and the webhook signature. */
import { createHmac } from 'node:crypto';
import { DestinationKind, type ForwardedEvent } from './destination.entity.js';
import {
  buildRequest,
  ga4EventName,
  segmentEventName,
  signWebhook,
} from './destination.payload.js';

const event: ForwardedEvent = {
  id: 'ecommerce.events:m1',
  type: 'Order Completed',
  customerId: 'ann',
  occurredAt: '2026-11-20T10:00:00.000Z',
  properties: {
    order_id: 'o-1',
    revenue: 90,
    total: 100,
    currency: 'EUR',
    coupon: true,
    products: [{ id: 'p1' }],
    'shipping method': 'x'.repeat(150),
  },
};

describe('destination payloads', () => {
  it('signs webhooks over "<t>.<body>" and sends the event as the body', () => {
    const request = buildRequest(
      { kind: DestinationKind.WEBHOOK, url: 'https://hooks.example.com/in', secret: 'k' },
      event,
      new Date(1_790_000_000_500),
    );
    expect(JSON.parse(request.body)).toEqual(event);
    const mac = createHmac('sha256', 'k').update(`1790000000.${request.body}`).digest('hex');
    expect(request.headers['x-marketing-signature']).toBe(`t=1790000000,v1=${mac}`);
    expect(signWebhook('k', request.body, 1_790_000_000)).toBe(`t=1790000000,v1=${mac}`);
    expect(signWebhook('k', `${request.body} `, 1_790_000_000)).not.toBe(`t=1790000000,v1=${mac}`);
  });

  it('names Segment events after its Email spec, other marketing events in Title Case', () => {
    expect(segmentEventName('email.clicked')).toBe('Email Link Clicked');
    expect(segmentEventName('email.complained')).toBe('Email Marked as Spam');
    expect(segmentEventName('segment.entered')).toBe('Segment Entered');
    expect(segmentEventName('prediction.updated')).toBe('Prediction Updated');
    expect(segmentEventName('Order Completed')).toBe('Order Completed');
  });

  it('posts Segment track calls to {url}/v1/track with the write key as Basic user', () => {
    const request = buildRequest(
      { kind: DestinationKind.SEGMENT, url: 'https://api.segment.io/', secret: 'wk' },
      { ...event, customerId: null },
    );
    expect(request.url).toBe('https://api.segment.io/v1/track');
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('wk:').toString('base64')}`);
    expect(JSON.parse(request.body)).toMatchObject({
      type: 'track',
      messageId: event.id,
      anonymousId: event.id,
      event: 'Order Completed',
      timestamp: event.occurredAt,
    });
  });

  it('names GA4 events as GA4 allows them, with purchase and refund for orders', () => {
    expect(ga4EventName('Order Completed')).toBe('purchase');
    expect(ga4EventName('Order Refunded')).toBe('refund');
    expect(ga4EventName('email.opened')).toBe('email_opened');
    expect(ga4EventName('Product Viewed')).toBe('product_viewed');
    expect(ga4EventName('1st visit')).toBe('event_1st_visit');
    expect(ga4EventName('x'.repeat(60))).toHaveLength(40);
  });

  it('sends GA4 hits with the secret added to the URL and scalar params only', () => {
    const request = buildRequest(
      {
        kind: DestinationKind.GA4,
        url: 'https://www.google-analytics.com/mp/collect?measurement_id=G-1',
        secret: 's&1',
      },
      event,
    );
    const url = new URL(request.url);
    expect(url.searchParams.get('measurement_id')).toBe('G-1');
    expect(url.searchParams.get('api_secret')).toBe('s&1');
    const body = JSON.parse(request.body);
    expect(body).toMatchObject({ client_id: 'ann', user_id: 'ann' });
    expect(body.events).toEqual([
      {
        name: 'purchase',
        params: {
          transaction_id: 'o-1',
          value: 90,
          currency: 'EUR',
          order_id: 'o-1',
          revenue: 90,
          total: 100,
          coupon: 1,
          shipping_method: 'x'.repeat(100),
          event_id: event.id,
        },
      },
    ]);
  });
});
