/**
 * Compiles a validated segment definition to one SQL predicate over the segments store, with every
 * value bound as a server-side parameter (`$n`). The predicate reads the profile as `p`.
 *
 * Semantics (the contract leaves these open; README "Segment rules" documents them):
 * - `neq` and `notIn` are true when the value is missing; other comparisons are false on a missing
 *   value. `contains` and `startsWith` ignore case; on a list-valued trait `contains` tests
 *   membership.
 * - `withinLast`/`notWithinLast` in days or weeks count calendar days in the customer's timezone
 *   (UTC when unknown), today included: `{"days": 1}` is today, `{"days": 7}` today and the six
 *   days before. Minutes and hours are exact durations. Future values are never "within last";
 *   `notWithinLast` is false on a missing value.
 * - A date-only literal (`2026-01-31`) is that whole day in the customer's timezone: `before` is
 *   earlier than its start, `after` later than its end, `lte` up to its end. A date-time literal
 *   without an offset is UTC.
 * - Behavioural and email `withinDays: N` is the last N×24 hours before the evaluation time.
 * - `inSegment` inlines the referenced segment's definition, so the result never lags behind
 *   another segment's materialisation.
 * - A `prediction` condition is false for a customer without a prediction.
 */
import {
  DEFAULT_COUNT,
  isDateOnly,
  type CountCondition,
  type Duration,
  type EmailCondition,
  type EventCondition,
  type Operator,
  type PredictionCondition,
  type Scalar,
  type SegmentLookup,
  type SegmentNode,
  type ValueCondition,
} from './definition.js';

const S = 'segments';

/** `integer`: an integer column, compared with whole numbers as integers (no numeric cast per row). */
const COLUMNS: Record<
  string,
  { sql: string; kind: 'text' | 'number' | 'date'; integer?: boolean }
> = {
  email: { sql: 'p.email', kind: 'text' },
  country: { sql: 'p.country', kind: 'text' },
  timezone: { sql: 'p.timezone', kind: 'text' },
  orderCount: { sql: 'p.order_count', kind: 'number', integer: true },
  totalSpent: { sql: 'p.total_spent', kind: 'number' },
  averageOrderValue: { sql: 'round(p.total_spent / nullif(p.order_count, 0), 2)', kind: 'number' },
  firstOrderAt: { sql: 'p.first_order_at', kind: 'date' },
  lastOrderAt: { sql: 'p.last_order_at', kind: 'date' },
  lastSeenAt: { sql: 'p.last_seen_at', kind: 'date' },
};

const PREDICTION_COLUMNS: Record<PredictionCondition['prediction'], string> = {
  probabilityAlive: 'probability_alive',
  churnRisk: 'churn_risk',
  expectedPurchases90d: 'expected_purchases90d',
  predictedClv365d: 'predicted_clv365d',
};

const EMAIL_ACTIONS: Record<EmailCondition['email'], string> = {
  received: 'delivered',
  opened: 'opened',
  clicked: 'clicked',
  bounced: 'bounced',
  unsubscribed: 'unsubscribed',
};

const COMPARISON: Record<string, string> = {
  eq: '=',
  neq: '<>',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
};

/** The customer's timezone (the projection keeps only names PostgreSQL knows). */
const TZ = "coalesce(p.timezone, 'UTC')";

export interface CompileOptions {
  /** Definitions of the segments `inSegment` may reference. */
  lookup: SegmentLookup;
  /** The evaluation time ("now"); relative windows count back from it. */
  asOf: Date;
  /**
   * `population` (preview, full evaluation) makes behavioural counts set-based joins;
   * `customers` (re-evaluating a few customers) makes them per-customer index lookups.
   */
  mode: 'population' | 'customers';
}

export interface CompiledPredicate {
  /**
   * A boolean SQL expression over `segments.customer_profile p`, for a WHERE clause: NULL (a missing
   * value) where a condition does not hold. Conditions are not wrapped in `coalesce(…, false)`, which
   * would hide the columns' statistics from the planner; `not` coalesces before negating, and
   * AND/OR never make NULL true, so a customer matches exactly when the rule holds.
   */
  sql: string;
  params: unknown[];
}

export class Params {
  readonly values: unknown[] = [];
  private asOfRef?: string;

  constructor(private readonly asOf: Date) {}

  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }

  now(): string {
    this.asOfRef ??= this.add(this.asOf.toISOString(), 'timestamptz');
    return this.asOfRef;
  }
}

export function compilePredicate(
  root: SegmentNode,
  options: CompileOptions,
  params = new Params(options.asOf),
): CompiledPredicate {
  const node = (n: SegmentNode): string => {
    if ('and' in n) return `(${n.and.map(node).join(' and ')})`;
    if ('or' in n) return `(${n.or.map(node).join(' or ')})`;
    if ('not' in n) return `(not coalesce(${node(n.not)}, false))`;
    if ('attribute' in n) return attribute(n.attribute, n);
    if ('event' in n) return behaviour('customer_event', () => eventFilter(n), n);
    if ('email' in n) return behaviour('email_engagement', () => emailFilter(n), n);
    if ('prediction' in n) return prediction(n);
    const target = options.lookup(n.inSegment);
    if (!target) throw new Error(`segment ${n.inSegment} vanished while compiling`);
    return `(${node(target)})`;
  };

  const attribute = (name: string, c: ValueCondition): string => {
    if (name.startsWith('traits.')) {
      const key = params.add(name.slice(7), 'text');
      return jsonCondition(`p.traits -> ${key}`, c, `p.traits ->> ${key}`);
    }
    const column = COLUMNS[name]!;
    if (column.kind === 'date') return dateCondition(column.sql, c);
    if (column.kind === 'number') return numberCondition(column.sql, c, column.integer);
    return textCondition(column.sql, c, name);
  };

  const textCondition = (col: string, c: ValueCondition, name: string): string => {
    const normalise = (v: Scalar) =>
      name === 'email' ? String(v).toLowerCase() : name === 'country' ? String(v).toUpperCase() : v;
    switch (c.op) {
      case 'eq':
        return `${col} = ${params.add(normalise(c.value as Scalar), 'text')}`;
      case 'neq':
        return `${col} is distinct from ${params.add(normalise(c.value as Scalar), 'text')}`;
      case 'in':
        return `(${col} = any(${params.add((c.value as Scalar[]).map(normalise), 'text[]')}))`;
      case 'notIn':
        return `not coalesce(${col} = any(${params.add((c.value as Scalar[]).map(normalise), 'text[]')}), false)`;
      // Both sides are lower-cased by PostgreSQL: JavaScript's toLowerCase differs on some letters
      // ('İ' becomes 'i̇' there, 'i' in PostgreSQL), so a needle could miss its own text.
      case 'contains':
        return `(strpos(lower(${col}), lower(${params.add(String(c.value), 'text')})) > 0)`;
      case 'startsWith':
        // Emails are stored lower-case (by JavaScript): the plain `like` can use the
        // text_pattern_ops index.
        return name === 'email'
          ? `(${col} like ${params.add(likePrefix(String(c.value).toLowerCase()), 'text')})`
          : `(lower(${col}) like lower(${params.add(likePrefix(String(c.value)), 'text')}))`;
      default:
        return existence(col, c.op);
    }
  };

  const numberCondition = (col: string, c: ValueCondition, integer = false): string => {
    const values = Array.isArray(c.value) ? c.value : [c.value];
    const type = integer && values.every((v) => Number.isSafeInteger(v)) ? 'bigint' : 'numeric';
    switch (c.op) {
      case 'in':
        return `(${col} = any(${params.add(c.value, `${type}[]`)}))`;
      case 'notIn':
        return `not coalesce(${col} = any(${params.add(c.value, `${type}[]`)}), false)`;
      case 'neq':
        return `${col} is distinct from ${params.add(c.value, type)}`;
      case 'exists':
      case 'notExists':
        return existence(col, c.op);
      default:
        return `(${col} ${COMPARISON[c.op]} ${params.add(c.value, type)})`;
    }
  };

  /** `col` is a timestamptz expression. */
  const dateCondition = (col: string, c: ValueCondition): string => {
    switch (c.op) {
      case 'exists':
      case 'notExists':
        return existence(col, c.op);
      case 'withinLast':
        // Only conditions that read the evaluation time bind it: PostgreSQL rejects a parameter
        // the statement never uses.
        return `(${col} >= ${windowStart(c.value as Duration)} and ${col} <= ${params.now()})`;
      case 'notWithinLast':
        return `(${col} < ${windowStart(c.value as Duration)})`;
      default: {
        const literal = c.value as string;
        if (isDateOnly(literal)) {
          const day = params.add(literal, 'date');
          const start = `(${day}::timestamp at time zone ${TZ})`;
          const end = `((${day} + 1)::timestamp at time zone ${TZ})`;
          const bound: Partial<Record<Operator, string>> = {
            before: `< ${start}`,
            lt: `< ${start}`,
            gte: `>= ${start}`,
            after: `>= ${end}`,
            gt: `>= ${end}`,
            lte: `< ${end}`,
          };
          return `(${col} ${bound[c.op]})`;
        }
        const op = c.op === 'before' ? 'lt' : c.op === 'after' ? 'gt' : c.op;
        return `(${col} ${COMPARISON[op]} ${params.add(utcLiteral(literal), 'timestamptz')})`;
      }
    }
  };

  const windowStart = (d: Duration): string => {
    const now = params.now();
    if (d.minutes !== undefined)
      return `(${now} - make_interval(mins => ${params.add(d.minutes, 'int')}))`;
    if (d.hours !== undefined)
      return `(${now} - make_interval(hours => ${params.add(d.hours, 'int')}))`;
    const days = d.days ?? (d.weeks ?? 0) * 7;
    return `((date_trunc('day', ${now} at time zone ${TZ}) - make_interval(days => ${params.add(days - 1, 'int')})) at time zone ${TZ})`;
  };

  /**
   * `j` is a jsonb expression (a trait or an event property); the value's JSON type decides.
   * `text` is the same value as text (`->>`): (in)equality with strings that no other JSON value
   * renders as compares the text, much cheaper per row than building and comparing jsonb.
   */
  const jsonCondition = (j: string, c: ValueCondition, text?: string): string => {
    if (text !== undefined && comparesAsText(c)) {
      switch (c.op) {
        case 'eq':
          return `(${text} = ${params.add(c.value, 'text')})`;
        case 'neq':
          return `${text} is distinct from ${params.add(c.value, 'text')}`;
        case 'in':
          return `(${text} = any(${params.add(c.value, 'text[]')}))`;
        case 'notIn':
          return `not coalesce(${text} = any(${params.add(c.value, 'text[]')}), false)`;
      }
    }
    switch (c.op) {
      case 'eq':
        return `coalesce(${j} = ${params.add(JSON.stringify(c.value), 'jsonb')}, false)`;
      case 'neq':
        return `${j} is distinct from ${params.add(JSON.stringify(c.value), 'jsonb')}`;
      case 'in':
        return `coalesce(${params.add(JSON.stringify(c.value), 'jsonb')} @> jsonb_build_array(${j}), false)`;
      case 'notIn':
        return `not coalesce(${params.add(JSON.stringify(c.value), 'jsonb')} @> jsonb_build_array(${j}), false)`;
      case 'contains': {
        // On a list: a string element equal to the needle, ignoring case like every contains.
        const needle = params.add(String(c.value), 'text');
        return `coalesce(case jsonb_typeof(${j})
          when 'string' then strpos(lower(${j} #>> '{}'), lower(${needle})) > 0
          when 'array' then exists (select 1 from jsonb_array_elements(${j}) x
            where jsonb_typeof(x) = 'string' and lower(x #>> '{}') = lower(${needle}))
          else false end, false)`;
      }
      case 'startsWith':
        return `coalesce(jsonb_typeof(${j}) = 'string' and lower(${j} #>> '{}') like lower(${params.add(likePrefix(String(c.value)), 'text')}), false)`;
      case 'exists':
        return `coalesce(jsonb_typeof(${j}) <> 'null', false)`;
      case 'notExists':
        return `coalesce(jsonb_typeof(${j}) = 'null', true)`;
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        if (typeof c.value === 'number') {
          return `coalesce(case when jsonb_typeof(${j}) = 'number' then (${j})::numeric ${COMPARISON[c.op]} ${params.add(c.value, 'numeric')} end, false)`;
        }
        return dateCondition(jsonTimestamp(j), c);
      default:
        return dateCondition(jsonTimestamp(j), c);
    }
  };

  const jsonTimestamp = (j: string) =>
    `${S}.json_timestamptz(case when jsonb_typeof(${j}) = 'string' then ${j} #>> '{}' end)`;

  const existence = (col: string, op: Operator) =>
    op === 'exists' ? `(${col} is not null)` : `(${col} is null)`;

  const eventFilter = (n: EventCondition): string => {
    const parts = [`e.event = ${params.add(n.event, 'text')}`];
    if (n.withinDays !== undefined) parts.push(eventWindow(n.withinDays));
    for (const f of n.where ?? []) {
      const keys = f.property.split('.').map((key) => params.add(key, 'text'));
      const path = keys.map((key) => ` -> ${key}`);
      const text = `(e.properties${path.slice(0, -1).join('')} ->> ${keys[keys.length - 1]})`;
      parts.push(jsonCondition(`(e.properties${path.join('')})`, f, text));
    }
    return parts.join(' and ');
  };

  const emailFilter = (n: EmailCondition): string => {
    const parts = [`e.action = ${params.add(EMAIL_ACTIONS[n.email], 'text')}`];
    if (n.campaignId !== undefined)
      parts.push(`e.campaign_id = ${params.add(n.campaignId, 'text')}`);
    if (n.withinDays !== undefined) parts.push(eventWindow(n.withinDays));
    return parts.join(' and ');
  };

  /**
   * (asOf - N×24h, asOf]: hours, not days, so the session timezone's DST cannot make a day 23 or 25
   * hours long; a row stamped after the evaluation time is not "in the last N days".
   */
  const eventWindow = (days: number) =>
    `(e.occurred_at > ${params.now()} - make_interval(hours => ${params.add(days * 24, 'int')})
      and e.occurred_at <= ${params.now()})`;

  /**
   * A count condition over rows of `table` (alias `e`) matching the filter. The filter binds its
   * values only when the SQL uses it: a count that always or never holds needs no rows, and
   * PostgreSQL rejects a parameter the statement never uses.
   */
  const behaviour = (
    table: string,
    buildFilter: () => string,
    n: { count?: CountCondition },
  ): string => {
    const count = n.count ?? DEFAULT_COUNT;
    const shape = countShape(count);
    if (shape === 'always') return 'true';
    if (shape === 'never') return 'false';
    const filter = buildFilter();
    const source = `${S}.${table} e`;
    const correlated = `select 1 from ${source} where e.customer_id = p.customer_id and ${filter}`;
    switch (shape) {
      case 'none':
        return `not exists (${correlated})`;
      case 'some':
        // A semi-join: over the population a hash join, for a few customers an index lookup each.
        return `p.customer_id in (select e.customer_id from ${source} where ${filter})`;
    }
    const op = COMPARISON[count.op];
    const value = params.add(count.value, 'int');
    if (options.mode === 'customers') {
      return `(select count(*) from ${source} where e.customer_id = p.customer_id and ${filter}) ${op} ${value}`;
    }
    if (!countMatches(count, 0)) {
      return `p.customer_id in (select e.customer_id from ${source} where ${filter}
        group by e.customer_id having count(*) ${op} ${value})`;
    }
    return `not exists (select 1 from (select e.customer_id from ${source} where ${filter}
        group by e.customer_id having not (count(*) ${op} ${value})) x
      where x.customer_id = p.customer_id)`;
  };

  const prediction = (n: PredictionCondition): string =>
    `exists (select 1 from ${S}.customer_prediction pr where pr.customer_id = p.customer_id
      and pr.${PREDICTION_COLUMNS[n.prediction]} ${COMPARISON[n.op]} ${params.add(n.value, 'float8')})`;

  return { sql: node(root), params: params.values };
}

export function countMatches(count: CountCondition, n: number): boolean {
  switch (count.op) {
    case 'eq':
      return n === count.value;
    case 'neq':
      return n !== count.value;
    case 'gt':
      return n > count.value;
    case 'gte':
      return n >= count.value;
    case 'lt':
      return n < count.value;
    default:
      return n <= count.value;
  }
}

/**
 * The shape of a count condition: true or false whatever the count, "at least one", "none", or a
 * general comparison.
 */
export function countShape(
  count: CountCondition,
): 'always' | 'never' | 'some' | 'none' | 'general' {
  const { op, value } = count;
  if ((op === 'gte' && value === 0) || (op === 'neq' && value < 0)) return 'always';
  if (op === 'lt' && value === 0) return 'never';
  if (
    (op === 'gte' && value === 1) ||
    (op === 'gt' && value === 0) ||
    (op === 'neq' && value === 0)
  ) {
    return 'some';
  }
  if (
    (op === 'eq' && value === 0) ||
    (op === 'lt' && value === 1) ||
    (op === 'lte' && value === 0)
  ) {
    return 'none';
  }
  return 'general';
}

/**
 * True when `eq`/`neq`/`in`/`notIn` may compare the value's text (`->>`): every value is a string
 * no other JSON value renders as (numbers start with a digit or '-', arrays with '[', objects with
 * '{'; `true`/`false`; JSON null has no text), so equal text means an equal JSON string.
 */
function comparesAsText(c: ValueCondition): boolean {
  if (!['eq', 'neq', 'in', 'notIn'].includes(c.op)) return false;
  const values = Array.isArray(c.value) ? c.value : [c.value];
  return values.every(
    (v) => typeof v === 'string' && !/^(?:true|false)$/.test(v) && !/^[-\d[{]/.test(v),
  );
}

function likePrefix(value: string): string {
  return `${value.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/** A date-time without an offset means UTC. */
function utcLiteral(value: string): string {
  return /(?:Z|[+-]\d{2}:?\d{2})$/.test(value) ? value : `${value}Z`;
}
