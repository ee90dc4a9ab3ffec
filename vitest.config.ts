// Two projects: `unit` needs nothing running; `integration` runs against the real Kafka broker
// (one local broker for the whole run unless KAFKA_BROKERS is set) and the real database servers.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The package's exports point at the build (dist/); tests import the sources.
  resolve: {
    alias: [
      { find: /^dualrun$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
      { find: /^dualrun\/shop$/, replacement: fileURLToPath(new URL('./src/domains/shop/index.ts', import.meta.url)) },
    ],
  },
  test: {
    // Two cores: two test files at a time, each with its own topics and databases.
    maxWorkers: 2,
    // Each project extends this config, so the 'dualrun' aliases above reach every test file.
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // Before any test file loads kafkajs: the kafkajs fixes (src/kafkajs-fixes.ts).
          setupFiles: ['test/support/setup.ts'],
          include: ['test/unit/**/*.test.ts', '{src,batch,streaming,compare}/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          setupFiles: ['test/support/setup.ts'],
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
