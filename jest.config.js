/**
 * One jest run over every workspace. TypeScript sources are transpiled per file (isolatedModules);
 * type errors are `npm run typecheck`'s job. Tests run against a real PostgreSQL: DATABASE_URL's
 * server, or the embedded one the global setup starts.
 */
import { existsSync } from 'node:fs';

const workspaces = {
  platform: 'packages/platform',
  stack: 'packages/stack',
  gateway: 'gateway',
  ecommerce: 'reference/ecommerce',
  campaigns: 'subgraphs/campaigns',
  segments: 'subgraphs/segments',
  email: 'subgraphs/email',
  analytics: 'subgraphs/analytics',
  bench: 'bench',
};

const moduleNameMapper = {
  '^@marketing/platform/testing$': '<rootDir>/packages/platform/src/testing/index.ts',
  '^(\\.{1,2}/.*)\\.js$': '$1',
};
for (const [name, dir] of Object.entries(workspaces)) {
  moduleNameMapper[`^@marketing/${name}$`] = `<rootDir>/${dir}/src/index.ts`;
}

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  roots: Object.values(workspaces)
    .filter((dir) => existsSync(`${dir}/src`))
    .map((dir) => `<rootDir>/${dir}/src`),
  testMatch: ['**/*.test.ts'],
  moduleNameMapper,
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.base.json' }],
  },
  setupFiles: ['reflect-metadata'],
  globalSetup: '<rootDir>/jest.global-setup.js',
  globalTeardown: '<rootDir>/jest.global-teardown.js',
  testTimeout: 60_000,
  // One test file at a time: a file that starts the whole stack holds about 50 of the server's 100
  // connections (six services, their consumers and listeners, pg-boss), so two at once run out.
  maxWorkers: 1,
};
