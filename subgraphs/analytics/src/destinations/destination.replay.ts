/** The replay command's work: re-queues a destination's dead letters, given only the database. */
import { openDatabase } from '@marketing/platform';
import { analyticsSubgraph } from '../service.js';
import { DestinationService } from './destination.service.js';

export async function replayDestination(databaseUrl: string, destinationId: string) {
  const orm = await openDatabase({ ...analyticsSubgraph.database, url: databaseUrl, poolMax: 1 });
  try {
    // The policy only matters when saving URLs, which a replay does not do.
    return await new DestinationService(orm.em.fork(), { allowLoopback: false }).replay(
      destinationId,
    );
  } finally {
    await orm.close();
  }
}
