/** `npm run replay`: rebuilds the customer profile projection from the retained event log. */
import 'reflect-metadata';
import { createEventBus, migrate, openDatabase } from '@marketing/platform';
import { loadSegmentsConfig } from './config.js';
import { replayProfiles } from './profile/profile.replay.js';
import { segmentsSubgraph } from './service.js';

const config = loadSegmentsConfig({ GATEWAY_PROOF_SECRET: 'x'.repeat(32), ...process.env });
const orm = await openDatabase({ ...segmentsSubgraph.database, url: config.DATABASE_URL });
await migrate(orm, config.DATABASE_URL, 'segments');
const bus = await createEventBus(config, 'segments-replay');
if (bus.kind === 'nats')
  console.warn('replaying from NATS JetStream: make sure the segments service is stopped');
try {
  const started = Date.now();
  const result = await replayProfiles({ orm, bus, databaseUrl: config.DATABASE_URL });
  console.log(
    `replayed ${result.replayed} messages (${result.invalid} invalid, skipped) into ${result.profiles} profiles in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
} catch (error) {
  console.error(`replay failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await bus.close();
  await orm.close();
}
