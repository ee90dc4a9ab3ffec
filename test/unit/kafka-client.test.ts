// Kafka security from the environment: each variable's rule, and that secrets stay out of messages.
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { kafkaSecurityFromEnv, retryConcurrentTransactions } from '../../src/kafka-client.ts';
import { ConfigError } from '../../src/errors.ts';

describe('Kafka security from the environment', () => {
  it('is absent by default and TLS-only with KAFKA_SSL', () => {
    expect(kafkaSecurityFromEnv({})).toBeUndefined();
    expect(kafkaSecurityFromEnv({ KAFKA_SSL: 'true' })).toEqual({ ssl: true });
  });

  it('reads SASL with its password from the environment', () => {
    expect(kafkaSecurityFromEnv({ KAFKA_SSL: '1', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'etl', KAFKA_SASL_PASSWORD: 'pw' })).toEqual({
      ssl: true,
      sasl: { mechanism: 'scram-sha-512', username: 'etl', password: 'pw' },
    });
  });

  it('names each bad variable', () => {
    const keyOf = (env: NodeJS.ProcessEnv) => {
      try {
        kafkaSecurityFromEnv(env);
      } catch (error) {
        return error instanceof ConfigError ? error.key : 'other';
      }
      return 'none';
    };
    expect(keyOf({ KAFKA_SSL: 'yes' })).toBe('KAFKA_SSL');
    expect(keyOf({ KAFKA_SASL_MECHANISM: 'gssapi' })).toBe('KAFKA_SASL_MECHANISM');
    expect(keyOf({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'pw' })).toBe('KAFKA_SASL_USERNAME');
    expect(keyOf({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' })).toBe('KAFKA_SASL_PASSWORD');
  });

  it('never puts the password in a message', () => {
    let message = '';
    try {
      kafkaSecurityFromEnv({ KAFKA_SSL: 'maybe', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'hunter2-secret' });
    } catch (error) {
      message = (error as ConfigError).describe();
    }
    expect(message).toContain('KAFKA_SSL');
    expect(message).not.toContain('hunter2-secret');
  });
});

// kafkajs' own error for a broker's error code, as its protocol layer makes it (not exported by the package).
const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => Error };
const CONCURRENT_TRANSACTIONS = 51;
const INVALID_TXN_STATE = 48;

describe('retryConcurrentTransactions', () => {
  const failing = (errors: Error[]) => {
    let attempts = 0;
    const attempt = async () => {
      attempts += 1;
      const error = errors.shift();
      if (error) throw error;
      return 'committed';
    };
    return { attempt, attempts: () => attempts };
  };

  it('runs the transaction again while the broker answers CONCURRENT_TRANSACTIONS, waiting longer each time', async () => {
    const waits: number[] = [];
    const { attempt, attempts } = failing([createErrorFromCode(CONCURRENT_TRANSACTIONS), createErrorFromCode(CONCURRENT_TRANSACTIONS)]);
    expect(await retryConcurrentTransactions(attempt, { sleep: async (ms) => void waits.push(ms) })).toBe('committed');
    expect(attempts()).toBe(3);
    expect(waits).toEqual([50, 100]);
  });

  it('recognises the answer behind kafkajs\' retrier too (its error as the cause)', async () => {
    const wrapped = new Error('retries exhausted', { cause: createErrorFromCode(CONCURRENT_TRANSACTIONS) });
    const { attempt, attempts } = failing([wrapped]);
    expect(await retryConcurrentTransactions(attempt, { sleep: async () => undefined })).toBe('committed');
    expect(attempts()).toBe(2);
  });

  it('throws any other error at once', async () => {
    const { attempt, attempts } = failing([createErrorFromCode(INVALID_TXN_STATE)]);
    await expect(retryConcurrentTransactions(attempt, { sleep: async () => undefined })).rejects.toThrow(/transaction/i);
    expect(attempts()).toBe(1);
  });

  it('gives up after its retries, with the broker\'s error', async () => {
    const { attempt, attempts } = failing(Array.from({ length: 5 }, () => createErrorFromCode(CONCURRENT_TRANSACTIONS)));
    await expect(retryConcurrentTransactions(attempt, { retries: 3, sleep: async () => undefined })).rejects.toMatchObject({ type: 'CONCURRENT_TRANSACTIONS' });
    expect(attempts()).toBe(4);
  });
});
