// A secured cluster: a broker with a SASL/PLAIN listener, reached through the credentials in the
// environment (as a user pointing dualrun at a real cluster would), and refused with wrong ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvConfig } from '../../src/config.ts';
import { createKafka } from '../../src/kafka-client.ts';
import { startLocalKafka, type LocalKafka } from '../../streaming/broker/local-kafka.ts';
import { runCli } from '../support/cli.ts';

let broker: LocalKafka;
beforeAll(async () => {
  const env = readEnvConfig();
  broker = await startLocalKafka({ cacheDir: env.cacheDir, kafkaHome: env.kafkaHome, saslUsers: { etl: 'etl-secret' } });
});
afterAll(async () => {
  await broker?.stop();
});

const sasl = (password: string) => ({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'etl', KAFKA_SASL_PASSWORD: password, DATABASE_URL: '' });

describe('Kafka with SASL', () => {
  it('replays a scenario through the SASL listener with the credentials from the environment', async () => {
    const result = await runCli(['replay', '--scenario', 'baseline', '--no-db', '--brokers', broker.saslBrokers!, '--topic-prefix', 'secure', '--json'], sasl('etl-secret'));
    expect(result.code, result.stderr).toBe(0);

    // Read back through the same factory, authenticated: every order event is there.
    const saved = { ...process.env };
    Object.assign(process.env, sasl('etl-secret'));
    try {
      const admin = createKafka({ clientId: 'sasl-test', brokers: [broker.saslBrokers!] }).admin();
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets('secure.orders');
      await admin.disconnect();
      const messages = offsets.reduce((total, partition) => total + Number(partition.high) - Number(partition.low), 0);
      expect(messages).toBe(16); // fixtures/baseline/orders.csv has 16 order events
    } finally {
      process.env = saved;
    }
  });

  it('fails with exit 4 and a clear message on a wrong password', async () => {
    const result = await runCli(['replay', '--scenario', 'baseline', '--no-db', '--brokers', broker.saslBrokers!, '--topic-prefix', 'denied'], sasl('not-the-password-42'));
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/SASL|[Aa]uthentication/);
    expect(result.stderr).not.toContain('not-the-password-42');
  });
});
