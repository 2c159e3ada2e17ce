/**
 * The JSON Schema (draft 2020-12) of the segment rule grammar, served by `segmentDefinitionSchema`.
 * Built from the same constants as the validator; a test checks that the two agree on examples.
 * The validator checks more than a schema can say (inSegment targets and cycles, limits on size).
 */
import {
  COUNT_OPERATORS,
  DATE_ATTRIBUTES,
  DURATION_UNITS,
  EMAIL_ACTIONS,
  LIMITS,
  NUMBER_ATTRIBUTES,
  OPERATORS,
  PREDICTIONS,
  TEXT_ATTRIBUTES,
} from './definition.js';

const scalar = { type: ['string', 'number', 'boolean'] };
const dateLiteral = {
  type: 'string',
  pattern:
    '^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:?\\d{2})?)?$',
};

export function segmentDefinitionJsonSchema() {
  const valueCondition = (keyName: string, key: object) => ({
    type: 'object',
    required: [keyName, 'op'],
    additionalProperties: false,
    properties: {
      [keyName]: key,
      op: { enum: [...OPERATORS] },
      value: {
        anyOf: [
          scalar,
          { type: 'array', items: scalar, minItems: 1, maxItems: LIMITS.listLength },
          { $ref: '#/$defs/duration' },
        ],
      },
    },
  });
  const countAndWindow = {
    count: { $ref: '#/$defs/count' },
    withinDays: { type: 'integer', minimum: 1, maximum: LIMITS.windowDays },
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://marketing.local/schemas/segment-definition/v1',
    title: 'Segment definition (rule grammar version 1)',
    $ref: '#/$defs/node',
    $defs: {
      node: {
        oneOf: [
          { $ref: '#/$defs/and' },
          { $ref: '#/$defs/or' },
          { $ref: '#/$defs/not' },
          { $ref: '#/$defs/attribute' },
          { $ref: '#/$defs/event' },
          { $ref: '#/$defs/email' },
          { $ref: '#/$defs/inSegment' },
          { $ref: '#/$defs/prediction' },
        ],
      },
      and: {
        type: 'object',
        required: ['and'],
        additionalProperties: false,
        properties: { and: { type: 'array', minItems: 1, items: { $ref: '#/$defs/node' } } },
      },
      or: {
        type: 'object',
        required: ['or'],
        additionalProperties: false,
        properties: { or: { type: 'array', minItems: 1, items: { $ref: '#/$defs/node' } } },
      },
      not: {
        type: 'object',
        required: ['not'],
        additionalProperties: false,
        properties: { not: { $ref: '#/$defs/node' } },
      },
      attribute: valueCondition('attribute', {
        anyOf: [
          { enum: [...TEXT_ATTRIBUTES, ...NUMBER_ATTRIBUTES, ...DATE_ATTRIBUTES] },
          { type: 'string', pattern: '^traits\\.[^.\\s]{1,200}$' },
        ],
      }),
      event: {
        type: 'object',
        required: ['event'],
        additionalProperties: false,
        properties: {
          event: { type: 'string', minLength: 1, maxLength: LIMITS.stringLength },
          where: {
            type: 'array',
            maxItems: 50,
            items: valueCondition('property', { type: 'string', minLength: 1 }),
          },
          ...countAndWindow,
        },
      },
      email: {
        type: 'object',
        required: ['email'],
        additionalProperties: false,
        properties: {
          email: { enum: [...EMAIL_ACTIONS] },
          campaignId: { type: 'string', minLength: 1 },
          ...countAndWindow,
        },
      },
      inSegment: {
        type: 'object',
        required: ['inSegment'],
        additionalProperties: false,
        properties: { inSegment: { type: 'string', minLength: 1 } },
      },
      prediction: {
        type: 'object',
        required: ['prediction', 'op', 'value'],
        additionalProperties: false,
        properties: {
          prediction: { enum: [...PREDICTIONS] },
          op: { enum: [...COUNT_OPERATORS] },
          value: { type: 'number' },
        },
      },
      count: {
        type: 'object',
        required: ['op', 'value'],
        additionalProperties: false,
        properties: {
          op: { enum: [...COUNT_OPERATORS] },
          value: { type: 'integer', minimum: 0, maximum: LIMITS.count },
        },
      },
      duration: {
        type: 'object',
        minProperties: 1,
        maxProperties: 1,
        additionalProperties: false,
        properties: Object.fromEntries(
          DURATION_UNITS.map((u) => [u, { type: 'integer', minimum: 1 }]),
        ),
      },
      dateLiteral,
    },
  };
}
