import { InvalidInputError } from '@marketing/platform';
import fc from 'fast-check';
import {
  createTokenCodec,
  deriveKeyId,
  MAX_LINK_INDEX,
  MAX_TOKEN_TEXT_BYTES,
  type TokenKind,
  type TrackingToken,
} from './tokens.js';

const current = { id: 'k2', secret: 'current-secret-current-secret-32' };
const previous = { id: 'k1', secret: 'previous-secret-previous-secret!' };
const codec = createTokenCodec([current, previous]);
const kinds: TokenKind[] = ['open', 'click', 'unsubscribe'];
const deliveryId = '0b5f1c9e-6f1d-4c1a-9d7e-3c2b1a0f9e8d';

const text = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 80 })
  .filter((s) => Buffer.byteLength(s, 'utf8') <= MAX_TOKEN_TEXT_BYTES);
const anyToken: fc.Arbitrary<TrackingToken> = fc.oneof(
  fc.record({ kind: fc.constant('open' as const), deliveryId: fc.uuid() }),
  fc.record({
    kind: fc.constant('click' as const),
    deliveryId: fc.uuid(),
    linkIndex: fc.oneof(fc.nat({ max: 300 }), fc.nat({ max: MAX_LINK_INDEX })),
  }),
  fc.record(
    {
      kind: fc.constant('unsubscribe' as const),
      customerId: fc.oneof(text, fc.uuid()),
      deliveryId: fc.uuid(),
      topic: text,
    },
    { requiredKeys: ['kind', 'customerId'] },
  ),
);
const tokenChars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ %é\u0000';

describe('tracking tokens', () => {
  it('round-trip every payload of every kind (property)', () => {
    fc.assert(
      fc.property(anyToken, (payload) => {
        const token = codec.sign(payload);
        expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
        expect(codec.verify(token, payload.kind)).toEqual(payload);
      }),
      { numRuns: 500 },
    );
  });

  it('reject every token with any one character changed, under every kind (property)', () => {
    fc.assert(
      fc.property(
        anyToken,
        fc.nat(),
        fc.constantFrom(...tokenChars),
        (payload, position, replacement) => {
          const token = codec.sign(payload);
          const at = position % token.length;
          fc.pre(token[at] !== replacement);
          const changed = token.slice(0, at) + replacement + token.slice(at + 1);
          for (const kind of kinds) expect(codec.verify(changed, kind)).toBeNull();
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('reject every token with any one bit of its bytes flipped, re-encoded canonically (property)', () => {
    fc.assert(
      fc.property(anyToken, fc.nat(), fc.nat({ max: 7 }), (payload, position, bit) => {
        const [keyId, body] = codec.sign(payload).split('.') as [string, string];
        const bytes = Buffer.from(body, 'base64url');
        bytes[position % bytes.length]! ^= 1 << bit;
        const changed = `${keyId}.${bytes.toString('base64url')}`;
        for (const kind of kinds) expect(codec.verify(changed, kind)).toBeNull();
      }),
      { numRuns: 500 },
    );
  });

  it('never throw on arbitrary input, and answer null for it (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()), (input) => {
        for (const kind of kinds) expect(codec.verify(input, kind)).toBeNull();
      }),
      { numRuns: 1_000 },
    );
  });

  it('answer null for arbitrary bytes behind a known key id (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (bytes) => {
        const token = `${current.id}.${Buffer.from(bytes).toString('base64url')}`;
        for (const kind of kinds) expect(codec.verify(token, kind)).toBeNull();
      }),
    );
  });

  it('answer null for a valid token verified as another kind', () => {
    const open = codec.sign({ kind: 'open', deliveryId });
    const click = codec.sign({ kind: 'click', deliveryId, linkIndex: 3 });
    const unsubscribe = codec.sign({ kind: 'unsubscribe', customerId: 'c-1' });
    expect(codec.verify(open, 'click')).toBeNull();
    expect(codec.verify(open, 'unsubscribe')).toBeNull();
    expect(codec.verify(click, 'open')).toBeNull();
    expect(codec.verify(unsubscribe, 'open')).toBeNull();
    expect(codec.verify(click, 'click')).toEqual({ kind: 'click', deliveryId, linkIndex: 3 });
  });

  it('sign with the first key and still verify tokens of the previous key after a rotation', () => {
    const before = createTokenCodec([previous]);
    const token = before.sign({ kind: 'open', deliveryId });
    expect(token.startsWith('k1.')).toBe(true);
    expect(codec.sign({ kind: 'open', deliveryId }).startsWith('k2.')).toBe(true);
    expect(codec.verify(token, 'open')).toEqual({ kind: 'open', deliveryId });
    // Once the previous key is dropped, its tokens are dead; new tokens are unknown to old codecs.
    expect(createTokenCodec([current]).verify(token, 'open')).toBeNull();
    expect(before.verify(codec.sign({ kind: 'open', deliveryId }), 'open')).toBeNull();
  });

  it('answer null when a key id is swapped for another known key id', () => {
    const token = codec.sign({ kind: 'open', deliveryId });
    expect(codec.verify(token.replace(/^k2\./, 'k1.'), 'open')).toBeNull();
    // The same secret under another id does not make the token valid either: the id is signed.
    const twin = createTokenCodec([{ id: 'k9', secret: current.secret }]);
    expect(twin.verify(token.replace(/^k2\./, 'k9.'), 'open')).toBeNull();
  });

  it('derive a stable key id from a bare secret', () => {
    const secret = 'a-bare-secret-of-thirty-two-char';
    const bare = createTokenCodec([secret]);
    const token = bare.sign({ kind: 'open', deliveryId });
    expect(token.split('.')[0]).toBe(deriveKeyId(secret));
    expect(deriveKeyId(secret)).toMatch(/^[A-Za-z0-9_-]{4}$/);
    expect(createTokenCodec([{ id: deriveKeyId(secret), secret }]).verify(token, 'open')).toEqual({
      kind: 'open',
      deliveryId,
    });
  });

  it('keep tokens short enough for every link', () => {
    const open = codec.sign({ kind: 'open', deliveryId });
    const click = codec.sign({ kind: 'click', deliveryId, linkIndex: 70_000 });
    const unsubscribe = codec.sign({
      kind: 'unsubscribe',
      deliveryId,
      customerId: '4f9c2a7e-0d3b-4e8a-b1c6-9a2d5e7f3b10',
      topic: 'newsletter',
    });
    expect(open.length).toBeLessThanOrEqual(48);
    expect(click.length).toBeLessThanOrEqual(52);
    expect(unsubscribe.length).toBeLessThanOrEqual(86);
  });

  it('normalise an upper-case delivery id to lower case', () => {
    const token = codec.sign({ kind: 'open', deliveryId: deliveryId.toUpperCase() });
    expect(codec.verify(token, 'open')).toEqual({ kind: 'open', deliveryId });
  });

  it('keep an upper-case or non-canonical customer id as text, exactly as given', () => {
    for (const customerId of [deliveryId.toUpperCase(), `{${deliveryId}}`, '12345']) {
      const token = codec.sign({ kind: 'unsubscribe', customerId });
      expect(codec.verify(token, 'unsubscribe')).toEqual({ kind: 'unsubscribe', customerId });
    }
  });

  it('omit absent optional fields of an unsubscribe token', () => {
    const token = codec.sign({ kind: 'unsubscribe', customerId: 'cust-42' });
    expect(codec.verify(token, 'unsubscribe')).toStrictEqual({
      kind: 'unsubscribe',
      customerId: 'cust-42',
    });
  });

  it.each([
    [{ kind: 'open', deliveryId: 'not-a-uuid' }, 'deliveryId'],
    [{ kind: 'click', deliveryId, linkIndex: -1 }, 'linkIndex'],
    [{ kind: 'click', deliveryId, linkIndex: 1.5 }, 'linkIndex'],
    [{ kind: 'click', deliveryId, linkIndex: MAX_LINK_INDEX + 1 }, 'linkIndex'],
    [{ kind: 'unsubscribe', customerId: '' }, 'customerId'],
    [{ kind: 'unsubscribe', customerId: 'x'.repeat(256) }, 'customerId'],
    [{ kind: 'unsubscribe', customerId: 'bad \ud800 surrogate' }, 'customerId'],
    [{ kind: 'unsubscribe', customerId: 'c', topic: '' }, 'topic'],
    [{ kind: 'unsubscribe', customerId: 'c', deliveryId: 'x' }, 'deliveryId'],
    [{ kind: 'nonsense' }, 'kind'],
  ])('refuse to sign an invalid payload %j with an InvalidInputError at %s', (payload, path) => {
    const sign = () => codec.sign(payload as TrackingToken);
    expect(sign).toThrow(InvalidInputError);
    expect(sign).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ path }) }),
    );
  });

  it('refuse a configuration without keys, with short secrets, bad or duplicate ids', () => {
    expect(() => createTokenCodec([])).toThrow(InvalidInputError);
    expect(() => createTokenCodec(['short'])).toThrow(/keys\[0\]\.secret/);
    expect(() => createTokenCodec([{ id: 'a.b', secret: current.secret }])).toThrow(
      /keys\[0\]\.id/,
    );
    expect(() => createTokenCodec([current, { ...previous, id: current.id }])).toThrow(
      /keys\[1\]\.id: duplicate/,
    );
  });
});
