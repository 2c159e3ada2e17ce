/**
 * The automation grammar, version 1: an entry `trigger` and a workflow of `steps` (the JSON of
 * `CampaignInput.trigger` / `steps`). `parseAutomation` turns untrusted JSON into a typed workflow
 * or throws a `BAD_USER_INPUT` error whose path points at the offending value (`input.steps[2].next`).
 *
 * Shapes are checked by zod (and published as JSON Schema by `automationGrammar`); the graph is
 * checked by hand: unique ids, known targets, every step reachable from the first, no cycle without
 * a wait, split weights summing to 1, and known email templates (their current version is pinned).
 *
 * A step's successor is its `next` (or `then`/`else`, `onEvent`/`onTimeout`, a split branch's
 * `next`); when absent, the step after it in the list; after the last step the enrolment completes.
 */
import { InvalidInputError } from '@marketing/platform';
import { z } from 'zod';

const LIMITS = { steps: 100, conditionDepth: 6, filters: 20, maxWaitDays: 365 } as const;

const id = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a step id is 1-64 letters, digits, "_" or "-"');
const uuid = z.uuid();
const scalar = z.union([z.string().max(1_000), z.number().finite(), z.boolean()]);

/** A duration as in the segment grammar: `{ "hours": 1 }`, `{ "days": 2, "hours": 12 }`. */
export interface Duration {
  minutes?: number;
  hours?: number;
  days?: number;
  weeks?: number;
}

export const durationSchema: z.ZodType<Duration> = z
  .strictObject({
    minutes: z.number().int().nonnegative().optional(),
    hours: z.number().int().nonnegative().optional(),
    days: z.number().int().nonnegative().optional(),
    weeks: z.number().int().nonnegative().optional(),
  })
  .refine((d) => durationMs(d) > 0, 'a duration is above zero')
  .refine(
    (d) => durationMs(d) <= LIMITS.maxWaitDays * 86_400_000,
    `a duration is at most ${LIMITS.maxWaitDays} days`,
  );

export function durationMs(d: Duration): number {
  return (
    (d.minutes ?? 0) * 60_000 +
    (d.hours ?? 0) * 3_600_000 +
    (d.days ?? 0) * 86_400_000 +
    (d.weeks ?? 0) * 604_800_000
  );
}

export const FILTER_OPS = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'contains',
  'exists',
] as const;

/** A condition on a property of an event (dotted path) or of the customer's traits. */
const propertyFilter = z
  .strictObject({
    property: z.string().regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+){0,4}$/, 'a dotted path'),
    op: z.enum(FILTER_OPS),
    value: z.union([scalar, z.array(scalar).max(1_000)]).optional(),
  })
  .superRefine((f, ctx) => {
    if (f.op === 'exists') {
      if (f.value !== undefined && typeof f.value !== 'boolean')
        ctx.addIssue({ code: 'custom', path: ['value'], message: '"exists" takes true or false' });
      return;
    }
    if (f.value === undefined) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `"${f.op}" needs a value` });
    } else if ((f.op === 'in') !== Array.isArray(f.value)) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: f.op === 'in' ? '"in" takes a list' : `"${f.op}" takes a single value`,
      });
    } else if (['gt', 'gte', 'lt', 'lte'].includes(f.op) && typeof f.value === 'boolean') {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `"${f.op}" compares numbers or text`,
      });
    }
  });
export type PropertyFilter = z.infer<typeof propertyFilter>;

const eventName = z.string().min(1).max(200);
const where = z.array(propertyFilter).max(LIMITS.filters).optional();
export const eventMatcherSchema = z.strictObject({ event: eventName, where });
export type EventMatcher = z.infer<typeof eventMatcherSchema>;

export type Condition =
  | { inSegment: string }
  | { attribute: string; op: (typeof FILTER_OPS)[number]; value?: unknown }
  | { event: string; where?: PropertyFilter[]; since?: 'entry' }
  | { and: Condition[] }
  | { or: Condition[] }
  | { not: Condition };

const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([
    z.strictObject({ inSegment: uuid }),
    z.strictObject({
      attribute: z
        .string()
        .regex(
          /^(traits|event)\.[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+){0,4}$/,
          'traits.<path> or event.<path>',
        ),
      op: z.enum(FILTER_OPS),
      value: z.union([scalar, z.array(scalar).max(1_000)]).optional(),
    }),
    z.strictObject({ event: eventName, where, since: z.literal('entry').optional() }),
    z.strictObject({ and: z.array(conditionSchema).min(1).max(20) }),
    z.strictObject({ or: z.array(conditionSchema).min(1).max(20) }),
    z.strictObject({ not: conditionSchema }),
  ]),
);

const next = id.optional();
const stepSchema = z.discriminatedUnion('type', [
  z.strictObject({ id, type: z.literal('wait'), duration: durationSchema, next }),
  z.strictObject({
    id,
    type: z.literal('waitUntil'),
    /** A local time of day in the customer's timezone, "HH:MM". */
    time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day "HH:MM"'),
    next,
  }),
  z.strictObject({
    id,
    type: z.literal('waitForEvent'),
    event: eventName,
    where,
    timeout: durationSchema,
    onEvent: next,
    onTimeout: next,
  }),
  z.strictObject({
    id,
    type: z.literal('branch'),
    condition: conditionSchema,
    then: next,
    else: next,
  }),
  z.strictObject({
    id,
    type: z.literal('split'),
    branches: z
      .array(z.strictObject({ weight: z.number().gt(0).lte(1), next }))
      .min(2)
      .max(10),
  }),
  z.strictObject({
    id,
    type: z.literal('sendEmail'),
    /** When absent, the template of the enrolment's campaign variant. */
    templateId: uuid.optional(),
    next,
  }),
  z.strictObject({ id, type: z.literal('exit') }),
]);
export type Step = z.infer<typeof stepSchema> & { templateVersion?: number };

export const stepsSchema = z.array(stepSchema).min(1).max(LIMITS.steps);

export const triggerSchema = z.strictObject({
  /** What enrols a customer: an event, or entering/leaving a segment. */
  on: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('event'), event: eventName, where }),
    z.strictObject({ type: z.literal('segmentEntered'), segmentId: uuid }),
    z.strictObject({ type: z.literal('segmentExited'), segmentId: uuid }),
  ]),
  /** Whether a customer may enrol again: once ever, every time, or after a cooldown since the last entry. */
  reentry: z
    .discriminatedUnion('policy', [
      z.strictObject({ policy: z.literal('once') }),
      z.strictObject({ policy: z.literal('always') }),
      z.strictObject({ policy: z.literal('cooldown'), cooldown: durationSchema }),
    ])
    .default({ policy: 'once' }),
  /** Goal events: one of them ends an active enrolment (reason "goal: <event>"). */
  exitOn: z.array(eventMatcherSchema).max(10).default([]),
});
export type Trigger = z.infer<typeof triggerSchema>;

export interface Workflow {
  trigger: Trigger;
  steps: Step[];
}

/** Successors of a step, with the input path of each reference. */
export function successors(steps: Step[], index: number): { id: string | null; path: string }[] {
  const step = steps[index]!;
  const fallthrough = steps[index + 1]?.id ?? null;
  const at = (key: string, value: string | undefined) => ({
    id: value ?? fallthrough,
    path: `[${index}].${key}`,
  });
  switch (step.type) {
    case 'exit':
      return [];
    case 'branch':
      return [at('then', step.then), at('else', step.else)];
    case 'waitForEvent':
      return [at('onEvent', step.onEvent), at('onTimeout', step.onTimeout)];
    case 'split':
      return step.branches.map((b, i) => ({
        id: b.next ?? fallthrough,
        path: `[${index}].branches[${i}].next`,
      }));
    default:
      return [at('next', step.next)];
  }
}

const WAITS = new Set(['wait', 'waitUntil', 'waitForEvent']);

/**
 * Validates trigger and steps. `templateVersions` gives the current version of each known template
 * (unknown ones are errors); the returned steps pin it.
 */
export function parseAutomation(
  trigger: unknown,
  steps: unknown,
  templateVersions: Map<string, number>,
  path = 'input',
): Workflow {
  const parsedTrigger = parseWith(triggerSchema, trigger, `${path}.trigger`);
  const parsedSteps = parseWith(stepsSchema, steps, `${path}.steps`) as Step[];
  const at = (suffix: string) => `${path}.steps${suffix}`;

  const index = new Map<string, number>();
  parsedSteps.forEach((step, i) => {
    if (index.has(step.id))
      throw new InvalidInputError(`duplicate step id "${step.id}"`, at(`[${i}].id`));
    index.set(step.id, i);
  });
  parsedSteps.forEach((step, i) => {
    for (const s of successors(parsedSteps, i)) {
      if (s.id !== null && !index.has(s.id))
        throw new InvalidInputError(`no step with id "${s.id}"`, at(s.path));
    }
    if (step.type === 'split') {
      const total = step.branches.reduce((sum, b) => sum + b.weight, 0);
      if (Math.abs(total - 1) > 1e-9)
        throw new InvalidInputError(`the weights sum to ${total}, not 1`, at(`[${i}].branches`));
    }
    if (step.type === 'sendEmail' && step.templateId) {
      const version = templateVersions.get(step.templateId);
      if (version === undefined)
        throw new InvalidInputError(
          `no email template with id "${step.templateId}"`,
          at(`[${i}].templateId`),
        );
      step.templateVersion = version;
    }
  });

  // Reachability from the first step.
  const reached = new Set<number>([0]);
  const queue = [0];
  while (queue.length > 0) {
    const i = queue.shift()!;
    for (const s of successors(parsedSteps, i)) {
      const j = s.id === null ? undefined : index.get(s.id);
      if (j !== undefined && !reached.has(j)) {
        reached.add(j);
        queue.push(j);
      }
    }
  }
  const unreachable = parsedSteps.findIndex((_, i) => !reached.has(i));
  if (unreachable >= 0)
    throw new InvalidInputError(
      `step "${parsedSteps[unreachable]!.id}" cannot be reached from the first step`,
      at(`[${unreachable}]`),
    );

  // A cycle must pass through a wait: a depth-first search over the steps that are not waits
  // finds any cycle among them.
  const state = new Map<number, 'open' | 'done'>();
  const visit = (i: number) => {
    state.set(i, 'open');
    for (const s of successors(parsedSteps, i)) {
      const j = s.id === null ? undefined : index.get(s.id);
      if (j === undefined || WAITS.has(parsedSteps[j]!.type)) continue;
      if (state.get(j) === 'open')
        throw new InvalidInputError(
          `a loop back to "${parsedSteps[j]!.id}" without a wait would never pause`,
          at(s.path),
        );
      if (!state.has(j)) visit(j);
    }
    state.set(i, 'done');
  };
  parsedSteps.forEach((step, i) => {
    if (!state.has(i) && !WAITS.has(step.type)) visit(i);
  });
  return { trigger: parsedTrigger, steps: parsedSteps };
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, path: string): T {
  if (value === undefined || value === null)
    throw new InvalidInputError('is required for an AUTOMATION', path);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = deepestIssue(result.error.issues);
  const suffix = issue.path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('');
  throw new InvalidInputError(issue.message, `${path}${suffix}`);
}

/** For unions zod reports one issue per alternative; the one that got furthest is the useful one. */
function deepestIssue(issues: z.core.$ZodIssue[]): z.core.$ZodIssue {
  let best = issues[0]!;
  const visit = (list: z.core.$ZodIssue[], prefix: PropertyKey[]) => {
    for (const issue of list) {
      const full = { ...issue, path: [...prefix, ...issue.path] } as z.core.$ZodIssue;
      if (issue.code === 'invalid_union' && 'errors' in issue) {
        for (const alternative of issue.errors) visit(alternative, full.path);
      } else if (full.path.length > best.path.length) {
        best = full;
      }
    }
  };
  visit(issues, []);
  return best;
}

/** The grammar as JSON Schema (draft 2020-12), for editors and clients. */
export function automationGrammar(): Record<string, unknown> {
  return {
    trigger: z.toJSONSchema(triggerSchema, { io: 'input', unrepresentable: 'any' }),
    steps: z.toJSONSchema(stepsSchema, { io: 'input', unrepresentable: 'any' }),
  };
}
