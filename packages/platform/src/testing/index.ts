/** Test helpers: real databases, real servers on port 0. Never imported by production code. */
export * from './test-database.js';
export * from './wait-for.js';
export * from './service-process.js';
export * from './smtp-sink.js';
