/**
 * The event bus port. Two transports implement it: NATS JetStream (when NATS_URL is set) and a
 * PostgreSQL-backed log (the embedded default). Both give the same guarantees, checked by one
 * contract suite: at-least-once delivery to durable named consumers, de-duplication of a message
 * id per subject, bounded redelivery with backoff, and a dead-letter record with the failure reason.
 * Exactly-once effects are the consumer's job (processed ids recorded with the effect).
 */

export interface BusMessage<T = unknown> {
  /** Unique per subject: publishing the same id twice delivers it once (the de-duplication key). */
  id: string;
  subject: string;
  data: T;
}

export interface Delivery<T = unknown> extends BusMessage<T> {
  /** 1 on the first delivery, then 2, 3, ... up to maxDeliver. */
  attempt: number;
}

export interface ConsumerOptions<T> {
  /** Durable consumer name: its position survives restarts; replicas with the same name share it. */
  name: string;
  subjects: string[];
  /**
   * Handles a batch all-or-nothing. When it throws, the transport retries the batch's messages one
   * by one, so a poison message is isolated and the rest flow.
   */
  handle: (batch: Delivery<T>[]) => Promise<void>;
  batchSize?: number;
  /** Deliveries before a message goes to the dead letters (default 5). */
  maxDeliver?: number;
  /** Delay before redelivery n (the last value repeats). */
  backoffMs?: number[];
  /** Called when a message is dead-lettered (logging, metrics). */
  onDeadLetter?: (letter: DeadLetter) => void;
}

export interface DeadLetter {
  consumer: string;
  subject: string;
  id: string;
  data: unknown;
  reason: string;
  attempts: number;
  failedAt: Date;
}

export interface Consumer {
  stop(): Promise<void>;
}

import type { MessageErasure } from './message-erasure.js';

export interface EventBus {
  readonly kind: 'nats' | 'postgres';
  /** Durably stores the messages (resolves once they cannot be lost). */
  publish(messages: BusMessage[]): Promise<void>;
  consume<T>(options: ConsumerOptions<T>): Promise<Consumer>;
  deadLetters(consumer: string): Promise<DeadLetter[]>;
  /** Reads every retained message of a subject from the start, in order, in batches (rebuilds). */
  replay(
    subject: string,
    handle: (batch: BusMessage[]) => Promise<void>,
    batchSize?: number,
  ): Promise<number>;
  /**
   * GDPR erasure: deletes every retained message and dead letter that mentions the person (see
   * message-erasure.ts); sequence numbers are never reused or renumbered. Returns how many.
   */
  eraseMessages(match: MessageErasure): Promise<number>;
  /** Throws when the transport is unreachable (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_BACKOFF_MS = [1_000, 5_000, 30_000, 120_000];
export const DEFAULT_MAX_DELIVER = 5;

export function backoffFor(attempt: number, backoffMs: number[] = DEFAULT_BACKOFF_MS): number {
  return backoffMs[Math.min(attempt - 1, backoffMs.length - 1)] ?? 1_000;
}

export function describeError(error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return message.slice(0, 2_000);
}

/**
 * An infrastructure failure (the database unreachable, a connection cut): no message is at fault,
 * so transports retry the whole batch later without counting an attempt or dead-lettering.
 */
export class TransientFailure extends Error {
  constructor(override readonly cause: unknown) {
    super(`transient failure: ${describeError(cause)}`);
    this.name = 'TransientFailure';
  }
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (TRANSIENT_CODES.has(code) || /^(08|57P0[1-3]|53)/.test(code)))
    return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)/i.test(
    message,
  );
}

/**
 * Runs a batch; when the batch fails, runs each message alone and reports which failed, so one
 * poison message cannot hold back the others. An infrastructure failure is rethrown as
 * TransientFailure instead: retrying message by message would only count attempts against good
 * messages.
 */
export async function handleIsolating<T>(
  batch: Delivery<T>[],
  handle: (batch: Delivery<T>[]) => Promise<void>,
): Promise<Map<Delivery<T>, unknown>> {
  const failures = new Map<Delivery<T>, unknown>();
  try {
    await handle(batch);
    return failures;
  } catch (error) {
    if (isTransient(error)) throw new TransientFailure(error);
    if (batch.length === 1) {
      failures.set(batch[0], error);
      return failures;
    }
  }
  for (const delivery of batch) {
    try {
      await handle([delivery]);
    } catch (error) {
      if (isTransient(error)) throw new TransientFailure(error);
      failures.set(delivery, error);
    }
  }
  return failures;
}
