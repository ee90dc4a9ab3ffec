// A join as of event time, end to end (issue #5): user transformations written through the public DSL
// (as examples/shop-extension does) run by the real StreamRunner on the real broker. Twins that differ
// only in their declared lookup mode read the same events; the customers and FX rates change at event
// times that disagree with the order their messages arrive in, so each mode has its own predictable
// answer. No built-in transformation uses `asOfEventTime`: without this test the runner could ignore
// the mode (or apply one pipeline's mode to every table) and only the operator unit test would know.
import '../../src/kafkajs-fixes.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { aggregateBy, count, defineTransform, upsertPerKey, type BatchContext, type LookupMode } from 'dualrun';
import { BUSINESS_TIME_ZONE, rateToEur, shop } from 'dualrun/shop';
import { silentLogger } from '../../src/logger.ts';
import { StreamRunner } from '../../streaming/runtime/runner.ts';
import { event, messageOf, type TestMessage } from '../support/events.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';
import { createInputTopics, finalValues, publish } from '../support/stream.ts';

const time = { eventTimeField: 'placedAt', window: 'none', graceMs: 0, timeZone: BUSINESS_TIME_ZONE } as const;

// The legacy halves are never run here (this file drives the streaming job only); they are real SQL
// so the transformations are complete, as a user's would be.
const batchPerOrder = ({ knex }: BatchContext) =>
  knex.select('o.order_id', 'o.status', 'c.region', 'c.tier', knex.raw('NULL AS rate_to_eur')).from('orders as o').leftJoin('customers as c', 'c.customer_id', 'o.customer_id');
const batchByRegion = ({ knex }: BatchContext) =>
  knex.select(knex.raw("COALESCE(c.region, 'unknown') AS region"), knex.raw('COUNT(*) AS order_count')).from('orders as o').leftJoin('customers as c', 'c.customer_id', 'o.customer_id').groupByRaw("COALESCE(c.region, 'unknown')");

/** One order per row with its customer and FX rate, looked up in the given modes. */
function perOrder(name: string, customers: LookupMode, fxRates: LookupMode) {
  return defineTransform({
    name,
    description: `orders with customer (${customers}) and FX rate (${fxRates})`,
    key: ['order_id'],
    columns: [
      { name: 'order_id', type: 'string' },
      { name: 'status', type: 'string' },
      { name: 'region', type: 'string', nullable: true },
      { name: 'tier', type: 'string', nullable: true },
      { name: 'rate_to_eur', type: 'decimal', scale: 8, nullable: true },
    ],
    time,
    batch: batchPerOrder,
    stream: upsertPerKey(shop.from('orders', { joins: { customers, fxRates } }), (order, ctx) => {
      const customer = ctx.tables.get('customers', order.customerId);
      return { order_id: order.orderId, status: order.status, region: customer?.region ?? null, tier: customer?.tier ?? null, rate_to_eur: rateToEur(order, ctx) ?? null };
    }),
  });
}

/** Orders counted per customer region: the aggregate path looks tables up on its own. */
function byRegion(name: string, customers: LookupMode) {
  return defineTransform({
    name,
    description: `orders per customer region (${customers})`,
    key: ['region'],
    columns: [
      { name: 'region', type: 'string' },
      { name: 'order_count', type: 'integer' },
    ],
    time,
    batch: batchByRegion,
    stream: aggregateBy(shop.from('orders', { joins: { customers } }), {
      flatMap: (order, ctx) => [{ key: { region: ctx.tables.get('customers', order.customerId)?.region ?? 'unknown' }, values: {} }],
      aggregations: { order_count: count() },
    }),
  });
}

const asOf = perOrder('orders_as_of_event_time', 'asOfEventTime', 'asOfEventTime');
const latest = perOrder('orders_latest', 'latest', 'latest');
// Customers as of event time but FX rates latest: the mode is per table, not per pipeline.
const mixed = perOrder('orders_mixed_modes', 'asOfEventTime', 'latest');
const regionAsOf = byRegion('region_as_of_event_time', 'asOfEventTime');
const regionLatest = byRegion('region_latest', 'latest');

const customer = (customerId: string, region: 'north' | 'south' | 'east' | 'west', tier: 'standard' | 'silver' | 'gold', eventTime: string) =>
  event('CustomerUpserted', { customerId, name: `Customer ${customerId}`, region, tier }, eventTime);
const placed = (orderId: string, customerId: string, currency: 'EUR' | 'SEK', placedAt: string) =>
  event('OrderPlaced', { orderId, customerId, currency, placedAt, lines: [{ lineNo: 1, productId: 'p1', quantity: 1, unitPrice: '10.00', discountPct: '0' }] }, placedAt);
const sekRate = (rateToEur: string, eventTime: string) => event('FxRateSet', { currency: 'SEK', rateDate: '2024-06-17', rateToEur }, eventTime);

/**
 * Arrival order is the list order (the published order); each entry is [event, arrival]. Times are
 * 2024-06-17 UTC unless said otherwise. Every message is on the topics before the job starts, so the
 * tables hold versions that arrive *after* an order when it is processed: lookups must be pinned to
 * the order's arrival, whatever the mode.
 */
function input(): TestMessage[] {
  const list: [ReturnType<typeof event>, string][] = [
    [customer('c1', 'north', 'gold', '2024-06-01T00:00:00Z'), '2024-06-01T00:00:00Z'],
    [customer('c2', 'north', 'gold', '2024-06-01T00:00:00Z'), '2024-06-01T00:00:00Z'],
    [customer('c3', 'west', 'silver', '2024-06-01T00:00:00Z'), '2024-06-01T00:00:00Z'],
    [sekRate('0.08700000', '2024-06-16T12:00:00Z'), '2024-06-16T12:00:00Z'],
    // c3 moves east at 08:00, then a correction placing it south from 06:00 arrives at 09:00:
    // by arrival south is newest, by event time east is.
    [customer('c3', 'east', 'silver', '2024-06-17T08:00:00Z'), '2024-06-17T08:00:00Z'],
    [customer('c3', 'south', 'silver', '2024-06-17T06:00:00Z'), '2024-06-17T09:00:00Z'],
    // o2 (09:00) arrives 09:30; c2's move east happened at 08:30 but arrives at 10:30, after o2, so
    // neither mode sees it — also not when o2's status change (arriving 11:00) re-evaluates the order.
    [placed('o2', 'c2', 'EUR', '2024-06-17T09:00:00Z'), '2024-06-17T09:30:00Z'],
    [customer('c2', 'east', 'gold', '2024-06-17T08:30:00Z'), '2024-06-17T10:30:00Z'],
    [event('OrderStatusChanged', { orderId: 'o2', status: 'paid' }, '2024-06-17T11:00:00Z'), '2024-06-17T11:00:00Z'],
    [placed('o3', 'c3', 'EUR', '2024-06-17T10:00:00Z'), '2024-06-17T10:00:01Z'],
    // c1 moves south and drops to silver at 12:00 and the SEK rate is corrected at 12:00; o1 was
    // placed at 10:00 but arrives at 13:00: latest sees the move and the new rate, as of 10:00 does not.
    [customer('c1', 'south', 'silver', '2024-06-17T12:00:00Z'), '2024-06-17T12:00:00Z'],
    [sekRate('0.09000000', '2024-06-17T12:00:00Z'), '2024-06-17T12:00:00Z'],
    [placed('o1', 'c1', 'SEK', '2024-06-17T10:00:00Z'), '2024-06-17T13:00:00Z'],
    // c4 is created at 14:00; o4, placed at 13:30 before c4 existed, arrives at 14:30.
    [customer('c4', 'west', 'standard', '2024-06-17T14:00:00Z'), '2024-06-17T14:00:00Z'],
    [placed('o4', 'c4', 'EUR', '2024-06-17T13:30:00Z'), '2024-06-17T14:30:00Z'],
    // c1 is deleted at 16:00; o5, placed at 15:00 while c1 still existed (south), arrives at 16:30.
    [event('CustomerDeleted', { customerId: 'c1' }, '2024-06-17T16:00:00Z'), '2024-06-17T16:00:00Z'],
    [placed('o5', 'c1', 'EUR', '2024-06-17T15:00:00Z'), '2024-06-17T16:30:00Z'],
  ];
  return list.map(([shopEvent, arrival]) => messageOf(shopEvent, arrival));
}

const row = (order_id: string, status: string, region: string | null, tier: string | null, rate_to_eur: string | null) => ({ order_id, status, region, tier, rate_to_eur });
const expectedAsOf = {
  '["o1"]': row('o1', 'placed', 'north', 'gold', '0.08700000'),
  '["o2"]': row('o2', 'paid', 'north', 'gold', '1'),
  '["o3"]': row('o3', 'placed', 'east', 'silver', '1'),
  '["o4"]': row('o4', 'placed', null, null, '1'),
  '["o5"]': row('o5', 'placed', 'south', 'silver', '1'),
};
const expectedLatest = {
  '["o1"]': row('o1', 'placed', 'south', 'silver', '0.09000000'),
  '["o2"]': row('o2', 'paid', 'north', 'gold', '1'),
  '["o3"]': row('o3', 'placed', 'south', 'silver', '1'),
  '["o4"]': row('o4', 'placed', 'west', 'standard', '1'),
  '["o5"]': row('o5', 'placed', null, null, '1'),
};

const prefix = uniqueTopic('asof');
const runners: StreamRunner[] = [];
afterAll(async () => {
  await Promise.all(runners.map((runner) => runner.stop()));
});

describe('join as of event time vs latest, on the real broker', () => {
  it('each twin gives the rows of its declared lookup mode', async () => {
    await createInputTopics(prefix, 3);
    await publish(prefix, input());
    const runner = new StreamRunner({ domain: shop, brokers: brokers(), group: `${prefix}-g`, topicPrefix: prefix, transforms: [asOf, latest, mixed, regionAsOf, regionLatest], fromBeginning: true, untilIdleMs: 2000, logger: silentLogger });
    runners.push(runner);
    await runner.start();
    await runner.done;
    expect(runner.failure).toBeUndefined();

    // finalValues reads read_committed, as a downstream consumer does.
    const outputs = Object.fromEntries(await Promise.all([asOf, latest, mixed, regionAsOf, regionLatest].map(async (t) => [t.name, await finalValues(`${prefix}.out.${t.name}`)] as const)));
    expect(outputs[asOf.name], asOf.name).toEqual(expectedAsOf);
    expect(outputs[latest.name], latest.name).toEqual(expectedLatest);
    // Customers as of event time, the rate as it stood on arrival: only o1's rate differs from expectedAsOf.
    expect(outputs[mixed.name], mixed.name).toEqual({ ...expectedAsOf, '["o1"]': { ...expectedAsOf['["o1"]'], rate_to_eur: '0.09000000' } });
    // Regions as of event time: o1 north, o2 north, o3 east, o4 unknown, o5 south; latest: south, north, south, west, unknown.
    expect(outputs[regionAsOf.name], regionAsOf.name).toEqual({
      '["north"]': { region: 'north', order_count: 2 },
      '["east"]': { region: 'east', order_count: 1 },
      '["unknown"]': { region: 'unknown', order_count: 1 },
      '["south"]': { region: 'south', order_count: 1 },
    });
    expect(outputs[regionLatest.name], regionLatest.name).toEqual({
      '["south"]': { region: 'south', order_count: 2 },
      '["north"]': { region: 'north', order_count: 1 },
      '["west"]': { region: 'west', order_count: 1 },
      '["unknown"]': { region: 'unknown', order_count: 1 },
    });

    // The twins differ exactly on the orders whose table rows changed between event time and arrival,
    // and agree on o2, whose customer's change arrived after it (neither mode looks ahead of arrival).
    const asOfRows = outputs[asOf.name]!;
    const latestRows = outputs[latest.name]!;
    const differing = Object.keys(asOfRows).filter((key) => JSON.stringify(asOfRows[key]) !== JSON.stringify(latestRows[key]));
    expect(differing.sort()).toEqual(['["o1"]', '["o3"]', '["o4"]', '["o5"]']);
  });
});
