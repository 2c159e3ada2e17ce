/**
 * The live benchmark's dashboards, in a worker thread (an event loop of their own, not the
 * subgraphs'): one graphql-ws connection per subscriber. Records, for every update that moved a
 * subscriber's open count, the count before and after and when it arrived.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

export interface Subscriber {
  campaign: number;
  campaignId: string;
  query: string;
  /** Index of the selection kind (for a breakdown). */
  kind: number;
  /** The campaign name the update must carry (through the gateway). */
  name?: string;
}

export interface SubscribersInput {
  url: string;
  connectionParams: Record<string, unknown>;
  subscribers: Subscriber[];
}

export type SubscribersRequest = { type: 'connect' } | { type: 'counts' } | { type: 'close' };

export interface SubscribersReport {
  /** Flat records: campaign, count before, count after, receipt time (ms since the epoch), kind. */
  records: Float64Array;
  updates: number;
  errors: string[];
  wrongNames: number;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across threads. */
export const now = () => performance.timeOrigin + performance.now();

const RECORD = 5;
const CONNECTING = 100;

if (parentPort) {
  const port = parentPort;
  const input = workerData as SubscribersInput;
  const seen = new Float64Array(input.subscribers.length).fill(-1);
  const clients: Client[] = [];
  let records = new Float64Array(RECORD * 65_536);
  let recorded = 0;
  let updates = 0;
  let wrongNames = 0;
  const errors: string[] = [];
  const fail = (error: unknown) => {
    if (errors.length < 20) errors.push(JSON.stringify(error).slice(0, 300));
    else errors.push('');
  };
  const record = (values: number[]) => {
    if (recorded + RECORD > records.length) {
      const grown = new Float64Array(records.length * 2);
      grown.set(records);
      records = grown;
    }
    records.set(values, recorded);
    recorded += RECORD;
  };

  const open = (i: number) =>
    new Promise<void>((resolve) => {
      const s = input.subscribers[i]!;
      const client = createClient({
        url: input.url,
        webSocketImpl: WebSocket,
        connectionParams: input.connectionParams,
        retryAttempts: 0,
      });
      clients.push(client);
      client.subscribe(
        { query: s.query, variables: { id: s.campaignId } },
        {
          next: (result) => {
            const at = now();
            const stats = (result.data as { campaignStatsUpdated?: any } | null)
              ?.campaignStatsUpdated;
            if (result.errors || !stats) {
              fail(result.errors ?? result);
              resolve();
              return;
            }
            updates += 1;
            if (s.name !== undefined && stats.campaign?.name !== s.name) wrongNames += 1;
            const count = stats.uniqueOpens as number;
            // The first result is the state when subscribing: nothing to attribute.
            if (seen[i]! < 0) {
              seen[i] = count;
              resolve();
            } else if (count > seen[i]!) {
              record([s.campaign, seen[i]!, count, at, s.kind]);
              seen[i] = count;
            }
          },
          error: (error) => {
            fail(error);
            resolve();
          },
          complete: () => {},
        },
      );
    });

  port.on('message', (request: SubscribersRequest) => {
    void (async () => {
      if (request.type === 'connect') {
        let next = 0;
        await Promise.all(
          Array.from({ length: CONNECTING }, async () => {
            while (next < input.subscribers.length) await open(next++);
          }),
        );
        port.postMessage({ type: 'connect', errors: errors.length });
      } else if (request.type === 'counts') {
        // The lowest count any subscriber of each campaign has seen.
        const lowest: number[] = [];
        input.subscribers.forEach((s, i) => {
          lowest[s.campaign] = Math.min(lowest[s.campaign] ?? Infinity, seen[i]!);
        });
        port.postMessage({ type: 'counts', lowest });
      } else {
        await Promise.all(clients.map((c) => c.dispose()));
        const report: SubscribersReport = {
          records: records.slice(0, recorded),
          updates,
          errors,
          wrongNames,
        };
        port.postMessage({ type: 'close', ...report });
      }
    })();
  });
}
