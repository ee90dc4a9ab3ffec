/**
 * The event side of replay: publishes events to the input topics (one per entity, keyed by the entity key),
 * in batches through one idempotent producer with a single request in flight, so per-key order is
 * arrival order. Every message carries the event time as its Kafka timestamp and the HEADERS; a delete
 * is a tombstone with the same headers. Creates missing topics with the requested partition count,
 * kept forever (retention.ms=-1: the timestamps are past event times); refuses topics that already
 * hold messages unless `reset` (then deletes and recreates them).
 */
import { Partitioners, type Admin, type Message, type Producer } from 'kafkajs';
import { UnavailableError, UsageError, messageOf } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { toMessage, topicOf } from '../model/codec.ts';
import type { DomainModel } from '../model/domain.ts';
import type { Delivery } from '../model/events.ts';
import { createKafka, createTopicsAndWait, fetchTopicOffsets } from '../kafka-client.ts';

export interface KafkaTarget {
  brokers: string[];
  topicPrefix?: string;
  /** Partitions of topics replay creates (default 3). Existing topics keep theirs unless reset. */
  partitions?: number;
}

export const DEFAULT_PARTITIONS = 3;
/** Upper bounds of one produce request (messages, approximate bytes). */
const SEND_MESSAGES = 1000;
const SEND_BYTES = 512 * 1024;

function approximateSize(message: Message): number {
  let size = 64 + (typeof message.key === 'string' ? message.key.length : 0) + (typeof message.value === 'string' ? message.value.length : 0);
  for (const [name, value] of Object.entries(message.headers ?? {})) size += name.length + String(value).length + 8;
  return size;
}

export interface Publisher {
  /** Entity name → its input topic. */
  topics: Record<string, string>;
  publish(events: Delivery[]): Promise<void>;
  /** Messages sent per topic (tombstones included). */
  counts: Record<string, { messages: number; tombstones: number }>;
  close(): Promise<void>;
}

export async function openPublisher(domain: DomainModel, target: KafkaTarget, { reset, continuing, logger }: { reset: boolean; continuing: boolean; logger: Logger }): Promise<Publisher> {
  const prefix = target.topicPrefix ?? domain.name;
  const topics = Object.fromEntries(domain.entities.map((entity) => [entity.name, topicOf(entity, prefix)]));
  const kafka = createKafka({ clientId: 'dualrun-replay', brokers: target.brokers, retry: { retries: 5 } });
  const admin = kafka.admin();
  await connect(admin, target.brokers);
  try {
    await prepareTopics(admin, Object.values(topics), target.partitions, { reset, continuing, logger });
  } finally {
    await admin.disconnect();
  }
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await connect(producer, target.brokers);
  const counts: Publisher['counts'] = Object.fromEntries(Object.values(topics).map((topic) => [topic, { messages: 0, tombstones: 0 }]));
  const sendOnce = async (send: { topic: string; message: Message }[]): Promise<void> => {
    const byTopic = new Map<string, Message[]>();
    for (const { topic, message } of send) {
      let messages = byTopic.get(topic);
      if (!messages) byTopic.set(topic, (messages = []));
      messages.push(message);
    }
    try {
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
    } catch (error) {
      throw new UnavailableError(`kafka ${target.brokers.join(',')}`, `publishing ${send.length} events failed: ${messageOf(error)}`, { cause: error, hint: 'check the broker runs and the topics exist; rerun with --reset' });
    }
    for (const [topic, messages] of byTopic) {
      counts[topic]!.messages += messages.length;
      counts[topic]!.tombstones += messages.filter((message) => message.value === null).length;
    }
  };
  return {
    topics,
    counts,
    async publish(events) {
      // Sends stay far below the broker's message.max.bytes (1 MiB per partition batch by default), and
      // kafkajs encodes small requests faster than big ones; one request in flight keeps per-key order.
      let send: { topic: string; message: Message }[] = [];
      let bytes = 0;
      for (const delivery of events) {
        const { entity, message } = toMessage(domain, delivery);
        send.push({ topic: topics[entity.name]!, message });
        bytes += approximateSize(message);
        if (send.length >= SEND_MESSAGES || bytes >= SEND_BYTES) {
          await sendOnce(send);
          send = [];
          bytes = 0;
        }
      }
      if (send.length > 0) await sendOnce(send);
    },
    close: () => producer.disconnect(),
  };
}

async function connect(client: Admin | Producer, brokers: string[]): Promise<void> {
  try {
    await client.connect();
  } catch (error) {
    throw new UnavailableError(`kafka ${brokers.join(',')}`, `cannot connect: ${messageOf(error)}`, {
      cause: error,
      hint: 'start a local broker with `dualrun kafka start` and export the KAFKA_BROKERS it prints, or pass --brokers host:port; or replay with --no-kafka',
    });
  }
}

async function prepareTopics(admin: Admin, names: string[], partitions: number | undefined, { reset, continuing, logger }: { reset: boolean; continuing: boolean; logger: Logger }): Promise<void> {
  const existing = new Set(await admin.listTopics());
  if (reset) {
    const doomed = names.filter((name) => existing.has(name));
    if (doomed.length > 0) {
      logger.info({ topics: doomed }, 'deleting topics (--reset)');
      await admin.deleteTopics({ topics: doomed, timeout: 30_000 });
      for (const name of doomed) existing.delete(name);
    }
  } else {
    for (const name of names.filter((topic) => existing.has(topic))) {
      const offsets = await fetchTopicOffsets(admin, name);
      const held = offsets.reduce((sum, partition) => sum + (Number(partition.high) - Number(partition.low)), 0);
      if (held > 0 && !continuing) {
        throw new UsageError(`topic ${name} already holds ${held} messages; replay refuses to append a second copy of the scenario`, {
          hint: 'pass --reset to delete and recreate the input topics, or use another --topic-prefix',
        });
      }
      if (partitions !== undefined && offsets.length !== partitions) {
        throw new UsageError(`topic ${name} has ${offsets.length} partitions, ${partitions} were asked for`, { hint: 'pass --reset to recreate the topics, or drop --partitions' });
      }
    }
  }
  const missing = names.filter((name) => !existing.has(name));
  if (missing.length === 0) return;
  const numPartitions = partitions ?? DEFAULT_PARTITIONS;
  // Timestamps are event times, often long past: with a finite retention.ms the broker would delete them at once.
  await createTopicsAndWait(admin, missing.map((topic) => ({ topic, numPartitions, configEntries: [{ name: 'retention.ms', value: '-1' }] })));
  logger.info({ topics: missing, partitions: numPartitions }, 'created topics');
}
