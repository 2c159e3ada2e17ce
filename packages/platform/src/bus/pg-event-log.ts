/**
 * The PostgreSQL-backed event log: the bus transport when no NATS is configured.
 *
 * Messages are rows of `bus.event_log`, unique per (subject, message id). Publishers serialise on a
 * transaction-level advisory lock, so sequence order is commit order and a consumer that has read
 * up to sequence N can never miss a later-committing row below N. Each durable consumer keeps its
 * position in `bus.consumer_offset`; one replica at a time consumes a name (session advisory lock),
 * the others stand by. LISTEN/NOTIFY wakes consumers; failed messages move to `bus.redelivery` with
 * a backoff and, after maxDeliver attempts, to `bus.dead_letter` with the reason.
 */
import pg from 'pg';
import { inTransaction } from '../database.js';
import {
  backoffFor,
  DEFAULT_MAX_DELIVER,
  describeError,
  handleIsolating,
  type BusMessage,
  type Consumer,
  type ConsumerOptions,
  type DeadLetter,
  type Delivery,
  type EventBus,
} from './event-bus.js';
import {
  idTokenPatterns,
  mentionsSql,
  normaliseEmails,
  type MessageErasure,
} from './message-erasure.js';

const CHANNEL = 'bus_event_log';
const PUBLISH_LOCK = 7_346_521;

const SCHEMA_SQL = `
create schema if not exists bus;
create table if not exists bus.event_log (
  seq bigserial primary key,
  subject text not null,
  message_id text not null,
  data jsonb not null,
  published_at timestamptz not null default now(),
  unique (subject, message_id)
);
create index if not exists event_log_subject_seq on bus.event_log (subject, seq);
create table if not exists bus.consumer_offset (
  consumer text primary key,
  position bigint not null default 0,
  updated_at timestamptz not null default now()
);
create table if not exists bus.redelivery (
  consumer text not null,
  seq bigint not null,
  attempts int not null,
  next_attempt_at timestamptz not null,
  last_error text,
  primary key (consumer, seq)
);
create table if not exists bus.dead_letter (
  consumer text not null,
  seq bigint not null,
  subject text not null,
  message_id text not null,
  data jsonb not null,
  reason text not null,
  attempts int not null,
  failed_at timestamptz not null default now(),
  primary key (consumer, seq)
);`;

interface LogRow {
  seq: string;
  subject: string;
  message_id: string;
  data: unknown;
  attempts?: number;
}

export class PgEventLog implements EventBus {
  readonly kind = 'postgres' as const;
  private readonly consumers = new Set<PgConsumer<unknown>>();

  private constructor(
    readonly pool: pg.Pool,
    private readonly url: string,
  ) {}

  static async connect(url: string, options: { poolMax?: number } = {}): Promise<PgEventLog> {
    const pool = new pg.Pool({ connectionString: url, max: options.poolMax ?? 5 });
    // A restarted server drops idle clients; the pool replaces them, the error must not crash us.
    pool.on('error', () => {});
    try {
      await inTransaction(pool, async (client) => {
        // Transaction-level: released at commit or rollback, whatever happens to the DDL.
        await client.query('select pg_advisory_xact_lock(hashtext($1))', ['bus:schema']);
        await client.query(SCHEMA_SQL);
      });
    } catch (error) {
      await pool.end().catch(() => {});
      throw error;
    }
    return new PgEventLog(pool, url);
  }

  async publish(messages: BusMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await inTransaction(this.pool, async (client) => {
      await client.query('select pg_advisory_xact_lock($1)', [PUBLISH_LOCK]);
      await client.query(
        `with inserted as (
           insert into bus.event_log (subject, message_id, data)
           select s, m, d from unnest($1::text[], $2::text[], $3::jsonb[]) as t(s, m, d)
           on conflict (subject, message_id) do nothing
           returning subject)
         select pg_notify('${CHANNEL}', subject) from (select distinct subject from inserted) x`,
        [
          messages.map((m) => m.subject),
          messages.map((m) => m.id),
          messages.map((m) => JSON.stringify(m.data)),
        ],
      );
    });
  }

  async consume<T>(options: ConsumerOptions<T>): Promise<Consumer> {
    const consumer = new PgConsumer<T>(this.pool, this.url, options);
    this.consumers.add(consumer as PgConsumer<unknown>);
    consumer.start();
    return {
      stop: async () => {
        this.consumers.delete(consumer as PgConsumer<unknown>);
        await consumer.stop();
      },
    };
  }

  async deadLetters(consumer: string): Promise<DeadLetter[]> {
    const { rows } = await this.pool.query(
      `select consumer, subject, message_id, data, reason, attempts, failed_at
       from bus.dead_letter where consumer = $1 order by seq`,
      [consumer],
    );
    return rows.map((r) => ({
      consumer: r.consumer,
      subject: r.subject,
      id: r.message_id,
      data: r.data,
      reason: r.reason,
      attempts: r.attempts,
      failedAt: r.failed_at,
    }));
  }

  async replay(
    subject: string,
    handle: (batch: BusMessage[]) => Promise<void>,
    batchSize = 2_000,
  ): Promise<number> {
    let position = '0';
    let total = 0;
    for (;;) {
      const { rows } = await this.pool.query<LogRow>(
        'select seq, subject, message_id, data from bus.event_log where subject = $1 and seq > $2 order by seq limit $3',
        [subject, position, batchSize],
      );
      if (rows.length === 0) return total;
      await handle(rows.map((r) => ({ id: r.message_id, subject: r.subject, data: r.data })));
      total += rows.length;
      position = rows[rows.length - 1].seq;
    }
  }

  /** The newest sequence number of the log (a replay's end; a consumer's new position). */
  async head(): Promise<string> {
    const { rows } = await this.pool.query(
      'select coalesce(max(seq), 0)::text as seq from bus.event_log',
    );
    return rows[0].seq;
  }

  /**
   * Deletes the person's messages, their pending redeliveries and dead letters. The log is scanned
   * up to its head without holding up publishers (publishers commit in sequence order, so nothing
   * at or below the head can still appear); only the tail published meanwhile is swept under the
   * publish lock. Deleting leaves gaps in `seq`: consumer offsets stay valid (they compare `seq >`).
   */
  async eraseMessages(match: MessageErasure): Promise<number> {
    const params = [match.ids, normaliseEmails(match.emails), idTokenPatterns(match.ids)];
    const where = (alias: string) =>
      mentionsSql(
        { messageId: `${alias}.message_id`, data: `${alias}.data` },
        { ids: '$1::text[]', emails: '$2::text[]', tokens: '$3::text[]' },
      );
    const sweep = async (client: pg.PoolClient, range: string, bound: string) => {
      const { rows } = await client.query<{ seq: string }>(
        `delete from bus.event_log e where e.seq ${range} $4 and ${where('e')} returning seq`,
        [...params, bound],
      );
      const seqs = rows.map((r) => r.seq);
      await client.query('delete from bus.redelivery where seq = any($1::bigint[])', [seqs]);
      const dead = await client.query(
        `delete from bus.dead_letter d where d.seq = any($4::bigint[]) or ${where('d')}`,
        [...params, seqs],
      );
      return seqs.length + (dead.rowCount ?? 0);
    };
    const head = await this.head();
    const bulk = await inTransaction(this.pool, (client) => sweep(client, '<=', head));
    const tail = await inTransaction(this.pool, async (client) => {
      await client.query('select pg_advisory_xact_lock($1)', [PUBLISH_LOCK]);
      return sweep(client, '>', head);
    });
    return bulk + tail;
  }

  async ping(): Promise<void> {
    await this.pool.query('select 1');
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.stop()));
    await this.pool.end();
  }
}

class PgConsumer<T> {
  private stopping = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private session?: pg.Client;
  private readonly batchSize: number;
  private readonly maxDeliver: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    private readonly options: ConsumerOptions<T>,
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.maxDeliver = options.maxDeliver ?? DEFAULT_MAX_DELIVER;
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        if (!(await this.lead())) {
          await this.sleep(2_000);
          continue;
        }
        const worked = (await this.redeliverDue()) + (await this.deliverNew());
        if (worked === 0) await this.sleep(1_000);
      } catch {
        // Connection lost (e.g. a PostgreSQL restart): give up the session, try again shortly.
        await this.dropSession();
        await this.sleep(500);
      }
    }
    await this.dropSession();
  }

  /** Holds the consumer name's lock on a dedicated session that also LISTENs for new messages. */
  private async lead(): Promise<boolean> {
    if (this.session) return true;
    const session = new pg.Client({ connectionString: this.url });
    session.on('error', () => {});
    try {
      await session.connect();
      const { rows } = await session.query('select pg_try_advisory_lock(hashtext($1)) as locked', [
        `bus:consumer:${this.options.name}`,
      ]);
      if (!rows[0].locked) {
        await session.end();
        return false;
      }
      session.on('notification', (n) => {
        if (this.options.subjects.includes(n.payload ?? '')) this.wake?.();
      });
      session.on('end', () => {
        if (this.session === session) this.session = undefined;
      });
      await session.query(`listen ${CHANNEL}`);
      await session.query(
        'insert into bus.consumer_offset (consumer) values ($1) on conflict (consumer) do nothing',
        [this.options.name],
      );
    } catch (error) {
      // Never keep a half-set-up session: it would hold the consumer's lock with nobody consuming.
      await session.end().catch(() => {});
      throw error;
    }
    this.session = session;
    return true;
  }

  private async dropSession(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.end().catch(() => {});
  }

  private async deliverNew(): Promise<number> {
    const { rows } = await this.pool.query<LogRow>(
      `select e.seq, e.subject, e.message_id, e.data from bus.event_log e
       where e.seq > (select position from bus.consumer_offset where consumer = $1)
         and e.subject = any($2::text[])
       order by e.seq limit $3`,
      [this.options.name, this.options.subjects, this.batchSize],
    );
    if (rows.length === 0) return 0;
    await this.deliver(rows.map((r) => ({ ...r, attempts: 0 })));
    // Through the session that holds the lock, and never backwards.
    await (this.session ?? this.pool).query(
      'update bus.consumer_offset set position = greatest(position, $2), updated_at = now() where consumer = $1',
      [this.options.name, rows[rows.length - 1].seq],
    );
    return rows.length;
  }

  private async redeliverDue(): Promise<number> {
    const { rows } = await this.pool.query<LogRow>(
      `select e.seq, e.subject, e.message_id, e.data, r.attempts from bus.redelivery r
       join bus.event_log e on e.seq = r.seq
       where r.consumer = $1 and r.next_attempt_at <= now()
       order by r.seq limit $2`,
      [this.options.name, this.batchSize],
    );
    if (rows.length === 0) return 0;
    const failed = await this.deliver(rows);
    const done = rows.filter((r) => !failed.has(r.seq)).map((r) => r.seq);
    await this.pool.query(
      'delete from bus.redelivery where consumer = $1 and seq = any($2::bigint[])',
      [this.options.name, done],
    );
    return rows.length;
  }

  /** Delivers rows; records failures for redelivery or as dead letters. Returns the failed seqs. */
  private async deliver(rows: LogRow[]): Promise<Set<string>> {
    const deliveries = rows.map((r) => ({
      delivery: {
        id: r.message_id,
        subject: r.subject,
        data: r.data as T,
        attempt: (r.attempts ?? 0) + 1,
      },
      row: r,
    }));
    const bySeq = new Map(deliveries.map((d) => [d.delivery, d.row]));
    const failures = await handleIsolating<T>(
      deliveries.map((d) => d.delivery),
      this.options.handle,
    );
    for (const [delivery, error] of failures)
      await this.recordFailure(bySeq.get(delivery)!, delivery, error);
    return new Set([...failures.keys()].map((d) => bySeq.get(d)!.seq));
  }

  private async recordFailure(row: LogRow, delivery: Delivery<T>, error: unknown): Promise<void> {
    const reason = describeError(error);
    if (delivery.attempt >= this.maxDeliver) {
      await this.pool.query(
        `with gone as (delete from bus.redelivery where consumer = $1 and seq = $2)
         insert into bus.dead_letter (consumer, seq, subject, message_id, data, reason, attempts)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing`,
        [
          this.options.name,
          row.seq,
          row.subject,
          row.message_id,
          JSON.stringify(row.data),
          reason,
          delivery.attempt,
        ],
      );
      this.options.onDeadLetter?.({
        consumer: this.options.name,
        subject: row.subject,
        id: row.message_id,
        data: row.data,
        reason,
        attempts: delivery.attempt,
        failedAt: new Date(),
      });
      return;
    }
    await this.pool.query(
      `insert into bus.redelivery (consumer, seq, attempts, next_attempt_at, last_error)
       values ($1, $2, $3, now() + ($4 || ' milliseconds')::interval, $5)
       on conflict (consumer, seq) do update
         set attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error`,
      [
        this.options.name,
        row.seq,
        delivery.attempt,
        String(backoffFor(delivery.attempt, this.options.backoffMs)),
        reason,
      ],
    );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
