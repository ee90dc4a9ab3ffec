// The streaming runner against the real broker: the hand-worked example (test/support/events.ts)
// published to 3-partition input topics must give exactly the hand-computed outputs, late records
// and a dead letter of every kind on every topic, with the job running on.
import '../../src/kafkajs-fixes.ts';
import { Partitioners, type Consumer } from 'kafkajs';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.ts';
import { StreamRunner } from '../../streaming/runtime/runner.ts';
import { TopicNames } from '../../streaming/tasks/model.ts';
import { badMessages, expectDeadLetters } from '../support/dead-letters.ts';
import { handWorkedExample, type TestMessage } from '../support/events.ts';
import { expectedHandWorked } from '../support/expected-hand-worked.ts';
import { brokers, createTopics, uniqueTopic } from '../support/kafka.ts';
import { shop, shopTransforms } from '../support/shop.ts';
import { fetchTopicOffsets } from '../../src/kafka-client.ts';
import { allMessages, createInputTopics, finalValues, kafka, publish, sendRequest } from '../support/stream.ts';

const prefix = uniqueTopic('srun');

/** One bad message of every dead-letter kind on each of the shop's topics (test/support/dead-letters.ts). */
const bad = shop.entities.map((entity) => ({ topic: `${prefix}.${entity.topic}`, messages: badMessages(shop, entity.name, handWorkedExample().messages) }));
const badCount = bad.reduce((sum, topic) => sum + topic.messages.length, 0);

/** The hand-worked example, then the bad messages (that they move no watermark wherever they are is streaming/tasks/tasks.test.ts's). */
function inputWithBadEvents(): TestMessage[] {
  return [...handWorkedExample().messages, ...bad.flatMap((topic) => topic.messages.map(({ message }) => message))];
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
const runners: StreamRunner[] = [];
afterAll(async () => {
  await Promise.all(runners.map((runner) => runner.stop()));
});

describe('stream runner on the real broker', () => {
  it('produces the hand-worked outputs, late records, and a dead letter of every kind on every topic at its exact coordinates', async () => {
    await createInputTopics(prefix, 3);
    await publish(prefix, inputWithBadEvents());
    const runner = new StreamRunner({ domain: shop, brokers: brokers(), group: `${prefix}-g`, topicPrefix: prefix, transforms: shopTransforms, fromBeginning: true, untilIdleMs: 2000, logger: silentLogger });
    runners.push(runner);
    await runner.start();
    await runner.done;

    for (const [name, rows] of Object.entries(expectedHandWorked)) expect(await finalValues(`${prefix}.out.${name}`), name).toEqual(rows);
    const metrics = runner.metrics();
    expect(metrics).toMatchObject({ late: 4, duplicates: 1, deadLetters: badCount });

    const late = await allMessages(`${prefix}.late`);
    expect(late.map((record) => `${record.key} ${record.headers['dualrun-transform']}`).sort()).toEqual(['o2 daily_revenue_by_region', 'o2 product_sales_daily', 'o4 daily_revenue_by_region', 'o4 product_sales_daily']);

    // Each kind on each topic: orders (a source task dead-letters) and the joined entities' topics (table tasks do).
    for (const { topic, messages } of bad) await expectDeadLetters(topic, messages);
  });

  it("gives the shop's dead letters the reasons the codec promises, word for word", () => {
    // The orders topic's reasons written out by hand, so the helper's reasons cannot drift with the codec unseen.
    const known = 'CustomerUpserted, CustomerDeleted, ProductUpserted, FxRateSet, OrderPlaced, OrderStatusChanged, OrderDeleted';
    expect(bad.find(({ topic }) => topic === `${prefix}.orders`)!.messages.map(({ label, reason }) => [label, reason])).toEqual([
      ['orders/malformed JSON', expect.stringMatching(/^malformed JSON: .*JSON/)],
      ['orders/envelope failing its schema', 'envelope fails its schema: eventTime: expected an ISO-8601 time with an offset'],
      ['orders/unknown type', `unknown event type "NoSuchEvent" (known: ${known})`],
      ['orders/wrong topic', 'event type CustomerUpserted does not belong on the orders topic'],
      ['orders/tombstone without headers', 'tombstone without the headers dualrun-event-id, dualrun-event-type, dualrun-event-time and a key: cannot tell which delete it is'],
      ['orders/tombstone of a non-delete type', 'tombstone of event type "OrderPlaced", which is not a delete (deletes: CustomerDeleted, OrderDeleted)'],
      ['orders/tombstone key not of its entity', 'tombstone key "not a key!" is not a key of orders (orderId)'],
    ]);
    expect(bad.map(({ messages }) => messages.length)).toEqual([7, 6, 6, 7]); // customers, products, fxRates, orders: no bad key without a delete type
  });

  it('does not process again a batch that kafkajs hands over again after it committed', async () => {
    const again = uniqueTopic('srun-again');
    await createInputTopics(again, 1);
    await publish(again, inputWithBadEvents());
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const runner = new StreamRunner({ domain: shop, brokers: brokers(), group: `${again}-g`, topicPrefix: again, transforms: shopTransforms, fromBeginning: true, logger });
    runners.push(runner);
    await runner.start();
    const total = inputWithBadEvents().length;
    await until(() => runner.metrics().processed === total, `all ${total} input events processed`);
    // kafkajs refetches from its own position after an error; a seek puts it back the same way.
    const consumer = (runner as unknown as { consumer: Consumer }).consumer;
    consumer.seek({ topic: `${again}.orders`, partition: 0, offset: '0' });
    await until(() => lines.some((line) => line.includes('skipped messages of a batch that already committed')), 'the skip to be logged');
    await runner.stop();

    expect(runner.metrics()).toMatchObject({ processed: total, late: 4, duplicates: 1, deadLetters: badCount });
    expect(await allMessages(`${again}.orders.dlq`)).toHaveLength(bad.find(({ topic }) => topic.endsWith('.orders'))!.messages.length);
    expect(await allMessages(`${again}.late`)).toHaveLength(4);
    for (const [name, rows] of Object.entries(expectedHandWorked)) expect(await finalValues(`${again}.out.${name}`), name).toEqual(rows);
  });

  it('runs on input written in transactions: commits past the markers, so --until-idle stops at the end', async () => {
    // A team's input often comes from a transactional producer (Kafka Streams, Debezium with exactly-once
    // source support): every partition then ends in a commit marker, which kafkajs never hands to eachBatch.
    const txn = uniqueTopic('srun-txn');
    await createInputTopics(txn, 3);
    const producer = kafka().producer({ transactionalId: `${txn}-producer`, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const messages = handWorkedExample().messages;
    try {
      // One transaction per message: a marker after every record, and the last record of each partition.
      for (const message of messages) {
        const transaction = await producer.transaction();
        await sendRequest(transaction, txn, [message]);
        await transaction.commit();
      }
    } finally {
      await producer.disconnect();
    }
    const runner = new StreamRunner({ domain: shop, brokers: brokers(), group: `${txn}-g`, topicPrefix: txn, transforms: shopTransforms, fromBeginning: true, untilIdleMs: 2000, logger: silentLogger });
    runners.push(runner);
    await runner.start();
    const outcome = await Promise.race([runner.done.then(() => 'stopped'), new Promise((resolve) => setTimeout(resolve, 60_000, 'still running after 60 s'))]);
    expect(outcome).toBe('stopped');

    expect(runner.metrics().processed).toBe(messages.length);
    for (const [name, rows] of Object.entries(expectedHandWorked)) expect(await finalValues(`${txn}.out.${name}`), name).toEqual(rows);
    // Each input partition committed to its end offset, the marker after its last record included.
    const admin = kafka().admin();
    await admin.connect();
    try {
      for (const entity of shop.entities) {
        const topic = `${txn}.${entity.topic}`;
        const ends = await fetchTopicOffsets(admin, topic);
        const [committed] = await admin.fetchOffsets({ groupId: `${txn}-g`, topics: [topic] });
        const byPartition = new Map(committed!.partitions.map(({ partition, offset }) => [partition, offset]));
        for (const { partition, offset } of ends) expect(byPartition.get(partition), `${topic}[${partition}]`).toBe(Number(offset) > 0 ? offset : '-1');
      }
    } finally {
      await admin.disconnect();
    }
  }, 120_000);

  it('refuses to continue a group whose internal topics dualrun 0.1 wrote, saying how to start over', async () => {
    const old = uniqueTopic('srun-old');
    await createInputTopics(old, 1);
    await createTopics([`${old}.stream-${old}-g.repartition`], 1);
    const runner = new StreamRunner({ domain: shop, brokers: brokers(), group: `${old}-g`, topicPrefix: old, transforms: shopTransforms, fromBeginning: true, logger: silentLogger });
    const error = await runner.start().then(() => undefined, (thrown: unknown) => thrown as Error & { hint?: string; exitCode?: number });
    await runner.stop();
    expect(error?.message).toMatch(/was run by dualrun 0\.1, whose topic .*\.repartition holds a contribution per source row/);
    expect(error?.hint).toMatch(/start a new group \(--group NAME --from-beginning\)/);
    expect(error?.exitCode).toBe(2);
  });

  it('stopped while it starts, stops what the start brings up: the start ends, the group is left, nothing runs on', async () => {
    // A signal during the group join (dualrun teach, a CI job cancelled): a runner left running would
    // create the topics its caller deletes next.
    const early = uniqueTopic('srun-early');
    await createInputTopics(early, 1);
    await publish(early, handWorkedExample().messages);
    const runner = new StreamRunner({ domain: shop, brokers: brokers(), group: `${early}-g`, topicPrefix: early, transforms: shopTransforms, fromBeginning: true, logger: silentLogger });
    runners.push(runner);
    const starting = runner.start();
    await runner.stop();
    await expect(starting).resolves.toBeUndefined();
    expect(runner.metrics().stopped).toBe(true);
    const admin = kafka().admin();
    await admin.connect();
    try {
      const [group] = (await admin.describeGroups([`${early}-g`])).groups;
      expect(group?.members).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  });

  it('keeps no key\'s state in the changelog of an input that keeps every event, and refuses to restore once that input may lose events', async () => {
    const own = uniqueTopic('srun-src');
    await createInputTopics(own, 2);
    const messages = handWorkedExample().messages;
    await publish(own, messages);
    const run = async () => {
      const runner = new StreamRunner({ domain: shop, brokers: brokers(), group: `${own}-g`, topicPrefix: own, transforms: shopTransforms, fromBeginning: true, untilIdleMs: 2000, logger: silentLogger });
      runners.push(runner);
      await runner.start();
      await runner.done;
      return runner;
    };
    await run();
    for (const [name, rows] of Object.entries(expectedHandWorked)) expect(await finalValues(`${own}.out.${name}`), name).toEqual(rows);
    // The orders' changelog: a marker per partition that had orders, and one record per late delivery
    // (o2's status change and o4's placement, each late for both windowed transformations).
    const changelog = await allMessages(new TopicNames(own, `${own}-g`).changelog(shop.entity('orders')!));
    const late = changelog.filter((record) => record.key!.startsWith('\u0000late@'));
    expect(changelog.filter((record) => record.key === '\u0000state-in-input').length).toBeGreaterThan(0);
    expect(changelog.length).toBe(late.length + changelog.filter((record) => record.key === '\u0000state-in-input').length);
    expect(late.map((record) => JSON.parse(record.value!) as string[])).toEqual([
      ['daily_revenue_by_region', 'product_sales_daily'],
      ['daily_revenue_by_region', 'product_sales_daily'],
    ]);

    // The input given a retention: its old events may be deleted, so the group's state cannot be read back.
    const admin = kafka().admin();
    await admin.connect();
    try {
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: `${own}.orders`, configEntries: [{ name: 'retention.ms', value: String(7 * 86_400_000) }] }] });
    } finally {
      await admin.disconnect();
    }
    const next = messages.find((message) => message.entity === 'orders' && message.headers['dualrun-event-type'] === 'OrderStatusChanged')!;
    await publish(own, [{ ...next, headers: { ...next.headers, 'dualrun-event-id': 'after-retention' } }]);
    const refused = await run();
    expect(refused.failure?.message).toMatch(new RegExp(`input topic ${own}\\.orders\\[\\d\\] no longer holds every event .*consumer group ${own}-g keeps its state in it`));
    expect((refused.failure as { hint?: string }).hint).toMatch(/retention\.ms=-1/);
  }, 120_000);
});
