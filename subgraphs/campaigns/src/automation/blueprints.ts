/**
 * Ready-made automations a marketer starts from: abandoned checkout, welcome series, post-purchase
 * cross-sell and win-back. A blueprint builds the trigger and steps of the grammar from the email
 * templates (and, for win-back, the churn-risk segment) the marketer picks; the result is an
 * ordinary DRAFT automation, validated like any other, to adjust before launching.
 */
import { InvalidInputError } from '@marketing/platform';
import type { Trigger } from './workflow.js';

export interface BlueprintChoice {
  templateIds: string[];
  segmentId?: string | null;
}

export interface Blueprint {
  key: string;
  name: string;
  description: string;
  /** How many templates it takes (the first are required, the rest optional). */
  templates: { min: number; max: number; roles: string[] };
  /** A segment it needs, and the definition that segment should have. */
  segment: { required: boolean; suggestedDefinition: unknown } | null;
  build(choice: BlueprintChoice): { trigger: Trigger; steps: unknown[] };
}

export const BLUEPRINTS: Blueprint[] = [
  {
    key: 'abandoned-checkout',
    name: 'Abandoned checkout',
    description:
      'When a checkout is started and no order follows within an hour, send a reminder with the cart (the template gets the checkout as `event`); optionally a second reminder a day later. Ordering ends it.',
    templates: { min: 1, max: 2, roles: ['reminder after 1 hour', 'second reminder after 1 day'] },
    segment: null,
    build: ({ templateIds: [first, second] }) => ({
      trigger: {
        on: { type: 'event', event: 'Checkout Started' },
        reentry: { policy: 'cooldown', cooldown: { days: 1 } },
        exitOn: [{ event: 'Order Completed' }],
      },
      steps: [
        {
          id: 'wait-for-order',
          type: 'waitForEvent',
          event: 'Order Completed',
          timeout: { hours: 1 },
          onEvent: 'ordered',
          onTimeout: 'reminder',
        },
        {
          id: 'reminder',
          type: 'sendEmail',
          templateId: first,
          next: second ? 'wait-a-day' : 'done',
        },
        ...(second
          ? [
              { id: 'wait-a-day', type: 'wait', duration: { days: 1 } },
              { id: 'second-reminder', type: 'sendEmail', templateId: second, next: 'done' },
            ]
          : []),
        { id: 'ordered', type: 'exit' },
        { id: 'done', type: 'exit' },
      ],
    }),
  },
  {
    key: 'welcome-series',
    name: 'Welcome series',
    description:
      'On sign-up, a welcome email right away, then the next ones two and five days later (as many as templates are given).',
    templates: { min: 1, max: 3, roles: ['welcome', 'day 2', 'day 5'] },
    segment: null,
    build: ({ templateIds }) => {
      const delays = [0, 2, 3];
      const steps: unknown[] = [];
      templateIds.forEach((templateId, i) => {
        if (i > 0) steps.push({ id: `wait-${i}`, type: 'wait', duration: { days: delays[i] } });
        steps.push({ id: `welcome-${i + 1}`, type: 'sendEmail', templateId });
      });
      return {
        trigger: {
          on: { type: 'event', event: 'Signed Up' },
          reentry: { policy: 'once' },
          exitOn: [],
        },
        steps,
      };
    },
  },
  {
    key: 'post-purchase-cross-sell',
    name: 'Post-purchase cross-sell',
    description:
      'A week after an order, unless the customer has ordered again since, suggest what goes with what they bought (the template gets the order as `event`). At most once a month per customer.',
    templates: { min: 1, max: 1, roles: ['cross-sell'] },
    segment: null,
    build: ({ templateIds: [template] }) => ({
      trigger: {
        on: { type: 'event', event: 'Order Completed' },
        reentry: { policy: 'cooldown', cooldown: { days: 30 } },
        exitOn: [],
      },
      steps: [
        { id: 'wait-a-week', type: 'wait', duration: { days: 7 } },
        {
          id: 'ordered-again',
          type: 'branch',
          condition: { event: 'Order Completed' },
          then: 'done',
          else: 'cross-sell',
        },
        { id: 'cross-sell', type: 'sendEmail', templateId: template, next: 'done' },
        { id: 'done', type: 'exit' },
      ],
    }),
  },
  {
    key: 'win-back',
    name: 'Win-back',
    description:
      'When a customer enters a churn-risk segment (built on the analytics prediction), send a we-miss-you email; if no order follows within a week, an incentive. An order ends it.',
    templates: { min: 1, max: 2, roles: ['we miss you', 'incentive after 7 days'] },
    segment: {
      required: true,
      suggestedDefinition: {
        and: [
          { prediction: 'churnRisk', op: 'gt', value: 0.7 },
          { attribute: 'orderCount', op: 'gte', value: 1 },
        ],
      },
    },
    build: ({ templateIds: [first, incentive], segmentId }) => ({
      trigger: {
        on: { type: 'segmentEntered', segmentId: segmentId! },
        reentry: { policy: 'cooldown', cooldown: { days: 90 } },
        exitOn: [{ event: 'Order Completed' }],
      },
      steps: [
        { id: 'we-miss-you', type: 'sendEmail', templateId: first },
        ...(incentive
          ? [
              {
                id: 'wait-for-order',
                type: 'waitForEvent',
                event: 'Order Completed',
                timeout: { days: 7 },
                onEvent: 'done',
                onTimeout: 'incentive',
              },
              { id: 'incentive', type: 'sendEmail', templateId: incentive, next: 'done' },
            ]
          : []),
        { id: 'done', type: 'exit' },
      ],
    }),
  },
];

/** The blueprint's trigger and steps for the marketer's choice; bad choices are BAD_USER_INPUT. */
export function buildFromBlueprint(key: string, choice: BlueprintChoice) {
  const blueprint = BLUEPRINTS.find((b) => b.key === key);
  if (!blueprint)
    throw new InvalidInputError(
      `no blueprint "${key}"; one of ${BLUEPRINTS.map((b) => b.key).join(', ')}`,
      'blueprint',
    );
  const { min, max } = blueprint.templates;
  if (choice.templateIds.length < min || choice.templateIds.length > max)
    throw new InvalidInputError(
      `"${key}" takes ${min === max ? min : `${min} to ${max}`} template(s): ${blueprint.templates.roles.join(', ')}`,
      'templateIds',
    );
  if (blueprint.segment?.required && !choice.segmentId)
    throw new InvalidInputError(`"${key}" needs a segment`, 'segmentId');
  return { blueprint, ...blueprint.build(choice) };
}
