// Kafka security from the environment: each variable's rule, and that secrets stay out of messages.
import { describe, expect, it } from 'vitest';
import { kafkaSecurityFromEnv } from '../../src/kafka-client.ts';
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
