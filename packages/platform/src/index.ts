/** The platform every service is built on. */
export * from './auth/gateway-proof.js';
export * from './auth/identity.js';
export * from './auth/user-token.js';
export * from './config.js';
export * from './database.js';
export * from './embedded-postgres.js';
export * from './errors.js';
export * from './federation/build-subgraph-schema.js';
export * from './federation/subgraph-server.js';
export * from './http/run-service.js';
export * from './http/service-app.js';
export * from './logger.js';
export * from './metrics.js';
export * from './federation/loaders.js';
export * from './federation/shared-types.js';
export * from './pagination.js';
