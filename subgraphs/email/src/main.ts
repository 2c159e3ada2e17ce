/** Runs the Email Campaign Service alone: `node subgraphs/email/dist/main.js`. */
import 'reflect-metadata';
import { runService } from '@marketing/platform';
import { loadEmailConfig } from './config.js';
import { startEmail } from './service.js';

await runService('email', () => startEmail(loadEmailConfig()));
