/** Runs the gateway alone: `node gateway/dist/main.js`. */
import { runService } from '@marketing/platform';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './server.js';

await runService('gateway', () => startGateway(loadGatewayConfig()));
