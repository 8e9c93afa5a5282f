// @ts-check
/** @typedef {import('jest').Config} Config */

// One Jest run, two projects: `unit` (pure, no services) and `integration` (real MySQL,
// RabbitMQ, Elasticsearch - the stack is brought up once per run by the global setup).
const packages = [
  'core',
  'aggregates',
  'event-store',
  'outbox',
  'amqp',
  'search',
  'hotel',
  'hotel-read-models',
  'http',
  'telemetry',
  'instances',
  'console',
];

/** @type {Config} */
const shared = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  moduleNameMapper: {
    ...Object.fromEntries(
      packages.map((p) => [`^@cqrs/${p}$`, `<rootDir>/packages/${p}/src/index.ts`]),
    ),
    '^@cqrs/aggregates/testing$': '<rootDir>/packages/aggregates/src/testing/index.ts',
    '^@cqrs/outbox/testing$': '<rootDir>/packages/outbox/src/testing/index.ts',
    '^@cqrs/testing$': '<rootDir>/tools/testing/src/index.ts',
    '^@cqrs/stack$': '<rootDir>/tools/stack/index.ts',
  },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

/** @type {Config} */
const config = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,packages,tools}/**/*.unit.spec.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/{apps,packages,tools}/**/*.{int,e2e}.spec.ts'],
      globalSetup: '<rootDir>/tools/testing/src/global-setup.ts',
      globalTeardown: '<rootDir>/tools/testing/src/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/tools/testing/src/integration-setup.ts'],
    },
  ],
};

module.exports = config;
