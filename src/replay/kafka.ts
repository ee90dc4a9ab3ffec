/**
 * The event side of replay: publishes events to the input topics (one per entity, keyed by the entity key),
 * in batches through idempotent producers with a single request in flight each. Replay picks each
 * message's partition itself (the default partitioner's choice, src/kafka-partition.ts) and gives every
 * partition to one producer, so per-key order is arrival order; the producers' requests overlap, so
 * Node builds one while the broker writes another (kafkajs lets an idempotent producer have one
 * request at a time: with one producer, Node waited for the broker a quarter of the time). Every message carries the event time as its Kafka timestamp and the HEADERS; a delete
 * is a tombstone with the same headers. Creates missing topics with the requested partition count,
 * kept forever (retention.ms=-1: the timestamps are past event times); refuses topics that already
 * hold messages unless `reset` (then deletes and recreates them).
 */
import type { Admin, Message, Producer } from 'kafkajs';
import { UnavailableError, UsageError, messageOf } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { toMessage, topicOf } from '../model/codec.ts';
import type { DomainModel } from '../model/domain.ts';
import type { Delivery } from '../model/events.ts';
import { createKafka, createTopicsAndWait, fetchTopicOffsets } from '../kafka-client.ts';
import { partitionOfKey } from '../kafka-partition.ts';

export interface KafkaTarget {
  brokers: string[];
  topicPrefix?: string;
  /** Partitions of topics replay creates (default 3). Existing topics keep theirs unless reset. */
  partitions?: number;
}

export const DEFAULT_PARTITIONS = 3;
/** Upper bounds of one produce request (messages, approximate bytes). */
const SEND_MESSAGES = 2000;
const SEND_BYTES = 512 * 1024;
/** Producers, each with the partitions p where p % PRODUCERS is its index. */
const PRODUCERS = 3;
/** Requests a producer may have queued when publish returns. */
const QUEUED = 2;

function approximateSize(message: Message): number {
  let size = 64 + (typeof message.key === 'string' ? message.key.length : 0) + (typeof message.value === 'string' ? message.value.length : 0);
  const headers = message.headers ?? {};
  for (const name in headers) size += name.length + String(headers[name]).length + 8;
  return size;
}

export interface Publisher {
  /** Entity name → its input topic. */
  topics: Record<string, string>;
  /** Queues the events' messages; resolves while the last few requests may still be in flight. */
  publish(events: Delivery[]): Promise<void>;
  /** Messages the broker acknowledged, per topic (tombstones included). */
  counts: Record<string, { messages: number; tombstones: number }>;
  /** Waits for every queued message to be acknowledged (throws the first send that failed), then disconnects. */
  close(): Promise<void>;
}

export async function openPublisher(domain: DomainModel, target: KafkaTarget, { reset, continuing, logger }: { reset: boolean; continuing: boolean; logger: Logger }): Promise<Publisher> {
  const prefix = target.topicPrefix ?? domain.name;
  const topics = Object.fromEntries(domain.entities.map((entity) => [entity.name, topicOf(entity, prefix)]));
  const kafka = createKafka({ clientId: 'dualrun-replay', brokers: target.brokers, retry: { retries: 5 } });
  const admin = kafka.admin();
  await connect(admin, target.brokers);
  const partitionCounts = new Map<string, number>();
  try {
    await prepareTopics(admin, Object.values(topics), target.partitions, { reset, continuing, logger });
    for (const topic of Object.values(topics)) partitionCounts.set(topic, (await fetchTopicOffsets(admin, topic)).length);
  } finally {
    await admin.disconnect();
  }
  // Each message comes with its partition; a producer only passes it on.
  const given = () => ({ message }: { message: Message }) => message.partition!;
  const producers: Producer[] = Array.from({ length: Math.min(PRODUCERS, Math.max(...partitionCounts.values())) }, () => kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: given }));
  await Promise.all(producers.map((producer) => connect(producer, target.brokers)));
  const counts: Publisher['counts'] = Object.fromEntries(Object.values(topics).map((topic) => [topic, { messages: 0, tombstones: 0 }]));
  // Each producer's queue of requests: the promise of its last, how many wait or are in flight.
  const lanes = producers.map((producer) => ({ producer, tail: Promise.resolve(), queued: 0 }));
  let failure: Error | undefined;
  const sendOnce = async (producer: Producer, send: { topic: string; message: Message }[]): Promise<void> => {
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
      if (failure) throw failure;
      // Requests stay far below the broker's message.max.bytes (1 MiB per partition batch by default).
      // A producer's requests go one after another (its partitions' order); the producers' side by side.
      const sends = lanes.map(() => [[]] as { topic: string; message: Message }[][]);
      const bytes = lanes.map(() => 0);
      for (const delivery of events) {
        const { entity, message: out } = toMessage(domain, delivery);
        const topic = topics[entity.name]!;
        const partition = partitionOfKey(out.key, partitionCounts.get(topic)!);
        const message = out as Message;
        message.partition = partition;
        const lane = partition % lanes.length;
        let send = sends[lane]!.at(-1)!;
        if (send.length >= SEND_MESSAGES || bytes[lane]! >= SEND_BYTES) {
          sends[lane]!.push((send = []));
          bytes[lane] = 0;
        }
        send.push({ topic, message });
        bytes[lane] = bytes[lane]! + approximateSize(message);
      }
      // Queued behind the lane's earlier requests; publish returns while the last few are still in
      // flight (so the next batch is built meanwhile), and waits when a lane falls further behind.
      lanes.forEach((lane, index) => {
        for (const send of sends[index]!) {
          if (send.length === 0) continue;
          lane.queued += 1;
          lane.tail = lane.tail.then(async () => {
            try {
              if (!failure) await sendOnce(lane.producer, send);
            } catch (error) {
              failure ??= error as Error;
            } finally {
              lane.queued -= 1;
            }
          });
        }
      });
      await Promise.all(lanes.map((lane) => (lane.queued > QUEUED ? lane.tail : undefined)));
      if (failure) throw failure;
    },
    close: async () => {
      await Promise.all(lanes.map((lane) => lane.tail));
      await Promise.all(producers.map((producer) => producer.disconnect()));
      if (failure) throw failure;
    },
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
