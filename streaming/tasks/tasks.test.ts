// The two stages together, without a broker: the hand-worked example through SharedState, the
// orders' source task and the aggregate task must give exactly the hand-computed outputs (test/support).
import { describe, expect, it } from 'vitest';
import { shop, shopTransforms } from '../../test/support/shop.ts';
import { arrivalOf, decode } from '../../src/model/codec.ts';
import { handWorkedExample, messageOf, event, type TestMessage } from '../../test/support/events.ts';
import { expectedHandWorked, expectedHandWorkedDuplicates, expectedHandWorkedLate } from '../../test/support/expected-hand-worked.ts';
import { AggregateTask } from './aggregate-task.ts';
import { TopicNames, outputValue, sameOutput, type OutRecord } from './model.ts';
import { SourceTask, repartitionPartition } from './source-task.ts';
import fc from 'fast-check';
import { SharedState } from './tables.ts';
import { HEADERS } from '../../src/model/events.ts';
import { badMessages } from '../../test/support/dead-letters.ts';

const topics = new TopicNames('shop', 'g');
const streamTransforms = shopTransforms;
const ordersEntity = shop.entity('orders')!;
const ordersChangelog = topics.changelog(ordersEntity);
const toRaw = (record: OutRecord) => ({ key: Buffer.from(record.key), value: record.value === null ? null : Buffer.from(record.value), timestamp: '0' });
const observe = (shared: SharedState, message: TestMessage) => shared.observe(shop.entity(message.entity)!, message);
const newOrderTask = (shared: SharedState) => new SourceTask(shop, ordersEntity, streamTransforms, shared.env, topics, 1);

function setup() {
  const shared = new SharedState(shop, streamTransforms);
  return { shared, orderTask: newOrderTask(shared), aggregateTask: new AggregateTask(streamTransforms, topics) };
}

/**
 * Runs messages through both stages in batches of `batchSize`; returns every record sent. `observed`:
 * which of them the process-wide reader has seen (the watermark's events), all by default.
 */
function run(messages: TestMessage[], batchSize: number, parts = setup(), firstOffset = 0, observed = (_message: TestMessage) => true) {
  const { shared, orderTask, aggregateTask } = parts;
  for (const message of messages) if (observed(message)) observe(shared, message);
  const orders = messages.filter((message) => message.entity === 'orders').map((message, index) => ({ ...message, offset: String(firstOffset + index) }));
  const sent: OutRecord[] = [];
  const counters = { late: 0, duplicates: 0, deadLetters: 0 };
  for (let start = 0; start < orders.length; start += batchSize) {
    const result = orderTask.process('shop.orders', 0, orders.slice(start, start + batchSize));
    counters.late += result.counters.late;
    counters.duplicates += result.counters.duplicates;
    counters.deadLetters += result.counters.deadLetters;
    sent.push(...result.records);
    const repartition = result.records.filter((record) => record.topic === topics.repartition);
    sent.push(...aggregateTask.process(repartition.map(toRaw)).records);
  }
  return { sent, counters };
}

/** Final value per key of each output topic, tombstones removing keys. */
function finalOutputs(sent: OutRecord[]): Record<string, Record<string, unknown>> {
  const result: Record<string, Record<string, unknown>> = {};
  for (const record of sent) {
    if (!record.topic.startsWith('shop.out.')) continue;
    const table = (result[record.topic.slice('shop.out.'.length)] ??= {});
    if (record.value === null) delete table[record.key];
    else table[record.key] = JSON.parse(record.value);
  }
  return result;
}

describe('order task + aggregate task', () => {
  it('gives the hand-worked outputs, counting the duplicate and the late changes', () => {
    const { sent, counters } = run(handWorkedExample().messages, 1);
    expect(finalOutputs(sent)).toEqual(expectedHandWorked);
    expect(counters).toEqual({ late: expectedHandWorkedLate, duplicates: expectedHandWorkedDuplicates, deadLetters: 0 });
    const late = sent.filter((record) => record.topic === 'shop.late');
    expect(late.map((record) => [record.key, record.headers?.['dualrun-transform']])).toEqual([
      ['o2', 'daily_revenue_by_region'],
      ['o2', 'product_sales_daily'],
      ['o4', 'daily_revenue_by_region'],
      ['o4', 'product_sales_daily'],
    ]);
    expect(late[0]?.headers?.['dualrun-late-reason']).toContain('window 2024-10-27 (business days in Europe/Stockholm) was final');
  });

  it('lets no dead-lettered message move the watermark, whatever times its headers carry', () => {
    // Each kind of bad message on every topic, ahead of the good ones, its headers saying it happened in
    // 2099 and arrived in 2000: were they read for the watermark, every window before 2099 would have been
    // final since 2000, and every good event late.
    const good = handWorkedExample().messages;
    const headers = { [HEADERS.eventTime]: '2099-01-01T00:00:00.000Z', [HEADERS.arrivalTime]: '2000-01-01T00:00:00.000Z' };
    const bad = shop.entities.flatMap((entity) => badMessages(shop, entity.name, good)).map(({ message }) => ({ ...message, headers: { ...message.headers, ...headers } }));
    const { sent, counters } = run([...bad, ...good], 1);
    expect(finalOutputs(sent)).toEqual(expectedHandWorked);
    expect(counters).toEqual({ late: expectedHandWorkedLate, duplicates: expectedHandWorkedDuplicates, deadLetters: bad.filter((message) => message.entity === 'orders').length });
  });

  it('combines the partials of orders partitions into the same rows as one partition gives', () => {
    const messages = handWorkedExample().messages;
    const { shared, aggregateTask } = setup();
    for (const message of messages) observe(shared, message);
    // Orders spread over three partitions by key, as the producer's partitioner would; one batch each.
    const tasks = [0, 1, 2].map(() => newOrderTask(shared));
    const sent: OutRecord[] = [];
    messages.forEach((message, index) => {
      if (message.entity !== 'orders') return;
      const partition = Number(message.key.toString().slice(1)) % 3;
      const { records } = tasks[partition]!.process('shop.orders', partition, [{ ...message, offset: String(index) }]);
      sent.push(...records, ...aggregateTask.process(records.filter((record) => record.topic === topics.repartition).map(toRaw)).records);
    });
    // The first customer's lifetime value holds orders of every partition: one partial each.
    expect(aggregateTask.size.partials).toBeGreaterThan(aggregateTask.size.keys);
    expect(finalOutputs(sent)).toEqual(expectedHandWorked);
  });

  it('does not depend on batch boundaries', () => {
    const messages = handWorkedExample().messages;
    expect(finalOutputs(run(messages, 4).sent)).toEqual(finalOutputs(run(messages, 100).sent));
  });

  it('restores from its changelogs to the same state as if never stopped', () => {
    const messages = handWorkedExample().messages;
    const orders = messages.filter((m) => m.entity === 'orders');
    const firstHalf = [...messages.filter((m) => m.entity !== 'orders'), ...orders.slice(0, 5)];
    const first = setup();
    const { sent } = run(firstHalf, 2, first);
    // Changelog and repartition records name their partition (0 of 1 here) rather than leave it to the key hash.
    const changelogRecords = sent.filter((record) => record.topic === ordersChangelog || record.topic === topics.repartition);
    expect(changelogRecords.length).toBeGreaterThan(0);
    expect(changelogRecords.every((record) => record.partition === 0)).toBe(true);
    // A fresh pair of tasks restored from the changelog records the first one wrote.
    const restored = setup();
    for (const message of messages) observe(restored.shared, message);
    for (const record of sent) {
      if (record.topic === ordersChangelog) restored.orderTask.restore(record.key, record.value);
      if (record.topic === topics.repartition) restored.aggregateTask.restore(toRaw(record));
    }
    restored.orderTask.finishRestore();
    const second = run(orders.slice(5), 2, restored, 5);
    expect(finalOutputs([...sent, ...second.sent])).toEqual(expectedHandWorked);
  });

  it('restores at any point to exactly the partials an uninterrupted task holds (late orders, latest, a re-placed order)', () => {
    const messages = handWorkedExample().messages;
    // o3 placed again (a new event id, the same lines) later that morning: only its `latest` stamp changes.
    const o3 = messages.find((m) => m.entity === 'orders' && m.key.toString() === 'o3' && m.headers['dualrun-event-type'] === 'OrderPlaced')!;
    const again = { ...o3, headers: { ...o3.headers, 'dualrun-event-id': 'o3-again', 'dualrun-arrival-time': '2024-10-28T10:00:00.000Z' } };
    const all = [...messages, { ...again, value: Buffer.from(JSON.stringify({ ...JSON.parse(o3.value!.toString()), eventId: 'o3-again' })) }];
    const orders = all.filter((m) => m.entity === 'orders');
    const uninterrupted = setup();
    run(all, 1, uninterrupted);
    const reference = uninterrupted.orderTask.snapshot(0);
    expect(reference.length).toBeGreaterThan(0);
    for (let split = 1; split <= orders.length; split += 1) {
      const first = setup();
      const { sent } = run([...all.filter((m) => m.entity !== 'orders'), ...orders.slice(0, split)], 2, first);
      const restored = setup();
      for (const message of all) observe(restored.shared, message);
      for (const record of sent) if (record.topic === ordersChangelog) restored.orderTask.restore(record.key, record.value);
      restored.orderTask.finishRestore();
      run(orders.slice(split), 2, restored, split);
      expect(restored.orderTask.snapshot(0), `restored after ${split} order events`).toEqual(reference);
    }
  });

  // Two pasts, one present: the job first saw the orders as they came (late ones were late), or it saw
  // none of them for its watermark (nothing was late, as when every closing event was delivered after
  // the rest). Restored where the watermark has passed every window, each must come back as it was at
  // the committed offset: the decisions that were taken count, not the ones the watermark of now would
  // take. (Going on from there is the same world only for the first: in the second, the present
  // watermark judges the later events.)
  it.each([
    ['the watermark saw every order', () => true, 4],
    ['the watermark saw no order', (message: TestMessage) => message.entity !== 'orders', 0],
  ])('with its state in its input (%s): writes only the marker and its late decisions, and restores at any point by reading the input again', (_past, observed, lateCount) => {
    const all = handWorkedExample().messages;
    const orders = all.filter((m) => m.entity === 'orders').map((message, offset) => ({ ...message, offset: String(offset) }));
    const inInput = () => {
      const parts = setup();
      expect(parts.orderTask.decideStateIn(0n, true)).toBe('input');
      return parts;
    };
    const uninterrupted = inInput();
    const { sent, counters } = run(all, 1, uninterrupted, 0, observed);
    expect(counters.late).toBe(lateCount);
    const reference = uninterrupted.orderTask.snapshot(0);
    const referenceOutputs = finalOutputs(sent);
    // No key's state: the marker once, then one record per late delivery, by its input offset.
    const lateOffsets = [...new Set(sent.filter((record) => record.topic === topics.late).map((record) => record.headers!['dualrun-source-offset']))];
    expect(sent.filter((record) => record.topic === ordersChangelog).map((record) => record.key)).toEqual(['\u0000state-in-input', ...lateOffsets.map((offset) => `\u0000late@${offset}`)]);
    for (let split = 1; split <= orders.length; split += 1) {
      const first = inInput();
      const { sent: before } = run([...all.filter((m) => m.entity !== 'orders'), ...orders.slice(0, split)], 2, first, 0, observed);
      // Restored where the watermark has moved past every window: the decisions kept are what counts.
      const restored = setup();
      for (const message of all) observe(restored.shared, message);
      for (const record of before) if (record.topic === ordersChangelog) restored.orderTask.restore(record.key, record.value);
      expect(restored.orderTask.decideStateIn(BigInt(split), false), 'an input that lost events').toBe('refused');
      expect(restored.orderTask.decideStateIn(BigInt(split), true)).toBe('input');
      for (const message of orders.slice(0, split)) restored.orderTask.replay(message);
      restored.orderTask.finishReplay();
      expect(restored.orderTask.snapshot(0), `restored after ${split} order events`).toEqual(first.orderTask.snapshot(0));
      expect(restored.orderTask.size, `restored after ${split} order events`).toEqual(first.orderTask.size);
      if (lateCount === 0) continue;
      const after = run(orders.slice(split), 2, restored, split, observed);
      expect(restored.orderTask.snapshot(0), `restored after ${split} order events, then the rest`).toEqual(reference);
      expect(finalOutputs([...before, ...after.sent]), `outputs, restored after ${split} order events`).toEqual(referenceOutputs);
    }
  });

  it('keeps its state in the changelog when the input does not keep every event, or it did so before', () => {
    const { orderTask } = setup();
    expect(orderTask.decideStateIn(0n, false)).toBe('states');
    const { sent } = run(handWorkedExample().messages, 3, { ...setup(), orderTask });
    const records = sent.filter((record) => record.topic === ordersChangelog);
    expect(records.some((record) => record.key.startsWith('\u0000'))).toBe(false);
    // Restored from those states, it stays with them even though the input now keeps everything.
    const restored = setup();
    for (const record of records) restored.orderTask.restore(record.key, record.value);
    expect(restored.orderTask.decideStateIn(5n, true)).toBe('states');
    // A task that committed without a marker kept its states in the changelog (all swept by now, say).
    expect(setup().orderTask.decideStateIn(5n, true)).toBe('states');
  });

  it('keeps a deleted order\'s event ids for dedupe, across a restore, and forgets them once they expire', () => {
    const placed = event('OrderPlaced', { orderId: 'd1', customerId: 'c1', currency: 'EUR', placedAt: '2024-10-27T10:00:00Z', lines: [{ lineNo: 1, productId: 'p1', quantity: 1, unitPrice: '10.00', discountPct: '0' }] }, '2024-10-27T10:00:00Z');
    const deleted = event('OrderDeleted', { orderId: 'd1' }, '2024-10-27T11:00:00Z');
    const at = (shopEvent: typeof placed, arrival: string, offset: number) => ({ ...messageOf(shopEvent, arrival), offset: String(offset) });
    const first = setup();
    const sent = first.orderTask.process('shop.orders', 0, [at(placed, '2024-10-27T10:00:00Z', 0), at(deleted, '2024-10-27T11:00:00Z', 1)]).records;
    // One changelog record per event: the order's state carries its ids; nothing is tombstoned yet.
    expect(sent.filter((record) => record.topic === ordersChangelog).map((record) => [record.key, record.value !== null])).toEqual([['d1', true]]);
    const redelivery = at(placed, '2024-10-27T12:00:00Z', 2);
    const restored = setup();
    for (const record of sent) if (record.topic === ordersChangelog) restored.orderTask.restore(record.key, record.value);
    restored.orderTask.finishRestore();
    for (const task of [first.orderTask, restored.orderTask]) {
      const result = task.process('shop.orders', 0, [redelivery]);
      expect(result.counters.duplicates).toBe(1);
      expect(result.records.filter((record) => record.topic.startsWith('shop.out.'))).toEqual([]);
    }
    expect(first.orderTask.size).toEqual({ keys: 1, eventIds: 2, aggregateKeys: 0, contributions: 0 });
    // Long after retention (and 64 batches, when the sweep runs), the deleted order's record goes.
    const later = at(event('OrderStatusChanged', { orderId: 'x9', status: 'paid' }, '2025-01-01T00:00:00Z'), '2025-01-01T00:00:00Z', 3);
    const tombstones = Array.from({ length: 64 }, () => first.orderTask.process('shop.orders', 0, [later]).records)
      .flat()
      .filter((record) => record.topic === ordersChangelog && record.value === null);
    expect(tombstones.map((record) => record.key)).toEqual(['d1']);
    expect(first.orderTask.size).toEqual({ keys: 1, eventIds: 1, aggregateKeys: 0, contributions: 0 });
  });

  it('sends bad events to the dead-letter topic with reason and source', () => {
    const good = messageOf(event('OrderStatusChanged', { orderId: 'x1', status: 'paid' }, '2024-10-27T10:00:00Z'), '2024-10-27T10:00:00Z');
    const bad = [
      { ...good, value: Buffer.from('{not json') },
      { ...good, value: Buffer.from(JSON.stringify({ eventId: 'e', type: 'OrderPlaced', eventTime: '2024-10-27T10:00:00Z', schemaVersion: 1, payload: { orderId: 'x' } })) },
      { ...good, value: Buffer.from(JSON.stringify({ eventId: 'e', type: 'OrderRefunded', eventTime: '2024-10-27T10:00:00Z', schemaVersion: 1, payload: {} })) },
    ];
    const { orderTask } = setup();
    const result = orderTask.process('shop.orders', 3, [...bad, good].map((message, index) => ({ ...message, offset: String(40 + index) })));
    expect(result.counters.deadLetters).toBe(3);
    const dlq = result.records.filter((record) => record.topic === 'shop.orders.dlq');
    expect(dlq.map((record) => record.headers?.['dualrun-source-offset'])).toEqual(['40', '41', '42']);
    expect(dlq.every((record) => record.headers?.['dualrun-source-partition'] === '3' && record.headers['dualrun-source-topic'] === 'shop.orders')).toBe(true);
    expect(dlq[0]?.headers?.['dualrun-dlq-reason']).toMatch(/^malformed JSON/);
    expect(dlq[1]?.headers?.['dualrun-dlq-reason']).toMatch(/^envelope fails its schema: payload\./);
    expect(dlq[2]?.headers?.['dualrun-dlq-reason']).toMatch(/^unknown event type "OrderRefunded"/);
  });
});

describe('codec and partitioning', () => {
  it('reads a delete tombstone from its headers, and dead-letters one without them', () => {
    const deleted = messageOf(event('OrderDeleted', { orderId: 'o9' }, '2024-10-27T10:00:00Z', 'del-1'), '2024-10-27T10:00:05Z');
    expect(decode(shop, ordersEntity, deleted)).toMatchObject({ ok: true, event: { type: 'OrderDeleted', eventId: 'del-1', payload: { orderId: 'o9' } }, arrival: '2024-10-27T10:00:05.000Z' });
    expect(decode(shop, ordersEntity, { ...deleted, headers: {} })).toMatchObject({ ok: false, reason: expect.stringMatching(/^tombstone without the headers/) });
    const customer = messageOf(event('CustomerUpserted', { customerId: 'c1', name: 'A', region: 'north', tier: 'gold' }, '2024-10-27T10:00:00Z'), '2024-10-27T10:00:00Z');
    expect(decode(shop, ordersEntity, customer)).toMatchObject({ ok: false, reason: 'event type CustomerUpserted does not belong on the orders topic' });
  });

  it('gives arrival times in the canonical form whatever form the header has', () => {
    const at = (text: string) => arrivalOf({ key: null, value: null, timestamp: '0', headers: { 'dualrun-arrival-time': text } });
    expect(at('2024-10-27T10:00:05.000Z')).toEqual({ arrivalMs: Date.parse('2024-10-27T10:00:05Z'), arrival: '2024-10-27T10:00:05.000Z' });
    expect(at('2024-10-27T10:00:05Z').arrival).toBe('2024-10-27T10:00:05.000Z');
    expect(at('2024-10-27 10:00:05.000Z').arrival).toBe('2024-10-27T10:00:05.000Z');
    expect(at('2024-10-27T12:00:05+02:00').arrival).toBe('2024-10-27T10:00:05.000Z');
    // No usable header: the Kafka timestamp.
    expect(arrivalOf({ key: null, value: null, timestamp: String(Date.parse('2024-10-27T10:00:05Z')), headers: { 'dualrun-arrival-time': 'soon' } }).arrival).toBe('2024-10-27T10:00:05.000Z');
  });

  it('writes output values as the JSON of the contract columns in order, and compares rows as that JSON would', () => {
    const transform = streamTransforms.find((t) => t.name === 'orders_enriched')!;
    const value = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true }), fc.constant(null), fc.constant(undefined));
    const row = fc.dictionary(fc.constantFrom(...transform.columns.map((column) => column.name), 'extra'), value);
    fc.assert(
      fc.property(row, row, (a, b) => {
        const ordered = (r: typeof a) => JSON.stringify(Object.fromEntries(transform.columns.map((column) => [column.name, r[column.name] ?? null])));
        expect(outputValue(transform, a as never)).toBe(ordered(a));
        expect(sameOutput(transform, a as never, b as never)).toBe(ordered(a) === ordered(b));
      }),
    );
  });

  it('puts every contribution to one output key in one partition, whatever the order', () => {
    expect(repartitionPartition('daily_revenue_by_region', '["2024-10-27","north"]', 4)).toBe(repartitionPartition('daily_revenue_by_region', '["2024-10-27","north"]', 4));
    const used = new Set(Array.from({ length: 200 }, (_, index) => repartitionPartition('customer_lifetime_value', `["c${index}"]`, 4)));
    expect([...used].sort()).toEqual([0, 1, 2, 3]);
  });
});
