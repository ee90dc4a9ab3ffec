/**
 * Reading Kafka topics for a comparison, from the beginning to the end offsets seen at start (so a
 * busy topic still gives a definite answer). kafkajs is imported lazily: comparing files never loads it.
 * Each topic is read with a throw-away consumer group and batches (`eachBatch`).
 */
import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { UnavailableError, UsageError, messageOf } from '../src/errors.ts';

export interface TopicMessage {
  partition: number;
  message: KafkaMessage;
}

/** Calls `onBatch` with every message of `topic` up to the end offsets seen at start. */
export async function readTopic(brokers: string[], topic: string, onBatch: (messages: TopicMessage[]) => void): Promise<number> {
  // Loaded only here: a comparison without a kafka: source never loads kafkajs.
  const { createKafka, fetchTopicOffsets } = await import('../src/kafka-client.ts');
  const kafka = createKafka({ clientId: 'dualrun-compare', brokers, retry: { retries: 3 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (error) {
    throw new UnavailableError(`kafka ${brokers.join(',')}`, `cannot connect: ${messageOf(error)}`, { cause: error, hint: 'check --brokers / KAFKA_BROKERS' });
  }
  let ends: Map<number, bigint>;
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(topic)) throw new UsageError(`topic ${topic} does not exist on ${brokers.join(',')}`, { hint: 'check the topic name (and --topic-prefix)' });
    const offsets = await fetchTopicOffsets(admin, topic);
    ends = new Map(offsets.map((offset) => [offset.partition, BigInt(offset.high)]));
    const starts = new Map(offsets.map((offset) => [offset.partition, BigInt(offset.low)]));
    for (const [partition, end] of ends) if (end <= (starts.get(partition) ?? 0n)) ends.delete(partition);
  } finally {
    await admin.disconnect();
  }
  if (ends.size === 0) return 0;
  const consumer = kafka.consumer({ groupId: `dualrun-compare-${randomUUID()}`, readUncommitted: false });
  let seen = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const pending = new Set(ends.keys());
      // A partition is read once a batch reaches its end offset. Watched on END_BATCH_PROCESS, which also
      // fires for batches holding only transaction markers (a transactional topic ends with one) that
      // eachBatch never sees.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const end = ends.get(payload.partition);
        if (payload.topic !== topic || end === undefined || BigInt(payload.lastOffset) < end - 1n) return;
        pending.delete(payload.partition);
        if (pending.size === 0) resolve();
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition);
            if (end === undefined) return;
            const messages: TopicMessage[] = [];
            for (const message of batch.messages) if (BigInt(message.offset) < end) messages.push({ partition: batch.partition, message });
            // A bad message fails the read here: thrown inside eachBatch, kafkajs would retry it forever.
            try {
              onBatch(messages);
            } catch (error) {
              reject(error);
              return;
            }
            seen += messages.length;
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return seen;
}
