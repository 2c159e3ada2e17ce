/**
 * Live campaign stats: the stats consumers `pg_notify` the campaigns whose aggregates changed, in
 * the transaction that changed them (so a notification follows a commit, never precedes it); each
 * replica LISTENs and wakes its own subscribers. Bursts are coalesced: a subscriber sees the latest
 * stats after a change, at most two updates a second.
 */
import type { Logger } from '@marketing/platform';
import pg from 'pg';

export const STATS_CHANNEL = 'analytics_campaign_stats';
/** At most two updates a second per subscriber; the latest state wins. */
export const MIN_UPDATE_INTERVAL_MS = 500;

export class LiveStats {
  private readonly subscribers = new Map<string, Set<() => void>>();
  private client?: pg.Client;

  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    client.on('notification', (n) => {
      for (const campaignId of (n.payload ?? '').split(',')) {
        this.subscribers.get(campaignId)?.forEach((wake) => wake());
      }
    });
    client.on('error', (error) => this.logger.error({ err: error }, 'live stats: listener failed'));
    await client.connect();
    await client.query(`listen ${STATS_CHANNEL}`);
    this.client = client;
  }

  async stop(): Promise<void> {
    await this.client?.end().catch(() => {});
  }

  /** Yields the campaign id now and after every change of its stats, until the consumer stops. */
  async *updates(campaignId: string): AsyncGenerator<string> {
    let pending = true;
    let wake: (() => void) | undefined;
    const notify = () => {
      pending = true;
      wake?.();
    };
    const set = this.subscribers.get(campaignId) ?? new Set();
    set.add(notify);
    this.subscribers.set(campaignId, set);
    let last = 0;
    try {
      for (;;) {
        if (!pending) await new Promise<void>((resolve) => (wake = resolve));
        const wait = last + MIN_UPDATE_INTERVAL_MS - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        pending = false;
        last = Date.now();
        yield campaignId;
      }
    } finally {
      set.delete(notify);
      if (set.size === 0) this.subscribers.delete(campaignId);
    }
  }
}
