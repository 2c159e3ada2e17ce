/**
 * Evaluating the automation grammar's filters and conditions in memory, against an event's
 * properties, the customer's traits, their segment memberships and the events since they entered.
 */
import type { Condition, PropertyFilter } from './workflow.js';

export function valueAt(source: unknown, path: string): unknown {
  let value: unknown = source;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function compare(actual: unknown, op: PropertyFilter['op'], expected: unknown): boolean {
  switch (op) {
    case 'exists':
      return (actual !== undefined && actual !== null) === (expected ?? true);
    case 'eq':
      return equal(actual, expected);
    case 'neq':
      return !equal(actual, expected);
    case 'in':
      return Array.isArray(expected) && expected.some((e) => equal(actual, e));
    case 'contains':
      if (Array.isArray(actual)) return actual.some((a) => equal(a, expected));
      return (
        typeof actual === 'string' && actual.toLowerCase().includes(String(expected).toLowerCase())
      );
    default: {
      const [a, b] =
        typeof expected === 'number' ? [toNumber(actual), expected] : [actual, expected];
      if (a === undefined || a === null || typeof a !== typeof b) return false;
      const x = a as number | string;
      const y = b as number | string;
      return op === 'gt' ? x > y : op === 'gte' ? x >= y : op === 'lt' ? x < y : x <= y;
    }
  }
}

/** Numbers compare with numeric strings ("49.90"); text compares case-insensitively for eq. */
function equal(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'number') return toNumber(actual) === expected;
  if (typeof expected === 'string' && typeof actual === 'string')
    return actual.toLowerCase() === expected.toLowerCase();
  return actual === expected;
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  return undefined;
}

export function matchesFilters(
  properties: Record<string, unknown>,
  filters: PropertyFilter[] | undefined,
): boolean {
  return (filters ?? []).every((f) => compare(valueAt(properties, f.property), f.op, f.value));
}

export interface ConditionFacts {
  traits: Record<string, unknown>;
  /** The triggering event's properties. */
  event: Record<string, unknown>;
  segments: Set<string>;
  /** The customer's events since they entered, oldest first. */
  events: { event: string; properties: Record<string, unknown> }[];
}

export function evaluateCondition(condition: Condition, facts: ConditionFacts): boolean {
  if ('and' in condition) return condition.and.every((c) => evaluateCondition(c, facts));
  if ('or' in condition) return condition.or.some((c) => evaluateCondition(c, facts));
  if ('not' in condition) return !evaluateCondition(condition.not, facts);
  if ('inSegment' in condition) return facts.segments.has(condition.inSegment);
  if ('attribute' in condition) {
    const [root, ...rest] = condition.attribute.split('.');
    const source = root === 'traits' ? facts.traits : facts.event;
    return compare(valueAt(source, rest.join('.')), condition.op, condition.value);
  }
  return facts.events.some(
    (e) => e.event === condition.event && matchesFilters(e.properties, condition.where),
  );
}

/** Segment ids and event names a condition reads. */
export function conditionNeeds(
  condition: Condition,
  into = { segments: new Set<string>(), events: new Set<string>() },
) {
  if ('and' in condition) condition.and.forEach((c) => conditionNeeds(c, into));
  else if ('or' in condition) condition.or.forEach((c) => conditionNeeds(c, into));
  else if ('not' in condition) conditionNeeds(condition.not, into);
  else if ('inSegment' in condition) into.segments.add(condition.inSegment);
  else if ('event' in condition) into.events.add(condition.event);
  return into;
}
