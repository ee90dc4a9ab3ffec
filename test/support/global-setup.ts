/**
 * Starts one local Kafka broker for the integration run (unless KAFKA_BROKERS names a cluster) and
 * hands its address to the test files through `inject('kafkaBrokers')`.
 */
import type { TestProject } from 'vitest/node';
import { readEnvConfig } from '../../src/config.ts';
import { startLocalKafka, type LocalKafka } from '../../streaming/broker/local-kafka.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
  }
}

let broker: LocalKafka | undefined;

export async function setup(project: TestProject): Promise<void> {
  const env = readEnvConfig();
  if (env.kafkaBrokers) {
    project.provide('kafkaBrokers', env.kafkaBrokers);
    return;
  }
  broker = await startLocalKafka({ cacheDir: env.cacheDir, kafkaHome: env.kafkaHome });
  project.provide('kafkaBrokers', [broker.brokers]);
}

export async function teardown(): Promise<void> {
  await broker?.stop();
}
