/**
 * Kafka helpers for integration tests (after kafkajs's testHelpers): a client on the run's broker,
 * unique topic names per test file, topic creation, and waiting for N messages.
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type KafkaMessage } from 'kafkajs';
import { inject } from 'vitest';
import { createTopicsAndWait } from '../../src/kafka-client.ts';

export function brokers(): string[] {
  return inject('kafkaBrokers');
}

export function kafkaClient(clientId = 'dualrun-test'): Kafka {
  return new Kafka({ clientId, brokers: brokers(), logLevel: logLevel.NOTHING });
}

/** A topic name no other test (or earlier run against the same cluster) uses. */
export function uniqueTopic(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createTopics(topics: string[], numPartitions = 1, configEntries: { name: string; value: string }[] = []): Promise<void> {
  const admin: Admin = kafkaClient('dualrun-test-admin').admin();
  await admin.connect();
  try {
    await createTopicsAndWait(admin, topics.map((topic) => ({ topic, numPartitions, configEntries })));
  } finally {
    await admin.disconnect();
  }
}

export interface ReadOptions {
  count: number;
  timeoutMs?: number;
  isolation?: 'read_committed' | 'read_uncommitted';
}

/** Reads a topic from the beginning until `count` messages arrived; fails with what it saw on timeout. */
export async function readMessages(topic: string, { count, timeoutMs = 30_000, isolation = 'read_committed' }: ReadOptions): Promise<(KafkaMessage & { partition: number })[]> {
  const consumer = kafkaClient('dualrun-test-reader').consumer({ groupId: `reader-${randomUUID()}`, readUncommitted: isolation === 'read_uncommitted' });
  const seen: (KafkaMessage & { partition: number })[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`waited ${timeoutMs} ms for ${count} messages on ${topic}, saw ${seen.length}`)), timeoutMs);
      void consumer.run({
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) seen.push({ ...message, partition: batch.partition });
          if (seen.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    return seen;
  } finally {
    await consumer.disconnect();
  }
}
