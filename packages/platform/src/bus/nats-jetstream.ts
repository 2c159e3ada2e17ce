/**
 * The NATS JetStream transport. One stream (EVENTS) holds every subject the platform uses; message
 * ids go in `Nats-Msg-Id`, so JetStream drops a republished id within the duplicate window. Durable
 * pull consumers with explicit acks; a failed message is nak'ed with the backoff delay and, at its
 * last delivery, copied to `deadletter.<consumer>` (stream DEADLETTER) with the reason, then
 * terminated so the rest flow.
 */
import {
  AckPolicy,
  connect,
  DeliverPolicy,
  headers,
  JSONCodec,
  nanos,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import {
  backoffFor,
  DEFAULT_MAX_DELIVER,
  describeError,
  handleIsolating,
  TransientFailure,
  type BusMessage,
  type Consumer,
  type ConsumerOptions,
  type DeadLetter,
  type EventBus,
} from './event-bus.js';
import { messageMentions, type MessageErasure } from './message-erasure.js';

const STREAM = 'EVENTS';
const DEAD_LETTER_STREAM = 'DEADLETTER';
export const STREAM_SUBJECTS = ['ecommerce.>', 'marketing.>'];
const codec = JSONCodec();
/** Unacked messages of a crashed consumer come back after this; handlers signal progress within it. */
const ACK_WAIT_MS = 10_000;

export class NatsJetStreamBus implements EventBus {
  readonly kind = 'nats' as const;
  private readonly consumers = new Set<NatsConsumer<unknown>>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
  ) {}

  static async connect(
    url: string,
    options: { name?: string; duplicateWindowMs?: number } = {},
  ): Promise<NatsJetStreamBus> {
    const nc = await connect({
      servers: url,
      name: options.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    const jsm = await nc.jetstreamManager();
    await ensureStream(jsm, STREAM, STREAM_SUBJECTS, options.duplicateWindowMs ?? 60 * 60 * 1000);
    await ensureStream(jsm, DEAD_LETTER_STREAM, ['deadletter.>'], 2 * 60 * 1000);
    return new NatsJetStreamBus(nc, jsm, nc.jetstream());
  }

  async publish(messages: BusMessage[]): Promise<void> {
    const chunk = 1_000;
    for (let i = 0; i < messages.length; i += chunk) {
      await Promise.all(
        messages
          .slice(i, i + chunk)
          .map((m) =>
            this.js.publish(m.subject, codec.encode(m.data), { msgID: `${m.subject}:${m.id}` }),
          ),
      );
    }
  }

  /**
   * One durable JetStream consumer per subject: servers before 2.10 filter on a single subject.
   * Ordering across subjects is not promised by either transport.
   */
  async consume<T>(options: ConsumerOptions<T>): Promise<Consumer> {
    const started = await Promise.all(
      options.subjects.map(async (subject, i) => {
        const durable = consumerName(
          options.subjects.length === 1 ? options.name : `${options.name}__${i}`,
        );
        await this.ensureConsumer(durable, subject);
        const consumer = new NatsConsumer<T>(this.js, durable, options);
        this.consumers.add(consumer as NatsConsumer<unknown>);
        consumer.start();
        return consumer;
      }),
    );
    return {
      stop: async () => {
        for (const consumer of started) this.consumers.delete(consumer as NatsConsumer<unknown>);
        await Promise.all(started.map((c) => c.stop()));
      },
    };
  }

  private async ensureConsumer(durable: string, subject: string): Promise<void> {
    try {
      const info = await this.jsm.consumers.info(STREAM, durable);
      if (info.config.filter_subject !== subject || info.config.ack_wait !== nanos(ACK_WAIT_MS)) {
        await this.jsm.consumers.update(STREAM, durable, {
          filter_subject: subject,
          ack_wait: nanos(ACK_WAIT_MS),
        });
      }
    } catch {
      await this.jsm.consumers.add(STREAM, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: subject,
        ack_wait: nanos(ACK_WAIT_MS),
        max_ack_pending: 20_000,
      });
    }
  }

  async deadLetters(consumer: string): Promise<DeadLetter[]> {
    const subject = `deadletter.${consumerName(consumer)}`;
    // A short-lived reader with a single-subject filter (servers before 2.10 have no multi-filter).
    const reader = await this.jsm.consumers.add(DEAD_LETTER_STREAM, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subject,
      inactive_threshold: nanos(60_000),
    });
    try {
      const count = reader.num_pending;
      const letters: DeadLetter[] = [];
      if (count === 0) return letters;
      const messages = await (
        await this.js.consumers.get(DEAD_LETTER_STREAM, reader.name)
      ).fetch({
        max_messages: count,
        expires: 2_000,
      });
      for await (const m of messages) {
        letters.push({
          consumer,
          subject: m.headers?.get('Original-Subject') ?? '',
          id: m.headers?.get('Original-Msg-Id') ?? '',
          data: codec.decode(m.data),
          reason: m.headers?.get('Failure-Reason') ?? '',
          attempts: Number(m.headers?.get('Attempts') ?? 0),
          failedAt: new Date(m.info.timestampNanos / 1e6),
        });
        if (letters.length >= count) break;
      }
      return letters;
    } finally {
      await this.jsm.consumers.delete(DEAD_LETTER_STREAM, reader.name).catch(() => {});
    }
  }

  async replay(
    subject: string,
    handle: (batch: BusMessage[]) => Promise<void>,
    batchSize = 2_000,
  ): Promise<number> {
    const reader = await this.jsm.consumers.add(STREAM, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subject,
      inactive_threshold: nanos(60_000),
    });
    let total = 0;
    try {
      const consumer = await this.js.consumers.get(STREAM, reader.name);
      let pending = reader.num_pending;
      while (pending > 0) {
        const batch: BusMessage[] = [];
        const messages = await consumer.fetch({
          max_messages: Math.min(batchSize, pending),
          expires: 5_000,
        });
        for await (const m of messages) {
          batch.push({ id: messageId(m), subject: m.subject, data: decode(m) });
          pending = m.info.pending;
        }
        if (batch.length === 0) break;
        await handle(batch);
        total += batch.length;
      }
      return total;
    } finally {
      await this.jsm.consumers.delete(STREAM, reader.name).catch(() => {});
    }
  }

  /**
   * Removes a subject's retained messages and the named consumers (tests and benchmarks that own
   * a subject on a shared server start from a clean state).
   */
  async reset(subject: string, consumers: string[]): Promise<void> {
    await this.jsm.streams.purge(STREAM, { filter: subject });
    for (const name of consumers)
      await this.jsm.consumers.delete(STREAM, consumerName(name)).catch(() => {});
  }

  /**
   * JetStream messages cannot be edited, but single messages can be deleted by sequence: the
   * streams (events and dead letters) are scanned with a short-lived reader and each matching
   * message is deleted with `erase` (the server overwrites its bytes, not only its index).
   * Sequences are not renumbered. A full scan per erasure: fine for rare erasures on a stream kept
   * within its retention limits, which remain the backstop for anything this cannot see.
   */
  async eraseMessages(match: MessageErasure): Promise<number> {
    const mentions = messageMentions(match);
    let erased = 0;
    for (const stream of [STREAM, DEAD_LETTER_STREAM]) {
      const doomed = await this.scan(stream, (m) =>
        mentions(m.headers?.get('Original-Msg-Id') || messageId(m), decode(m)),
      );
      for (const seq of doomed) {
        if (await this.jsm.streams.deleteMessage(stream, seq, true).catch(() => false)) erased++;
      }
    }
    return erased;
  }

  /** Sequences of a stream's retained messages that satisfy `test`. */
  private async scan(stream: string, test: (m: JsMsg) => boolean): Promise<number[]> {
    const reader = await this.jsm.consumers.add(stream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      inactive_threshold: nanos(60_000),
    });
    const found: number[] = [];
    try {
      const consumer = await this.js.consumers.get(stream, reader.name);
      let pending = reader.num_pending;
      while (pending > 0) {
        let read = 0;
        const messages = await consumer.fetch({
          max_messages: Math.min(2_000, pending),
          expires: 5_000,
        });
        for await (const m of messages) {
          read++;
          if (test(m)) found.push(m.seq);
          pending = m.info.pending;
        }
        if (read === 0) break;
      }
      return found;
    } finally {
      await this.jsm.consumers.delete(stream, reader.name).catch(() => {});
    }
  }

  async ping(): Promise<void> {
    await this.jsm.getAccountInfo();
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
    await this.nc.drain();
  }
}

class NatsConsumer<T> {
  private stopping = false;
  private loop?: Promise<void>;

  constructor(
    private readonly js: JetStreamClient,
    private readonly durable: string,
    private readonly options: ConsumerOptions<T>,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    let consumer: Awaited<ReturnType<JetStreamClient['consumers']['get']>> | undefined;
    while (!this.stopping) {
      try {
        consumer ??= await this.js.consumers.get(STREAM, this.durable);
        const batch: JsMsg[] = [];
        const messages = await consumer.fetch({
          max_messages: this.options.batchSize ?? 500,
          expires: 1_000,
        });
        for await (const m of messages) batch.push(m);
        if (batch.length > 0) await this.handle(batch);
      } catch {
        // Server restarting or unreachable: the client reconnects; try again shortly.
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  private async handle(batch: JsMsg[]): Promise<void> {
    const maxDeliver = this.options.maxDeliver ?? DEFAULT_MAX_DELIVER;
    const deliveries = batch.map((m) => ({
      id: messageId(m),
      subject: m.subject,
      data: decode(m) as T,
      attempt: m.info.deliveryCount,
    }));
    const heartbeat = setInterval(() => batch.forEach((m) => m.working()), ACK_WAIT_MS / 2);
    let failures: Map<(typeof deliveries)[number], unknown>;
    try {
      failures = await handleIsolating<T>(deliveries, this.options.handle);
    } catch (error) {
      if (!(error instanceof TransientFailure)) throw error;
      // Nobody's fault: the whole batch comes back later and never counts towards dead letters.
      batch.forEach((m) => m.nak(1_000));
      return;
    } finally {
      clearInterval(heartbeat);
    }
    await Promise.all(
      batch.map(async (m, i) => {
        const delivery = deliveries[i];
        if (!failures.has(delivery)) return m.ack();
        const reason = describeError(failures.get(delivery));
        if (delivery.attempt < maxDeliver)
          return m.nak(backoffFor(delivery.attempt, this.options.backoffMs));
        await this.deadLetter(m, delivery.id, reason);
        m.term(reason.slice(0, 200));
      }),
    );
  }

  private async deadLetter(m: JsMsg, id: string, reason: string): Promise<void> {
    const h = headers();
    h.set('Original-Subject', m.subject);
    h.set('Original-Msg-Id', id);
    h.set('Failure-Reason', reason.replace(/[\r\n]+/g, ' '));
    h.set('Attempts', String(m.info.deliveryCount));
    await this.js.publish(`deadletter.${this.durable}`, m.data, {
      headers: h,
      msgID: `deadletter.${this.durable}:${m.info.stream}:${m.seq}`,
    });
    this.options.onDeadLetter?.({
      consumer: this.options.name,
      subject: m.subject,
      id,
      data: decode(m),
      reason,
      attempts: m.info.deliveryCount,
      failedAt: new Date(),
    });
  }
}

/**
 * JetStream de-duplicates ids per stream, the port promises per subject: our publishers prefix the
 * subject. Messages other systems publish (e.g. the e-commerce platform) carry their own id.
 */
function messageId(m: JsMsg): string {
  const header = m.headers?.get('Nats-Msg-Id');
  if (!header) return `${m.info.stream}:${m.seq}`;
  return header.startsWith(`${m.subject}:`) ? header.slice(m.subject.length + 1) : header;
}

/** A poison payload (not JSON) still reaches the handler, which fails it with a clear reason. */
function decode(m: JsMsg): unknown {
  try {
    return codec.decode(m.data);
  } catch {
    return { undecodable: Buffer.from(m.data).toString('utf8').slice(0, 1_000) };
  }
}

function consumerName(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_');
}

async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subjects: string[],
  duplicateWindowMs: number,
) {
  const config = { name, subjects, duplicate_window: nanos(duplicateWindowMs) };
  try {
    await jsm.streams.info(name);
    await jsm.streams.update(name, config);
  } catch {
    await jsm.streams.add(config);
  }
}
