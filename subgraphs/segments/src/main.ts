/** Runs the Segmentation Service alone: `node subgraphs/segments/dist/main.js`. */
import 'reflect-metadata';
import { runService } from '@marketing/platform';
import { loadSegmentsConfig } from './config.js';
import { startSegments } from './service.js';

await runService('segments', () => startSegments(loadSegmentsConfig()));
