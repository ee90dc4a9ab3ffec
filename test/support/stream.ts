/**
 * Helpers for streaming integration tests: publish test messages in the pinned input format, and read
 * a run's output topics to their final value per key (compacted-topic semantics: last value wins,
 * tombstone removes).
 */
import '../../src/kafkajs-fixes.ts';
import { randomUUID } from 'node:crypto';
import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';
import { createTopicsAndWait, fetchTopicOffsets } from '../../src/kafka-client.ts';
import { topicOf } from '../../src/model/codec.ts';
import type { DomainModel } from '../../src/model/domain.ts';
import { shop } from '../../src/domains/shop/index.ts';
import { readToEnd } from '../../streaming/runtime/reader.ts';
import { brokers } from './kafka.ts';
import type { TestMessage } from './events.ts';

export function kafka(): Kafka {
  return new Kafka({ clientId: `dualrun-test-${randomUUID().slice(0, 6)}`, brokers: brokers(), logLevel: logLevel.NOTHING });
}

/** A consumer group as the broker describes it now: its state and how many members it has ('Dead' and 0 when there is none). */
export async function describeGroup(group: string): Promise<{ state: string; members: number }> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const [described] = (await admin.describeGroups([group])).groups;
    return { state: described?.state ?? 'Dead', members: described?.members.length ?? 0 };
  } finally {
    await admin.disconnect();
  }
}

/** Creates the domain's input topics (default: the shop's four) with `partitions` partitions. */
export async function createInputTopics(prefix: string, partitions: number, domain: DomainModel = shop): Promise<void> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    // Waits until every partition has a leader the broker answers for, so the first produce finds them.
    await createTopicsAndWait(admin, domain.entities.map((entity) => ({ topic: topicOf(entity, prefix), numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] })));
  } finally {
    await admin.disconnect();
  }
}

/** Publishes in the given (arrival) order, `chunk` messages per produce request, to the domain's topics (default: the shop's). */
export async function publish(prefix: string, messages: TestMessage[], chunk = 5000, domain: DomainModel = shop): Promise<void> {
  const producer = kafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let start = 0; start < messages.length; start += chunk) await sendRequest(producer, prefix, messages.slice(start, start + chunk), domain);
  } finally {
    await producer.disconnect();
  }
}

/** Sends `messages` in one produce request, each to its entity's topic, in their order. */
export async function sendRequest(producer: Pick<Producer, 'sendBatch'>, prefix: string, messages: TestMessage[], domain: DomainModel = shop): Promise<void> {
  const topicMessages = new Map<string, Omit<TestMessage, 'entity'>[]>();
  for (const { entity, ...message } of messages) {
    const topic = topicOf(domain.entity(entity)!, prefix);
    if (!topicMessages.has(topic)) topicMessages.set(topic, []);
    topicMessages.get(topic)!.push(message);
  }
  await producer.sendBatch({ topicMessages: [...topicMessages].map(([topic, list]) => ({ topic, messages: list })) });
}

/** Input offsets a group has committed, summed over the domain's input topics (its progress in events). */
export async function committedInput(group: string, prefix: string, domain: DomainModel = shop): Promise<number> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchOffsets({ groupId: group, topics: domain.entities.map((entity) => topicOf(entity, prefix)) });
    return offsets.flatMap(({ partitions }) => partitions).reduce((sum, { offset }) => sum + Math.max(0, Number(offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Final value per key of a compacted topic (read committed), as parsed JSON. */
export async function finalValues(topic: string): Promise<Record<string, unknown>> {
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  const result: Record<string, unknown> = {};
  try {
    const partitions = (await fetchTopicOffsets(admin, topic)).map(({ partition }) => partition);
    await readToEnd(client, admin, topic, new Set(partitions), (_partition, message) => {
      const key = message.key!.toString();
      if (message.value === null) delete result[key];
      else result[key] = JSON.parse(message.value.toString());
    }, 'dualrun-test');
  } finally {
    await admin.disconnect();
  }
  return result;
}

/** Every message of a topic (read committed), with where it is. */
export async function allMessages(topic: string): Promise<{ key: string | null; value: string | null; headers: Record<string, string>; partition: number; offset: string }[]> {
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  const result: { key: string | null; value: string | null; headers: Record<string, string>; partition: number; offset: string }[] = [];
  try {
    const partitions = (await fetchTopicOffsets(admin, topic)).map(({ partition }) => partition);
    await readToEnd(client, admin, topic, new Set(partitions), (partition, message) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]));
      result.push({ key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers, partition, offset: message.offset });
    }, 'dualrun-test');
  } finally {
    await admin.disconnect();
  }
  return result;
}
