/**
 * The segment rule grammar, version 1 (`../shared/contract/README.md`), and its validator.
 *
 * `parseDefinition` turns untrusted JSON into a typed tree or throws a `BAD_USER_INPUT` error whose
 * path points into the tree (`definition.and[1].op`). It checks everything the compiler relies on:
 * node shapes, attribute names, operator/value types per attribute kind, limits on depth and size,
 * and `inSegment` references (unknown segments and cycles).
 */
import { InvalidInputError } from '@marketing/platform';

export const TEXT_ATTRIBUTES = ['email', 'country', 'timezone'] as const;
export const NUMBER_ATTRIBUTES = ['orderCount', 'totalSpent', 'averageOrderValue'] as const;
export const DATE_ATTRIBUTES = ['firstOrderAt', 'lastOrderAt', 'lastSeenAt'] as const;
export const OPERATORS = [
  'eq',
  'neq',
  'in',
  'notIn',
  'contains',
  'startsWith',
  'gt',
  'gte',
  'lt',
  'lte',
  'exists',
  'notExists',
  'withinLast',
  'notWithinLast',
  'before',
  'after',
] as const;
export const COUNT_OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte'] as const;
export const EMAIL_ACTIONS = ['received', 'opened', 'clicked', 'bounced', 'unsubscribed'] as const;
export const PREDICTIONS = [
  'probabilityAlive',
  'churnRisk',
  'expectedPurchases90d',
  'predictedClv365d',
] as const;
export const DURATION_UNITS = ['minutes', 'hours', 'days', 'weeks'] as const;

export const LIMITS = {
  depth: 12,
  nodes: 500,
  listLength: 1_000,
  stringLength: 1_000,
  propertyPathDepth: 5,
  windowDays: 3_650,
  count: 1_000_000,
} as const;

export type Operator = (typeof OPERATORS)[number];
export type CountOperator = (typeof COUNT_OPERATORS)[number];
export type EmailAction = (typeof EMAIL_ACTIONS)[number];
export type Prediction = (typeof PREDICTIONS)[number];
export type DurationUnit = (typeof DURATION_UNITS)[number];
export type Scalar = string | number | boolean;
export type Duration = Partial<Record<DurationUnit, number>>;
export type AttributeKind = 'text' | 'number' | 'date' | 'trait';

/** A comparison on one value: a profile attribute, a trait or an event property. */
export interface ValueCondition {
  op: Operator;
  /** Absent for exists/notExists; a list for in/notIn; a Duration for (not)withinLast. */
  value?: Scalar | Scalar[] | Duration;
}

export interface AttributeCondition extends ValueCondition {
  attribute: string;
}
export interface PropertyFilter extends ValueCondition {
  property: string;
}
export interface CountCondition {
  op: CountOperator;
  value: number;
}
export interface EventCondition {
  event: string;
  where?: PropertyFilter[];
  count?: CountCondition;
  withinDays?: number;
}
export interface EmailCondition {
  email: EmailAction;
  campaignId?: string;
  count?: CountCondition;
  withinDays?: number;
}
export interface InSegmentCondition {
  inSegment: string;
}
export interface PredictionCondition {
  prediction: Prediction;
  op: CountOperator;
  value: number;
}

export type SegmentNode =
  | { and: SegmentNode[] }
  | { or: SegmentNode[] }
  | { not: SegmentNode }
  | AttributeCondition
  | EventCondition
  | EmailCondition
  | InSegmentCondition
  | PredictionCondition;

export const DEFAULT_COUNT: CountCondition = { op: 'gte', value: 1 };

const NODE_KEYS: Record<string, readonly string[]> = {
  and: ['and'],
  or: ['or'],
  not: ['not'],
  attribute: ['attribute', 'op', 'value'],
  event: ['event', 'where', 'count', 'withinDays'],
  email: ['email', 'campaignId', 'count', 'withinDays'],
  inSegment: ['inSegment'],
  prediction: ['prediction', 'op', 'value'],
};

export function attributeKind(attribute: string): AttributeKind | null {
  if ((TEXT_ATTRIBUTES as readonly string[]).includes(attribute)) return 'text';
  if ((NUMBER_ATTRIBUTES as readonly string[]).includes(attribute)) return 'number';
  if ((DATE_ATTRIBUTES as readonly string[]).includes(attribute)) return 'date';
  if (/^traits\.[^.\s]{1,200}$/.test(attribute)) return 'trait';
  return null;
}

/** The operators each attribute kind accepts; traits and event properties take any. */
const OPS_BY_KIND: Record<AttributeKind, readonly Operator[]> = {
  text: ['eq', 'neq', 'in', 'notIn', 'contains', 'startsWith', 'exists', 'notExists'],
  number: ['eq', 'neq', 'in', 'notIn', 'gt', 'gte', 'lt', 'lte', 'exists', 'notExists'],
  date: [
    'gt',
    'gte',
    'lt',
    'lte',
    'before',
    'after',
    'withinLast',
    'notWithinLast',
    'exists',
    'notExists',
  ],
  trait: OPERATORS,
};

const ISO_DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?(Z|[+-](\d{2}):?(\d{2}))?)?$/;

/**
 * A date literal: an ISO date (that day in the customer's timezone) or an ISO date-time. Every
 * field must exist on the calendar (no 2026-02-31): PostgreSQL rejects what JavaScript rolls over.
 */
export function isDateLiteral(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (year < 1 || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return false;
  const [hours, minutes, seconds] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const [offsetHours, offsetMinutes] = [Number(m[8] ?? 0), Number(m[9] ?? 0)];
  return hours < 24 && minutes < 60 && seconds < 60 && offsetHours < 16 && offsetMinutes < 60;
}

export function isDateOnly(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value);
}

/** Looks up the definition of another segment (`inSegment`); null when there is none. */
export type SegmentLookup = (id: string) => SegmentNode | null | undefined;

export interface ParseOptions {
  /** The segment being defined, so a reference back to it is reported as a cycle. */
  selfId?: string;
  lookup: SegmentLookup;
}

export interface ParsedDefinition {
  root: SegmentNode;
  /** Every segment referenced, directly or through other segments. */
  references: Set<string>;
}

/** Validates `input` as a segment definition; `path` names it in errors (`definition`). */
export function parseDefinition(
  input: unknown,
  options: ParseOptions,
  path = 'definition',
): ParsedDefinition {
  const references = new Set<string>();
  let nodes = 0;

  const fail = (at: string, message: string): never => {
    throw new InvalidInputError(message, at);
  };

  const node = (value: unknown, at: string, depth: number, chain: string[]): SegmentNode => {
    if (depth > LIMITS.depth) fail(at, `nesting is deeper than ${LIMITS.depth} levels`);
    if (++nodes > LIMITS.nodes) fail(at, `a definition has at most ${LIMITS.nodes} nodes`);
    if (!isObject(value)) return fail(at, 'must be an object (a rule node)');
    const kinds = Object.keys(NODE_KEYS).filter((k) => Object.hasOwn(value, k));
    if (kinds.length === 0) {
      return fail(
        at,
        `is not a rule node: expected one of ${Object.keys(NODE_KEYS).map((k) => `"${k}"`)}`,
      );
    }
    if (kinds.length > 1) return fail(at, `has more than one node kind: ${kinds.join(', ')}`);
    const kind = kinds[0]!;
    for (const key of Object.keys(value)) {
      if (!NODE_KEYS[kind]!.includes(key)) fail(`${at}.${key}`, `is not a key of a ${kind} node`);
    }
    switch (kind) {
      case 'and':
      case 'or': {
        const list = value[kind];
        if (!Array.isArray(list) || list.length === 0) {
          return fail(`${at}.${kind}`, 'must be a non-empty list of rule nodes');
        }
        const children = list.map((child, i) =>
          node(child, `${at}.${kind}[${i}]`, depth + 1, chain),
        );
        return kind === 'and' ? { and: children } : { or: children };
      }
      case 'not':
        return { not: node(value.not, `${at}.not`, depth + 1, chain) };
      case 'attribute':
        return attributeCondition(value, at);
      case 'event':
        return eventCondition(value, at);
      case 'email':
        return emailCondition(value, at);
      case 'prediction':
        return predictionCondition(value, at);
      default:
        return inSegment(value, at, depth, chain);
    }
  };

  const inSegment = (
    value: Record<string, unknown>,
    at: string,
    depth: number,
    chain: string[],
  ): SegmentNode => {
    const id = value.inSegment;
    if (typeof id !== 'string' || id.length === 0) {
      return fail(`${at}.inSegment`, 'must be a segment id');
    }
    if (id === options.selfId || chain.includes(id)) {
      return fail(
        `${at}.inSegment`,
        `creates a cycle of segment references: ${[...chain, id].join(' -> ')}`,
      );
    }
    const target = options.lookup(id);
    if (!target) return fail(`${at}.inSegment`, `no segment with id "${id}"`);
    references.add(id);
    // Walk the referenced definition too: its references count, and so do cycles through it.
    const nested = `${at}.inSegment(${id})`;
    const before = nodes;
    node(target, nested, depth + 1, [...chain, id]);
    nodes = before + 1;
    return { inSegment: id };
  };

  const root = node(input, path, 1, options.selfId ? [options.selfId] : []);
  return { root, references };

  function attributeCondition(value: Record<string, unknown>, at: string): AttributeCondition {
    const attribute = value.attribute;
    if (typeof attribute !== 'string') return fail(`${at}.attribute`, 'must be a string');
    const kind = attributeKind(attribute);
    if (!kind) {
      return fail(
        `${at}.attribute`,
        `unknown attribute "${attribute}": expected one of ${[...TEXT_ATTRIBUTES, ...NUMBER_ATTRIBUTES, ...DATE_ATTRIBUTES].join(', ')} or traits.<name>`,
      );
    }
    return { attribute, ...valueCondition(value, at, kind) };
  }

  function valueCondition(
    value: Record<string, unknown>,
    at: string,
    kind: AttributeKind,
  ): ValueCondition {
    const op = value.op;
    if (typeof op !== 'string' || !(OPERATORS as readonly string[]).includes(op)) {
      return fail(`${at}.op`, `must be one of ${OPERATORS.join(', ')}`);
    }
    if (!OPS_BY_KIND[kind].includes(op as Operator)) {
      return fail(
        `${at}.op`,
        `"${op}" does not apply to a ${kind} attribute; use one of ${OPS_BY_KIND[kind].join(', ')}`,
      );
    }
    const operator = op as Operator;
    const v = value.value;
    const vAt = `${at}.value`;
    switch (operator) {
      case 'exists':
      case 'notExists':
        if (v !== undefined) fail(vAt, `"${op}" takes no value`);
        return { op: operator };
      case 'eq':
      case 'neq':
        return { op: operator, value: scalar(v, vAt, kind) };
      case 'in':
      case 'notIn': {
        if (!Array.isArray(v) || v.length === 0) {
          return fail(vAt, `"${op}" needs a non-empty list`);
        }
        if (v.length > LIMITS.listLength) fail(vAt, `at most ${LIMITS.listLength} values`);
        return { op: operator, value: v.map((item, i) => scalar(item, `${vAt}[${i}]`, kind)) };
      }
      case 'contains':
      case 'startsWith':
        return { op: operator, value: text(v, vAt) };
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (kind === 'number') return { op: operator, value: number(v, vAt) };
        if (kind === 'date') return { op: operator, value: date(v, vAt) };
        if (typeof v === 'number') return { op: operator, value: number(v, vAt) };
        if (isDateLiteral(v)) return { op: operator, value: v };
        return fail(vAt, `"${op}" needs a number or an ISO date`);
      case 'before':
      case 'after':
        return { op: operator, value: date(v, vAt) };
      default:
        return { op: operator, value: duration(v, vAt) };
    }
  }

  function eventCondition(value: Record<string, unknown>, at: string): EventCondition {
    const result: EventCondition = { event: text(value.event, `${at}.event`) };
    if (value.where !== undefined) {
      if (!Array.isArray(value.where)) return fail(`${at}.where`, 'must be a list of filters');
      if (value.where.length > 50) fail(`${at}.where`, 'at most 50 property filters');
      result.where = value.where.map((f, i) => propertyFilter(f, `${at}.where[${i}]`));
    }
    return { ...result, ...countAndWindow(value, at) };
  }

  function propertyFilter(value: unknown, at: string): PropertyFilter {
    if (!isObject(value)) return fail(at, 'must be an object {property, op, value}');
    for (const key of Object.keys(value)) {
      if (!['property', 'op', 'value'].includes(key)) fail(`${at}.${key}`, 'is not a filter key');
    }
    const property = text(value.property, `${at}.property`);
    const parts = property.split('.');
    if (parts.length > LIMITS.propertyPathDepth || parts.some((p) => p === '')) {
      fail(
        `${at}.property`,
        `must be a property name or a dotted path of at most ${LIMITS.propertyPathDepth} names`,
      );
    }
    return { property, ...valueCondition(value, at, 'trait') };
  }

  function emailCondition(value: Record<string, unknown>, at: string): EmailCondition {
    const action = value.email;
    if (typeof action !== 'string' || !(EMAIL_ACTIONS as readonly string[]).includes(action)) {
      return fail(`${at}.email`, `must be one of ${EMAIL_ACTIONS.join(', ')}`);
    }
    const result: EmailCondition = { email: action as EmailAction };
    if (value.campaignId !== undefined) {
      result.campaignId = text(value.campaignId, `${at}.campaignId`);
    }
    return { ...result, ...countAndWindow(value, at) };
  }

  function countAndWindow(value: Record<string, unknown>, at: string) {
    const result: { count?: CountCondition; withinDays?: number } = {};
    if (value.count !== undefined) {
      const count = value.count;
      if (!isObject(count)) return fail(`${at}.count`, 'must be an object {op, value}');
      for (const key of Object.keys(count)) {
        if (key !== 'op' && key !== 'value') fail(`${at}.count.${key}`, 'is not a count key');
      }
      result.count = {
        op: countOperator(count.op, `${at}.count.op`),
        value: integer(count.value, `${at}.count.value`, 0, LIMITS.count),
      };
    }
    if (value.withinDays !== undefined) {
      result.withinDays = integer(value.withinDays, `${at}.withinDays`, 1, LIMITS.windowDays);
    }
    return result;
  }

  function predictionCondition(value: Record<string, unknown>, at: string): PredictionCondition {
    const prediction = value.prediction;
    if (
      typeof prediction !== 'string' ||
      !(PREDICTIONS as readonly string[]).includes(prediction)
    ) {
      return fail(`${at}.prediction`, `must be one of ${PREDICTIONS.join(', ')}`);
    }
    return {
      prediction: prediction as Prediction,
      op: countOperator(value.op, `${at}.op`),
      value: number(value.value, `${at}.value`),
    };
  }

  function countOperator(value: unknown, at: string): CountOperator {
    if (typeof value !== 'string' || !(COUNT_OPERATORS as readonly string[]).includes(value)) {
      return fail(at, `must be one of ${COUNT_OPERATORS.join(', ')}`);
    }
    return value as CountOperator;
  }

  function scalar(value: unknown, at: string, kind: AttributeKind): Scalar {
    if (kind === 'text') return text(value, at);
    if (kind === 'number') return number(value, at);
    if (typeof value === 'string') return text(value, at);
    if (typeof value === 'number') return number(value, at);
    if (typeof value === 'boolean') return value;
    return fail(at, 'must be a string, a number or a boolean');
  }

  function text(value: unknown, at: string): string {
    if (typeof value !== 'string' || value.length === 0) {
      return fail(at, 'must be a non-empty string');
    }
    if (value.length > LIMITS.stringLength) fail(at, `at most ${LIMITS.stringLength} characters`);
    // PostgreSQL text and jsonb cannot hold U+0000.
    if (value.includes('\u0000')) fail(at, 'must not contain the NUL character (U+0000)');
    return value;
  }

  function number(value: unknown, at: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return fail(at, 'must be a finite number');
    }
    return value;
  }

  function integer(value: unknown, at: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      return fail(at, `must be an integer from ${min} to ${max}`);
    }
    return value;
  }

  function date(value: unknown, at: string): string {
    if (!isDateLiteral(value)) {
      return fail(at, 'must be an ISO date (2026-01-31) or date-time (2026-01-31T12:00:00Z)');
    }
    return value;
  }

  function duration(value: unknown, at: string): Duration {
    if (!isObject(value)) return fail(at, 'must be a duration such as {"days": 30}');
    const keys = Object.keys(value);
    if (keys.length !== 1 || !(DURATION_UNITS as readonly string[]).includes(keys[0]!)) {
      return fail(at, `must have exactly one of ${DURATION_UNITS.join(', ')}`);
    }
    const unit = keys[0] as DurationUnit;
    const maxima: Record<DurationUnit, number> = {
      minutes: LIMITS.windowDays * 1_440,
      hours: LIMITS.windowDays * 24,
      days: LIMITS.windowDays,
      weeks: Math.floor(LIMITS.windowDays / 7),
    };
    return { [unit]: integer(value[unit], `${at}.${unit}`, 1, maxima[unit]) };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What a definition reads, so a change re-evaluates only the segments it can affect. */
export interface Dependencies {
  /** Profile attributes read (`traits` for any trait). */
  attributes: Set<string>;
  events: Set<string>;
  email: boolean;
  predictions: boolean;
  /** True when the result can change with the passing of time alone (relative windows). */
  timeDependent: boolean;
}

export function dependenciesOf(root: SegmentNode, lookup: SegmentLookup): Dependencies {
  const deps: Dependencies = {
    attributes: new Set(),
    events: new Set(),
    email: false,
    predictions: false,
    timeDependent: false,
  };
  const visit = (n: SegmentNode, seen: Set<string>) => {
    if ('and' in n) n.and.forEach((c) => visit(c, seen));
    else if ('or' in n) n.or.forEach((c) => visit(c, seen));
    else if ('not' in n) visit(n.not, seen);
    else if ('attribute' in n) {
      deps.attributes.add(n.attribute.startsWith('traits.') ? 'traits' : n.attribute);
      const relative = n.op === 'withinLast' || n.op === 'notWithinLast';
      if (relative) deps.timeDependent = true;
      // Calendar windows and date-only literals are read in the customer's timezone.
      if (relative || (typeof n.value === 'string' && isDateOnly(n.value))) {
        deps.attributes.add('timezone');
      }
    } else if ('event' in n) {
      deps.events.add(n.event);
      if (n.withinDays !== undefined) deps.timeDependent = true;
    } else if ('email' in n) {
      deps.email = true;
      if (n.withinDays !== undefined) deps.timeDependent = true;
    } else if ('prediction' in n) deps.predictions = true;
    else if (!seen.has(n.inSegment)) {
      const target = lookup(n.inSegment);
      if (target) visit(target, new Set([...seen, n.inSegment]));
    }
  };
  visit(root, new Set());
  return deps;
}
