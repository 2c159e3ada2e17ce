/**
 * Re-queues the dead-lettered deliveries of a destination; the running service delivers them.
 *   DATABASE_URL=postgres://... npm run replay-destination -w subgraphs/analytics -- <destinationId>
 */
import 'reflect-metadata';
import { replayDestination } from './destinations/destination.replay.js';

const [destinationId] = process.argv.slice(2);
const databaseUrl = process.env.DATABASE_URL;
if (!destinationId || !databaseUrl) {
  console.error('usage: DATABASE_URL=postgres://... replay-destination <destinationId>');
  process.exit(2);
}
try {
  const count = await replayDestination(databaseUrl, destinationId);
  console.log(`re-queued ${count} dead-lettered deliveries of destination ${destinationId}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
