// One conformance suite for the batch side: the same small data and the same hand-worked expected rows
// on PostgreSQL, MariaDB and PGlite — day boundaries (a 25-hour DST day), decimal scale and rounding,
// NULLs, cancellations, late arrivals after the cut-off, deleted rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBatch } from '../../batch/runner.ts';
import { readBatchOutput } from '../../batch/output.ts';
import { listRuns } from '../../batch/history.ts';
import { SchemaError } from '../../src/errors.ts';
import { customerLifetimeValue, dailyRevenueByRegion, orderStatusCurrent, ordersEnriched, productSalesDaily } from '../../src/domains/shop/index.ts';
import { silentLogger } from '../../src/logger.ts';
import { createDomainSchema } from '../../src/replay/schema.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/databases.ts';
import { insertCustomers, insertOrders, insertProducts, insertRates } from '../support/legacy-rows.ts';
import { shop, shopTransforms as transforms } from '../support/shop.ts';

// 2024-10-27 is the autumn DST day in Stockholm: 25 hours, from 2024-10-26T22:00Z to 2024-10-27T23:00Z.
// Its nightly cut-off is 2024-10-28 02:00 CET = 2024-10-28T01:00Z.
const D = '2024-10-27';

async function seed(database: TestDatabase): Promise<void> {
  const { db } = database;
  await createDomainSchema(db, shop);
  await insertCustomers(db, [['c1', 'north', 'gold'], ['c2', 'south', 'silver'], ['c4', 'west', 'standard']]); // c3 was deleted
  await insertProducts(db, [['p1', 'books'], ['p2', 'games']]); // p3 is missing
  await insertRates(db, [['SEK', '2024-10-26', '0.09000000'], ['SEK', '2024-10-27', '0.08712345'], ['SEK', '2024-07-01', '0.08800000']]); // no USD rate
  await insertOrders(db, [
    // first instant of D (00:00 CEST); UTC date is still the 26th
    { id: 'o1', customer: 'c1', currency: 'SEK', status: 'placed', placedAt: '2024-10-26T22:00:00.000Z', lines: [['p1', 3, '3.33', '12.50'], ['p2', 1, '10.00', '0.00']] },
    // last millisecond of D (23:59:59.999 CET)
    { id: 'o2', customer: 'c1', currency: 'SEK', status: 'paid', placedAt: '2024-10-27T22:59:59.999Z', lines: [['p1', 2, '100.05', '0.00']] },
    // last millisecond of the 26th (23:59:59.999 CEST)
    { id: 'o3', customer: 'c2', currency: 'SEK', status: 'placed', placedAt: '2024-10-26T21:59:59.999Z', lines: [['p2', 1, '50.00', '0.00']] },
    { id: 'o4', customer: 'c2', currency: 'USD', status: 'placed', placedAt: '2024-10-27T10:00:00.000Z', lines: [['p3', 5, '0.25', '10.00']] },
    { id: 'o5', customer: 'c1', currency: 'EUR', status: 'cancelled', placedAt: '2024-10-27T12:00:00.000Z', lines: [['p1', 1, '20.00', '0.00']] },
    { id: 'o6', customer: 'c3', currency: 'EUR', status: 'shipped', placedAt: '2024-10-27T13:00:00.000Z', lines: [['p2', 4, '2.50', '50.00']] },
    // placed on D but arrived 1 ms after the cut-off: invisible to D's run
    { id: 'o7', customer: 'c2', currency: 'EUR', status: 'placed', placedAt: '2024-10-27T14:00:00.000Z', createdAt: '2024-10-28T01:00:00.001Z', lines: [['p1', 1, '99.99', '0.00']] },
    // first instant of the 28th (00:00 CET), arrived before the cut-off
    { id: 'o8', customer: 'c2', currency: 'EUR', status: 'placed', placedAt: '2024-10-27T23:00:00.000Z', lines: [['p1', 1, '1.00', '0.00']] },
    // summer: 00:30 CEST on 2024-07-01 (UTC date 2024-06-30)
    { id: 'o9', customer: 'c1', currency: 'SEK', status: 'shipped', placedAt: '2024-06-30T22:30:00.000Z', lines: [['p2', 2, '5.00', '0.00']] },
    { id: 'o11', customer: 'c1', currency: 'EUR', status: 'placed', placedAt: '2024-10-27T15:00:00.000Z', lines: [['p1', 1, '7.00', '0.00']] },
    { id: 'o12', customer: 'c4', currency: 'EUR', status: 'cancelled', placedAt: '2024-10-20T10:00:00.000Z', lines: [['p1', 1, '3.00', '0.00']] },
  ]);
  // o11 is hard-deleted, as the shop application does.
  await db('order_lines').where({ order_id: 'o11' }).delete();
  await db('orders').where({ order_id: 'o11' }).delete();
}

// Line nets: o1 = round(3 × 3.33 × 0.875 = 8.74125) = 8.74 and 10.00 → 18.74; o2 = 200.10; o3 = 50.00;
// o4 = round(5 × 0.25 × 0.90 = 1.125) = 1.13 (half away from zero); o5 = 20.00; o6 = 4 × 2.50 × 0.5 = 5.00;
// o8 = 1.00; o9 = 10.00; o12 = 3.00.
// EUR: o1 on the 27th: 18.74 × 0.08712345 = 1.6327 → 1.63 (at the 26th's 0.09 it would be 1.69);
// o2: 200.10 × 0.08712345 = 17.4334 → 17.43; o3 on the 26th: 50.00 × 0.09 = 4.50; o4: no USD rate → NULL;
// o9 on 2024-07-01: 10.00 × 0.088 = 0.88 (its UTC date, the 30th, has no rate).
const expectedOrdersEnriched = [
  { order_id: 'o1', business_date: D, customer_id: 'c1', placed_at: '2024-10-26T22:00:00.000Z', currency: 'SEK', region: 'north', tier: 'gold', line_count: 2, net_amount: '18.74', net_amount_eur: '1.63' },
  { order_id: 'o2', business_date: D, customer_id: 'c1', placed_at: '2024-10-27T22:59:59.999Z', currency: 'SEK', region: 'north', tier: 'gold', line_count: 1, net_amount: '200.10', net_amount_eur: '17.43' },
  { order_id: 'o4', business_date: D, customer_id: 'c2', placed_at: '2024-10-27T10:00:00.000Z', currency: 'USD', region: 'south', tier: 'silver', line_count: 1, net_amount: '1.13', net_amount_eur: null },
  { order_id: 'o5', business_date: D, customer_id: 'c1', placed_at: '2024-10-27T12:00:00.000Z', currency: 'EUR', region: 'north', tier: 'gold', line_count: 1, net_amount: '20.00', net_amount_eur: '20.00' },
  { order_id: 'o6', business_date: D, customer_id: 'c3', placed_at: '2024-10-27T13:00:00.000Z', currency: 'EUR', region: null, tier: null, line_count: 1, net_amount: '5.00', net_amount_eur: '5.00' },
];
// Not cancelled on D: o1, o2 (north), o4 (south, no EUR), o6 (customer gone → unknown).
const expectedDailyRevenue = [
  { business_date: D, region: 'north', order_count: 2, revenue_eur: '19.06' }, // 1.63 + 17.43
  { business_date: D, region: 'south', order_count: 1, revenue_eur: '0.00' },
  { business_date: D, region: 'unknown', order_count: 1, revenue_eur: '5.00' },
];
// Lines on D, not cancelled: p1 ← o1 (3 × 8.74 SEK → 0.76), o2 (2 × 200.10 SEK → 17.43);
// p2 ← o1 (1 × 10.00 SEK → 0.87), o6 (4 units, 5.00 EUR); p3 ← o4 (5 units, no rate).
const expectedProductSales = [
  { business_date: D, product_id: 'p1', category: 'books', units: 5, order_count: 2, revenue_eur: '18.19' },
  { business_date: D, product_id: 'p2', category: 'games', units: 5, order_count: 2, revenue_eur: '5.87' },
  { business_date: D, product_id: 'p3', category: null, units: 5, order_count: 1, revenue_eur: '0.00' },
];
// All visible orders (not o7, not the deleted o11), each at the rate of its own Stockholm day.
const expectedLifetimeValue = [
  { customer_id: 'c1', order_count: 3, cancelled_count: 1, revenue_eur: '19.94', first_order_at: '2024-06-30T22:30:00.000Z', last_order_at: '2024-10-27T22:59:59.999Z' }, // 1.63 + 17.43 + 0.88
  { customer_id: 'c2', order_count: 3, cancelled_count: 0, revenue_eur: '5.50', first_order_at: '2024-10-26T21:59:59.999Z', last_order_at: '2024-10-27T23:00:00.000Z' }, // 4.50 + NULL + 1.00
  { customer_id: 'c3', order_count: 1, cancelled_count: 0, revenue_eur: '5.00', first_order_at: '2024-10-27T13:00:00.000Z', last_order_at: '2024-10-27T13:00:00.000Z' },
  { customer_id: 'c4', order_count: 0, cancelled_count: 1, revenue_eur: '0.00', first_order_at: null, last_order_at: null },
];
const expectedStatus = [
  ['o1', 'c1', 'placed'], ['o12', 'c4', 'cancelled'], ['o2', 'c1', 'paid'], ['o3', 'c2', 'placed'], ['o4', 'c2', 'placed'],
  ['o5', 'c1', 'cancelled'], ['o6', 'c3', 'shipped'], ['o8', 'c2', 'placed'], ['o9', 'c1', 'shipped'],
].map(([order_id, customer_id, status]) => ({ order_id, customer_id, status }));

describe.each(engines)('batch conformance on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase(engine);
    await seed(database);
  });
  afterAll(async () => {
    await database?.drop();
  });

  const run = (businessDate: string) => runBatch({ db: database.db, engine, transforms, businessDate, logger: silentLogger });

  it('computes every transformation for the DST day as worked out by hand', async () => {
    const outcomes = await run(D);
    expect(outcomes.map((outcome) => [outcome.transform, outcome.status])).toEqual(transforms.map((transform) => [transform.name, 'succeeded']));
    expect(await readBatchOutput(database.db, ordersEnriched, { businessDate: D })).toEqual(expectedOrdersEnriched);
    expect(await readBatchOutput(database.db, dailyRevenueByRegion, { businessDate: D })).toEqual(expectedDailyRevenue);
    expect(await readBatchOutput(database.db, productSalesDaily, { businessDate: D })).toEqual(expectedProductSales);
    expect(await readBatchOutput(database.db, customerLifetimeValue)).toEqual(expectedLifetimeValue);
    expect(await readBatchOutput(database.db, orderStatusCurrent)).toEqual(expectedStatus);
    expect(outcomes.map((outcome) => (outcome.status === 'succeeded' ? outcome.rowsWritten : -1))).toEqual([5, 3, 4, 3, 9]);
  });

  it('writes another date beside it, leaving D alone, with the rate of that day', async () => {
    await run('2024-10-26');
    // The 26th's cut-off (2024-10-27T01:00Z) comes after o1 (arrived 22:01Z) but before o2, o4-o6 and o8
    // arrived: c1 has o9 and o1 then (0.88 + 1.63), c2 only o3.
    expect((await readBatchOutput(database.db, customerLifetimeValue)).map((row) => [row.customer_id, row.order_count, row.revenue_eur])).toEqual([
      ['c1', 2, '2.51'], ['c2', 1, '4.50'], ['c4', 0, '0.00'],
    ]);
    // o3 only: 50.00 SEK × 0.09 = 4.50
    expect(await readBatchOutput(database.db, ordersEnriched, { businessDate: '2024-10-26' })).toEqual([
      { order_id: 'o3', business_date: '2024-10-26', customer_id: 'c2', placed_at: '2024-10-26T21:59:59.999Z', currency: 'SEK', region: 'south', tier: 'silver', line_count: 1, net_amount: '50.00', net_amount_eur: '4.50' },
    ]);
    expect(await readBatchOutput(database.db, ordersEnriched, { businessDate: D })).toEqual(expectedOrdersEnriched);
  });

  it('gives identical output on a rerun, and records every run in the history', async () => {
    // The current-state outputs now hold the 26th's view (its earlier cut-off); D's run brings back D's.
    await run(D);
    const before = await Promise.all(transforms.map((transform) => readBatchOutput(database.db, transform)));
    expect(before[2]).toEqual(expectedLifetimeValue);
    await run(D);
    expect(await Promise.all(transforms.map((transform) => readBatchOutput(database.db, transform)))).toEqual(before);
    const runs = await listRuns(database.db, { transform: 'orders_enriched' });
    expect(runs.map((r) => [r.businessDate, r.status, r.rowsWritten])).toEqual([[D, 'succeeded', 5], [D, 'succeeded', 5], ['2024-10-26', 'succeeded', 1], [D, 'succeeded', 5]]);
    expect(runs[0]?.cutoff).toBe('2024-10-28T01:00:00.000Z');
  });

  it('joins the customer as it stands at run time: a move shows on the rerun', async () => {
    await database.db('customers').where({ customer_id: 'c1' }).update({ region: 'east' });
    await run(D);
    const enriched = await readBatchOutput(database.db, ordersEnriched, { businessDate: D });
    expect(enriched.filter((row) => row.customer_id === 'c1').map((row) => row.region)).toEqual(['east', 'east', 'east']);
    expect(await readBatchOutput(database.db, dailyRevenueByRegion, { businessDate: D })).toEqual([
      { business_date: D, region: 'east', order_count: 2, revenue_eur: '19.06' },
      ...expectedDailyRevenue.slice(1),
    ]);
    await database.db('customers').where({ customer_id: 'c1' }).update({ region: 'north' });
  });

  it('a failing run rolls back: the previous output stays, the history says failed and why', async () => {
    const before = await readBatchOutput(database.db, ordersEnriched);
    // The same output, computed by SQL that fails inside the transaction, after its DELETE.
    const broken = { ...ordersEnriched, batch: (ctx: Parameters<typeof ordersEnriched.batch>[0]) => ordersEnriched.batch(ctx).select('c.loyalty_points') };
    const [outcome] = await runBatch({ db: database.db, engine, transforms: [broken], businessDate: D, logger: silentLogger });
    expect(outcome?.status).toBe('failed');
    expect(outcome?.status === 'failed' && outcome.error).toBeInstanceOf(SchemaError);
    expect(outcome?.status === 'failed' && outcome.error.describe()).toMatch(/^table customers: column loyalty_points does not exist in customers/);
    expect(await readBatchOutput(database.db, ordersEnriched)).toEqual(before);
    const [last] = await listRuns(database.db, { transform: 'orders_enriched' });
    expect([last?.status, last?.rowsWritten, last?.error?.split('\n')[0]]).toEqual(['failed', null, 'table customers: column loyalty_points does not exist in customers (needed for batch_orders_enriched)']);
  });
});
