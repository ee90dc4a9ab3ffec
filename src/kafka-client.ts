/**
 * Every Kafka client dualrun makes comes from here, so a secured cluster (TLS, SASL) is set up once
 * for replay, the streaming job, the comparator and `stream status` alike: from dualrun.config.ts
 * (`kafka.ssl`, `kafka.sasl`, applied by the CLI) or else from the environment (KAFKA_SSL,
 * KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD). Secrets are never logged.
 */
// First: fixes kafkajs' read_committed filter before kafkajs loads.
import './kafkajs-fixes.ts';
import { Kafka, logLevel, type Admin, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { ConfigError, UnavailableError } from './errors.ts';

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

/**
 * A topic's offsets per partition (`offset` = `high` = end, `low` = start), retried briefly: right
 * after topic creation or a leader move the broker may answer NOT_LEADER_OR_FOLLOWER.
 */
export async function fetchTopicOffsets(admin: Admin, topic: string): Promise<{ partition: number; offset: string; high: string; low: string }[]> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      if (attempt >= 10 || (error as { retriable?: boolean }).retriable === false) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  configEntries?: { name: string; value: string }[];
}

const alreadyExists = (error: unknown): boolean =>
  /already exists/i.test(String((error as Error).message)) || ((error as { errors?: { type?: string }[] }).errors?.every((e) => e.type === 'TOPIC_ALREADY_EXISTS') ?? false);

/**
 * Creates topics and returns once every partition has a leader. Retries what a busy or just-started
 * broker answers transiently — a topic still "marked for deletion", "This server does not host this
 * topic-partition" while metadata propagates — until `timeoutMs`; a topic another instance created
 * at the same moment is fine.
 */
export async function createTopicsAndWait(admin: Admin, topics: TopicSpec[], timeoutMs = 60_000): Promise<void> {
  if (topics.length === 0) return;
  const deadline = Date.now() + timeoutMs;
  const names = topics.map((spec) => spec.topic);
  let lastError: unknown;
  let created = false;
  for (;;) {
    if (!created) {
      try {
        await admin.createTopics({ waitForLeaders: false, topics: topics.map((spec) => ({ replicationFactor: -1, ...spec })) });
        created = true;
      } catch (error) {
        created = alreadyExists(error);
        lastError = created ? undefined : error;
      }
    }
    if (created) {
      try {
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics: names });
        const ready = metadata.length === names.length && metadata.every((topic) => topic.partitions.length > 0 && topic.partitions.every((partition) => partition.leader >= 0));
        // Metadata can name a leader before that broker serves the partition: ask each leader for its offsets too.
        if (ready) {
          for (const name of names) await admin.fetchTopicOffsets(name);
          return;
        }
      } catch (error) {
        lastError = error;
      }
    }
    if (Date.now() > deadline) {
      throw new UnavailableError('kafka', `topics ${names.join(', ')} were not ready within ${timeoutMs / 1000} s${lastError ? `: ${(lastError as Error).message}` : ''}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Whether a kafkajs error is, or was caused by, a broker's CONCURRENT_TRANSACTIONS answer. */
function isConcurrentTransactions(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if ((current as { type?: unknown }).type === 'CONCURRENT_TRANSACTIONS') return true;
  }
  return false;
}

/**
 * Runs one transaction, again while the broker answers CONCURRENT_TRANSACTIONS: its coordinator is
 * still completing the producer's previous transaction (markers written after EndTxn returned, or the
 * abort of a killed instance's transaction), and the Java client retries then too. kafkajs does not for
 * AddOffsetsToTxn. `attempt` must abort what it began before it throws.
 */
export async function retryConcurrentTransactions<T>(attempt: () => Promise<T>, { retries = 12, firstDelayMs = 50, sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) } = {}): Promise<T> {
  for (let retry = 0; ; retry += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (retry >= retries || !isConcurrentTransactions(error)) throw error;
      await sleep(Math.min(firstDelayMs * 2 ** retry, 2_000));
    }
  }
}
