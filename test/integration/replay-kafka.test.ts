// Replay into the real Kafka broker: reading the topics back gives every event (redeliveries included),
// keyed by entity id, in arrival order per key, with event-time timestamps, headers and tombstones;
// topics holding data are refused without reset, and reset recreates them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateScenario } from '../../src/domains/shop/generate.ts';
import { UsageError } from '../../src/errors.ts';
import { topicOf } from '../../src/model/codec.ts';
import { encodeKey } from '../../src/model/domain.ts';
import { HEADERS } from '../../src/model/events.ts';
import { replay } from '../../src/replay/replay.ts';
import type { Scenario, ScenarioEvent } from '../../src/scenario/load.ts';
import { brokers, kafkaClient, readMessages, uniqueTopic } from '../support/kafka.ts';
import { loadShopScenario, shop } from '../support/shop.ts';

type Read = KafkaMessage & { partition: number };
const header = (message: Read, name: string): string | undefined => message.headers?.[name]?.toString();

type Entity = 'customers' | 'products' | 'fxRates' | 'orders';
const entityOf = ({ event }: ScenarioEvent): Entity => shop.eventType(event.type)!.entity.name as Entity;

async function readAll(prefix: string, scenario: Scenario): Promise<Record<Entity, Read[]>> {
  const out = {} as Record<Entity, Read[]>;
  for (const entity of shop.entities) {
    const count = scenario.events.filter((event) => entityOf(event) === entity.name).length;
    out[entity.name as Entity] = count === 0 ? [] : await readMessages(topicOf(entity, prefix), { count });
  }
  return out;
}

const prefixes: string[] = [];
function prefixForTest(): string {
  const prefix = uniqueTopic('replay');
  prefixes.push(prefix);
  return prefix;
}
afterAll(async () => {
  const admin = kafkaClient('dualrun-test-cleanup').admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((topic) => prefixes.some((prefix) => topic.startsWith(`${prefix}.`)));
  if (topics.length > 0) await admin.deleteTopics({ topics });
  await admin.disconnect();
});

async function messagesHeld(topic: string): Promise<number> {
  const admin = kafkaClient('dualrun-test-offsets').admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, partition) => sum + Number(partition.high) - Number(partition.low), 0);
  } finally {
    await admin.disconnect();
  }
}

describe('replay into Kafka', () => {
  let generatedDir: string;
  let generated: Scenario;
  beforeAll(async () => {
    generatedDir = await mkdtemp(join(tmpdir(), 'dualrun-replay-kafka-'));
    await generateScenario({ out: generatedDir, orders: 500, customers: 20, seed: 'replay-kafka', duplicateRate: 0.1, cancelRate: 0.3, moveRate: 0.1, days: 2 });
    generated = await loadShopScenario(generatedDir);
  });
  afterAll(async () => {
    await rm(generatedDir, { recursive: true, force: true });
  });

  it('publishes each event keyed by entity id, with event-time timestamp, headers, and tombstones for deletes', async () => {
    const scenario = await loadShopScenario('cancellations-and-deletes');
    const prefix = prefixForTest();
    const summary = await replay({ domain: shop, events: scenario.events, kafka: { brokers: brokers(), topicPrefix: prefix, partitions: 3 } });
    expect(summary.kafka?.[`${prefix}.orders`]).toEqual({ messages: 14, tombstones: 2 });
    const read = await readAll(prefix, scenario);
    // By hand from the fixture: 5 customer events (one delete), 4 products, 4 rates, 14 order events (two deletes).
    expect([read.customers.length, read.products.length, read.fxRates.length, read.orders.length]).toEqual([5, 4, 4, 14]);
    // Every tombstone, exactly (the fixture's three deletes): key, headers and the event time as Kafka timestamp.
    const tombstones = (messages: Read[]) =>
      messages
        .filter((message) => message.value === null)
        .map((message) => [message.key?.toString(), header(message, HEADERS.eventId), header(message, HEADERS.type), header(message, HEADERS.eventTime), header(message, HEADERS.arrivalTime), message.timestamp])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(tombstones(read.orders)).toEqual([
      ['X4', 'ord-X4-deleted', 'OrderDeleted', '2024-07-02T08:00:00.000Z', '2024-07-02T08:01:00.000Z', String(Date.parse('2024-07-02T08:00:00Z'))],
      ['X5', 'ord-X5-deleted', 'OrderDeleted', '2024-07-02T10:00:00.000Z', '2024-07-02T10:01:00.000Z', String(Date.parse('2024-07-02T10:00:00Z'))],
    ]);
    expect(tombstones(read.customers)).toEqual([['C3', 'cust-C3-deleted', 'CustomerDeleted', '2024-07-02T12:00:00.000Z', '2024-07-02T12:01:00.000Z', String(Date.parse('2024-07-02T12:00:00Z'))]]);
    expect([...tombstones(read.products), ...tombstones(read.fxRates)]).toEqual([]);
    const x3 = read.orders.find((message) => header(message, HEADERS.eventId) === 'ord-X3')!;
    expect(JSON.parse(x3.value!.toString())).toEqual({
      eventId: 'ord-X3',
      type: 'OrderPlaced',
      eventTime: '2024-07-01T10:00:00.000Z',
      schemaVersion: 1,
      payload: { orderId: 'X3', customerId: 'C3', currency: 'EUR', placedAt: '2024-07-01T10:00:00.000Z', lines: [{ lineNo: 1, productId: 'P1', quantity: 2, unitPrice: '20.00', discountPct: '0' }] },
    });
    expect(x3.timestamp).toBe(String(Date.parse('2024-07-01T10:00:00Z')));
    const fxKeys = read.fxRates.map((message) => message.key?.toString()).sort();
    // A composite key is the JSON array of its key values.
    expect(fxKeys).toEqual(['["SEK","2024-07-01"]', '["SEK","2024-07-02"]', '["USD","2024-07-01"]', '["USD","2024-07-02"]']);
  });

  it('delivers every event, redeliveries included, in arrival order per key', async () => {
    const prefix = prefixForTest();
    await replay({ domain: shop, events: generated.events, kafka: { brokers: brokers(), topicPrefix: prefix, partitions: 3 }, batchSize: 97 });
    const read = await readAll(prefix, generated);
    expect(generated.events.filter((event) => event.redelivery).length).toBeGreaterThan(50);
    for (const model of shop.entities) {
      const entity = model.name as Entity;
      const expected = new Map<string, string[]>();
      for (const { event } of generated.events.filter((scenarioEvent) => entityOf(scenarioEvent) === entity)) {
        const key = encodeKey(model, event.payload);
        expected.set(key, [...(expected.get(key) ?? []), event.eventId]);
      }
      const actual = new Map<string, string[]>();
      const partitionOf = new Map<string, Set<number>>();
      for (const message of read[entity]) {
        const key = message.key!.toString();
        actual.set(key, [...(actual.get(key) ?? []), header(message, HEADERS.eventId)!]);
        partitionOf.set(key, (partitionOf.get(key) ?? new Set()).add(message.partition));
      }
      expect(actual).toEqual(expected);
      expect([...partitionOf.values()].every((partitions) => partitions.size === 1)).toBe(true);
    }
  });

  it('splits big batches into requests the broker accepts (one partition, 5000 events of ~400 bytes per batch)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dualrun-replay-kafka-big-'));
    try {
      await generateScenario({ out: dir, orders: 2400, customers: 50, seed: 'big-batch', days: 1 });
      const big = await loadShopScenario(dir);
      const prefix = prefixForTest();
      // 5000 messages in one request would be ~2 MB, twice the broker's default message.max.bytes.
      await replay({ domain: shop, events: big.events, kafka: { brokers: brokers(), topicPrefix: prefix, partitions: 1 }, batchSize: 5000 });
      const orders = big.events.filter((event) => entityOf(event) === 'orders').length;
      expect(orders).toBeGreaterThan(5000);
      expect(await messagesHeld(`${prefix}.orders`)).toBe(orders);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses topics that hold messages, and recreates them with reset', async () => {
    const scenario = await loadShopScenario('duplicates');
    const prefix = prefixForTest();
    const kafka = { brokers: brokers(), topicPrefix: prefix };
    await replay({ domain: shop, events: scenario.events, kafka });
    const orders = scenario.events.filter((event) => entityOf(event) === 'orders').length;
    expect(await messagesHeld(`${prefix}.orders`)).toBe(orders);
    const refused = await replay({ domain: shop, events: scenario.events, kafka }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UsageError);
    expect((refused as UsageError).message).toMatch(new RegExp(`topic ${prefix}\\.(customers|products|fx-rates|orders) already holds \\d+ messages`));
    await expect(replay({ domain: shop, events: scenario.events, kafka: { ...kafka, partitions: 2 }, after: new Date(0) })).rejects.toThrow(/has 3 partitions, 2 were asked for/);
    await replay({ domain: shop, events: scenario.events, kafka: { ...kafka, partitions: 2 }, reset: true });
    expect(await messagesHeld(`${prefix}.orders`)).toBe(orders);
    const admin = kafkaClient('dualrun-test-meta').admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(`${prefix}.orders`);
    expect(offsets).toHaveLength(2);
    // Kept forever: the timestamps are event times from 2024, which a finite retention would delete at once.
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: `${prefix}.orders`, configNames: ['retention.ms'] }] });
    expect(configs.resources[0]?.configEntries.find((entry) => entry.configName === 'retention.ms')?.configValue).toBe('-1');
    await admin.disconnect();
  });
});
