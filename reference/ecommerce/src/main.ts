/** Runs the reference e-commerce subgraph alone: `node reference/ecommerce/dist/main.js`. */
import 'reflect-metadata';
import { runService } from '@marketing/platform';
import { loadEcommerceConfig } from './config.js';
import { startEcommerce } from './service.js';

await runService('ecommerce', () => startEcommerce(loadEcommerceConfig()));
