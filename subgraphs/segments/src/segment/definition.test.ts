/**
 * The rule grammar's validator: every kind of mistake is a BAD_USER_INPUT error whose path points
 * at the offending value; the published JSON Schema accepts what the validator accepts.
 */
import { DomainError } from '@marketing/platform';
import Ajv2020 from 'ajv/dist/2020.js';
import { dependenciesOf, LIMITS, parseDefinition, type SegmentNode } from './definition.js';
import { segmentDefinitionJsonSchema } from './definition.schema.js';

const segments: Record<string, SegmentNode> = {
  vip: { attribute: 'traits.plan', op: 'eq', value: 'gold' },
  buyers: { and: [{ inSegment: 'vip' }, { attribute: 'orderCount', op: 'gte', value: 1 }] },
};
const lookup = (id: string) => segments[id] ?? null;

function errorOf(definition: unknown, selfId?: string): { path: string; message: string } {
  try {
    parseDefinition(definition, { lookup, selfId });
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    const e = error as DomainError;
    expect(e.extensions.code).toBe('BAD_USER_INPUT');
    return { path: e.extensions.path as string, message: e.message };
  }
  throw new Error(`accepted: ${JSON.stringify(definition)}`);
}

const country = { attribute: 'country', op: 'eq', value: 'DE' };
const nest = (depth: number): unknown => (depth === 1 ? country : { not: nest(depth - 1) });

describe('parseDefinition rejects, pointing into the tree', () => {
  it.each<[string, unknown, string, RegExp]>([
    ['not an object', 'country = DE', 'definition', /rule node/],
    ['an empty object', {}, 'definition', /not a rule node/],
    ['two node kinds', { and: [country], or: [country] }, 'definition', /more than one/],
    ['an unknown key', { ...country, extra: 1 }, 'definition.extra', /not a key/],
    ['an empty and', { and: [] }, 'definition.and', /non-empty/],
    [
      'a bad operator',
      { and: [country, { ...country, op: 'like' }] },
      'definition.and[1].op',
      /one of/,
    ],
    [
      'an operator for another kind',
      { attribute: 'country', op: 'gt', value: 3 },
      'definition.op',
      /does not apply to a text/,
    ],
    [
      'an unknown attribute',
      { attribute: 'shoeSize', op: 'eq', value: 42 },
      'definition.attribute',
      /unknown attribute/,
    ],
    [
      'a trait without a name',
      { attribute: 'traits.', op: 'exists' },
      'definition.attribute',
      /unknown attribute/,
    ],
    [
      'a string for a number',
      { attribute: 'orderCount', op: 'gt', value: '5' },
      'definition.value',
      /finite number/,
    ],
    [
      'a number for a text',
      { attribute: 'email', op: 'eq', value: 5 },
      'definition.value',
      /non-empty string/,
    ],
    [
      'a NUL character',
      { attribute: 'traits.x', op: 'in', value: ['a', 'b\u0000'] },
      'definition.value[1]',
      /U\+0000/,
    ],
    [
      'a value on exists',
      { attribute: 'email', op: 'exists', value: true },
      'definition.value',
      /takes no value/,
    ],
    [
      'an empty in-list',
      { attribute: 'country', op: 'in', value: [] },
      'definition.value',
      /non-empty list/,
    ],
    [
      'a bad list item',
      { attribute: 'country', op: 'in', value: ['DE', null] },
      'definition.value[1]',
      /non-empty string/,
    ],
    [
      'a non-date for before',
      { attribute: 'lastOrderAt', op: 'before', value: 'yesterday' },
      'definition.value',
      /ISO date/,
    ],
    [
      'an impossible date',
      { attribute: 'lastOrderAt', op: 'after', value: '2026-02-31' },
      'definition.value',
      /ISO date/,
    ],
    [
      'a duration with two units',
      { attribute: 'lastSeenAt', op: 'withinLast', value: { days: 1, hours: 2 } },
      'definition.value',
      /exactly one/,
    ],
    [
      'a zero duration',
      { attribute: 'lastSeenAt', op: 'withinLast', value: { days: 0 } },
      'definition.value.days',
      /integer from 1/,
    ],
    [
      'a non-string contains on a trait',
      { attribute: 'traits.tags', op: 'contains', value: 5 },
      'definition.value',
      /non-empty string/,
    ],
    ['a missing event name', { event: '', withinDays: 3 }, 'definition.event', /non-empty string/],
    [
      'a bad count operator',
      { event: 'Viewed', count: { op: 'atLeast', value: 2 } },
      'definition.count.op',
      /one of/,
    ],
    [
      'a negative count',
      { event: 'Viewed', count: { op: 'gte', value: -1 } },
      'definition.count.value',
      /integer from 0/,
    ],
    [
      'a fractional window',
      { event: 'Viewed', withinDays: 1.5 },
      'definition.withinDays',
      /integer from 1/,
    ],
    [
      'a bad property path',
      { event: 'Viewed', where: [{ property: 'a..b', op: 'eq', value: 1 }] },
      'definition.where[0].property',
      /dotted path/,
    ],
    [
      'a bad property filter op',
      { event: 'Viewed', where: [{ property: 'sku', op: 'matches', value: 'x' }] },
      'definition.where[0].op',
      /one of/,
    ],
    ['an unknown email action', { email: 'forwarded' }, 'definition.email', /one of/],
    [
      'an unknown prediction',
      { prediction: 'lifetimeValue', op: 'gt', value: 1 },
      'definition.prediction',
      /one of/,
    ],
    [
      'a prediction without a number',
      { prediction: 'churnRisk', op: 'gt', value: 'high' },
      'definition.value',
      /finite number/,
    ],
    ['an unknown segment', { inSegment: 'nope' }, 'definition.inSegment', /no segment/],
    [
      'a deep not',
      { or: [country, { not: { not: { attribute: 'traits.x', op: 'eq', value: {} } } }] },
      'definition.or[1].not.not.value',
      /string, a number or a boolean/,
    ],
  ])('%s', (_name, definition, path, message) => {
    const error = errorOf(definition);
    expect(error.path).toBe(path);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith(`${path}: `)).toBe(true);
  });

  it('a definition nested deeper than the limit', () => {
    expect(() => parseDefinition(nest(LIMITS.depth), { lookup })).not.toThrow();
    const error = errorOf(nest(LIMITS.depth + 1));
    expect(error.path).toBe(`definition${'.not'.repeat(LIMITS.depth)}`);
    expect(error.message).toMatch(/deeper than/);
  });

  it('a definition with too many nodes', () => {
    const error = errorOf({ or: Array.from({ length: LIMITS.nodes }, () => country) });
    expect(error.path).toBe(`definition.or[${LIMITS.nodes - 1}]`); // the or node is the first
    expect(error.message).toMatch(/at most/);
  });

  it('a segment that references itself, directly or through others', () => {
    expect(errorOf({ inSegment: 'vip' }, 'vip')).toMatchObject({
      path: 'definition.inSegment',
      message: expect.stringMatching(/cycle.*vip -> vip/),
    });
    // vip would read buyers, which reads vip.
    expect(errorOf({ or: [country, { inSegment: 'buyers' }] }, 'vip')).toMatchObject({
      path: 'definition.or[1].inSegment(buyers).and[0].inSegment',
      message: expect.stringMatching(/cycle.*vip -> buyers -> vip/),
    });
  });
});

describe('parseDefinition accepts', () => {
  const examples: unknown[] = [
    { attribute: 'country', op: 'eq', value: 'DE' },
    { attribute: 'traits.plan', op: 'in', value: ['gold', 'silver'] },
    { attribute: 'lastOrderAt', op: 'withinLast', value: { days: 30 } },
    {
      event: 'Product Viewed',
      where: [{ property: 'category', op: 'eq', value: 'shoes' }],
      count: { op: 'gte', value: 2 },
      withinDays: 30,
    },
    { event: 'Order Completed', count: { op: 'eq', value: 0 }, withinDays: 90 },
    { email: 'opened', campaignId: 'c-1', count: { op: 'gte', value: 1 }, withinDays: 30 },
    { inSegment: 'buyers' },
    { prediction: 'churnRisk', op: 'gt', value: 0.7 },
    {
      and: [
        {
          or: [
            { attribute: 'email', op: 'startsWith', value: 'ann' },
            { not: { email: 'bounced' } },
          ],
        },
        { attribute: 'traits.signup', op: 'before', value: '2026-01-01T00:00:00Z' },
        { attribute: 'totalSpent', op: 'notIn', value: [0, 10.5] },
        { attribute: 'firstOrderAt', op: 'notExists' },
      ],
    },
  ];

  it.each(examples.map((e) => [JSON.stringify(e), e]))('%s', (_name, definition) => {
    const { root } = parseDefinition(definition, { lookup });
    // The typed tree is the input: nothing dropped, nothing added.
    expect(root).toEqual(definition);
  });

  it('the published JSON Schema accepts the examples and rejects what it can see is wrong', () => {
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    const validate = ajv.compile(segmentDefinitionJsonSchema());
    for (const example of examples)
      expect({ example, ok: validate(example) }).toEqual({ example, ok: true });
    for (const bad of [
      {},
      { and: [] },
      { attribute: 'country', op: 'like', value: 'x' },
      { attribute: 'shoeSize', op: 'eq', value: 1 },
      { event: 'x', count: { op: 'gte', value: -1 } },
      { email: 'forwarded' },
      { prediction: 'churnRisk', op: 'gt' },
      { ...(examples[0] as object), extra: true },
    ]) {
      expect({ bad, ok: validate(bad) }).toEqual({ bad, ok: false });
    }
  });
});

describe('dependenciesOf', () => {
  it('collects what a rule reads, through inSegment, and whether time alone can change it', () => {
    const deps = dependenciesOf(
      {
        and: [
          { inSegment: 'buyers' },
          { event: 'Product Viewed', withinDays: 7 },
          { not: { email: 'opened' } },
        ],
      },
      lookup,
    );
    expect([...deps.attributes].sort()).toEqual(['orderCount', 'traits']);
    expect([...deps.events]).toEqual(['Product Viewed']);
    expect(deps.email).toBe(true);
    expect(deps.predictions).toBe(false);
    expect(deps.timeDependent).toBe(true);
    expect(dependenciesOf({ event: 'Product Viewed' }, lookup).timeDependent).toBe(false);
    expect(
      dependenciesOf({ attribute: 'lastOrderAt', op: 'before', value: '2026-01-01' }, lookup)
        .attributes,
    ).toEqual(new Set(['lastOrderAt', 'timezone']));
  });
});
