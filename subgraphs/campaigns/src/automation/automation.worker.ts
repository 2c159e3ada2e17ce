/**
 * Starts the automation engine in a replica: pg-boss (schema `campaigns_jobs`, retries with
 * exponential backoff, a dead-letter queue that marks the enrolment FAILED) and the two consumers
 * that feed it (`ecommerce.events` and `marketing.segments`). Replicas share the queue: pg-boss
 * claims each job once (`skip locked`), and the enrolment's `seq` makes a repeated job harmless.
 */
import {
  ECOMMERCE_EVENTS_SUBJECT,
  parseEvent,
  parseIngestedDelivery,
  reportDeadLetter,
  SEGMENT_EVENTS_SUBJECT,
  segmentMembershipEventSchema,
  type ConsumerDeps,
} from '@marketing/platform';
import { PgBoss, systemClock, type Clock, type JobResult } from 'pg-boss';
import {
  AUTOMATION_EVENTS_CONSUMER,
  AUTOMATION_SEGMENTS_CONSUMER,
  AutomationEngine,
  STEP_DEAD_LETTERS,
  STEP_QUEUE,
  type AutomationSettings,
  type StepJob,
} from './engine.js';
import { parseQuietHours } from './local-time.js';

export const JOBS_SCHEMA = 'campaigns_jobs';

export interface AutomationWorkerOptions extends ConsumerDeps {
  databaseUrl: string;
  settings: AutomationSettings;
  /** pg-boss's clock; tests pass a TestClock and move time by hand. */
  clock?: Clock;
  concurrency?: number;
  /** Seconds between retries of a failed step (doubling, with jitter). */
  retryDelaySeconds?: number;
  retryLimit?: number;
}

export function automationSettings(config: {
  FREQUENCY_CAP: string;
  QUIET_HOURS: string;
  DEFAULT_TIMEZONE: string;
}): AutomationSettings {
  const cap = /^(\d+)\/(\d+)h$/.exec(config.FREQUENCY_CAP);
  return {
    frequencyCap: cap ? { count: Number(cap[1]), windowMs: Number(cap[2]) * 3_600_000 } : null,
    quietHours: parseQuietHours(config.QUIET_HOURS),
    defaultTimezone: config.DEFAULT_TIMEZONE,
  };
}

export interface AutomationWorker {
  engine: AutomationEngine;
  boss: PgBoss;
  stop(): Promise<void>;
}

/** pg-boss and the step workers (no consumers): tests feed the engine directly. */
export async function startAutomationJobs(
  options: Omit<AutomationWorkerOptions, 'bus'>,
): Promise<AutomationWorker> {
  const clock = options.clock ?? systemClock;
  const boss = new PgBoss({
    connectionString: options.databaseUrl,
    schema: JOBS_SCHEMA,
    clock,
    max: 3,
    application_name: 'campaigns-automation',
  });
  boss.on('error', (error: unknown) =>
    options.logger.error({ err: error }, 'automation jobs: pg-boss error'),
  );
  await boss.start();
  await boss.createQueue(STEP_DEAD_LETTERS, { retentionSeconds: 30 * 86_400 });
  await boss.createQueue(STEP_QUEUE, {
    retryLimit: options.retryLimit ?? 8,
    retryDelay: options.retryDelaySeconds ?? 2,
    retryBackoff: true,
    retryDelayMax: 600,
    expireInSeconds: 300,
    deadLetter: STEP_DEAD_LETTERS,
  });
  const engine = new AutomationEngine(options.orm, boss, clock, options.settings, options.logger);
  // Batches of 10 with burst fetching: while batches come back full the worker fetches again at
  // once instead of waiting out the polling interval (with batches of 1 pg-boss polls after every
  // job, about 8 jobs/s per replica). Each job settles on its own: one failing step is retried
  // alone, not with the rest of its batch.
  await boss.work<StepJob>(
    STEP_QUEUE,
    {
      batchSize: 10,
      burstWhenBatchFull: true,
      perJobResults: true,
      localConcurrency: options.concurrency ?? 4,
      pollingIntervalSeconds: 0.5,
    },
    async (jobs) => {
      const results: JobResult[] = [];
      for (const job of jobs) {
        try {
          await engine.run(job.data);
          results.push({ id: job.id, status: 'completed' });
          options.metrics?.messages.inc({ stage: STEP_QUEUE, result: 'ran' });
        } catch (error) {
          options.logger.warn(
            { err: error, enrollmentId: job.data.enrollmentId },
            'automation step failed, will retry',
          );
          results.push({ id: job.id, status: 'failed', output: { message: String(error) } });
          options.metrics?.messages.inc({ stage: STEP_QUEUE, result: 'failed' });
        }
      }
      return results;
    },
  );
  await boss.work<StepJob>(STEP_DEAD_LETTERS, { pollingIntervalSeconds: 2 }, async (jobs) => {
    for (const job of jobs) await engine.fail(job.data, 'retries exhausted');
  });
  return {
    engine,
    boss,
    stop: () => boss.stop({ graceful: true, timeout: 10_000 }),
  };
}

export async function startAutomationWorker(
  options: AutomationWorkerOptions,
): Promise<AutomationWorker> {
  const jobs = await startAutomationJobs(options);
  const { engine } = jobs;
  const events = await options.bus.consume<unknown>({
    name: AUTOMATION_EVENTS_CONSUMER,
    subjects: [ECOMMERCE_EVENTS_SUBJECT],
    batchSize: 500,
    backoffMs: options.backoffMs,
    onDeadLetter: reportDeadLetter(AUTOMATION_EVENTS_CONSUMER, options),
    handle: async (batch) => {
      const enrolled = await engine.onIngested(batch.map(parseIngestedDelivery));
      if (enrolled > 0)
        options.metrics?.messages.inc(
          { stage: AUTOMATION_EVENTS_CONSUMER, result: 'enrolled' },
          enrolled,
        );
    },
  });
  const segments = await options.bus.consume<unknown>({
    name: AUTOMATION_SEGMENTS_CONSUMER,
    subjects: [SEGMENT_EVENTS_SUBJECT],
    batchSize: 500,
    backoffMs: options.backoffMs,
    onDeadLetter: reportDeadLetter(AUTOMATION_SEGMENTS_CONSUMER, options),
    handle: async (batch) => {
      await engine.onSegmentEvents(
        batch.map((d) => ({ ...parseEvent(segmentMembershipEventSchema, d.data, d.id), id: d.id })),
      );
    },
  });
  return {
    ...jobs,
    stop: async () => {
      await events.stop();
      await segments.stop();
      await jobs.stop();
    },
  };
}
