/**
 * Every Kafka client dualrun makes comes from here, so a secured cluster (TLS, SASL) is set up once
 * for replay, the streaming job, the comparator and `stream status` alike: from dualrun.config.ts
 * (`kafka.ssl`, `kafka.sasl`, applied by the CLI) or else from the environment (KAFKA_SSL,
 * KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD). Secrets are never logged.
 */
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { ConfigError } from './errors.ts';

export interface KafkaSecurity {
  ssl: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
}

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
let configured: KafkaSecurity | undefined;

/** Set by the CLI from dualrun.config.ts; wins over the environment. */
export function useKafkaSecurity(security: KafkaSecurity | undefined): void {
  configured = security;
}

export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSecurity | undefined {
  const ssl = env.KAFKA_SSL;
  if (ssl !== undefined && ssl !== '' && !['true', 'false', '1', '0'].includes(ssl)) {
    throw new ConfigError('KAFKA_SSL', `must be true or false (got ${JSON.stringify(ssl)})`, { hint: 'KAFKA_SSL=true connects with TLS' });
  }
  const mechanism = env.KAFKA_SASL_MECHANISM;
  const tls = ssl === 'true' || ssl === '1';
  if (!mechanism) return tls ? { ssl: true } : undefined;
  if (!(MECHANISMS as readonly string[]).includes(mechanism)) {
    throw new ConfigError('KAFKA_SASL_MECHANISM', `must be one of ${MECHANISMS.join(', ')} (got ${JSON.stringify(mechanism)})`);
  }
  const username = env.KAFKA_SASL_USERNAME;
  const password = env.KAFKA_SASL_PASSWORD;
  if (!username) throw new ConfigError('KAFKA_SASL_USERNAME', 'must be set when KAFKA_SASL_MECHANISM is', { hint: 'export KAFKA_SASL_USERNAME=…' });
  if (!password) throw new ConfigError('KAFKA_SASL_PASSWORD', 'must be set when KAFKA_SASL_MECHANISM is', { hint: 'export KAFKA_SASL_PASSWORD=…' });
  return { ssl: tls, sasl: { mechanism: mechanism as (typeof MECHANISMS)[number], username, password } };
}

/** A kafkajs client with the configured security, quiet (dualrun reports errors itself). */
export function createKafka(config: Omit<KafkaConfig, 'ssl' | 'sasl'>): Kafka {
  const security = configured ?? kafkaSecurityFromEnv();
  return new Kafka({
    logLevel: logLevel.NOTHING,
    ...config,
    ...(security?.ssl ? { ssl: true } : {}),
    ...(security?.sasl ? { sasl: security.sasl as SASLOptions } : {}),
  });
}
