// Parity with the batch job on the shared scenarios (real PostgreSQL and Kafka): every night is
// replayed to its cut-off into the legacy database and Kafka and the batch runs; the streaming job
// reads the same events. On baseline both outputs must be equal for all five transformations; on
// the other scenarios exactly the keys of the scenario's expected differences differ, in exactly the
// columns and by exactly the values worked out by hand from its fixtures.
import '../../src/kafkajs-fixes.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { readBatchOutput, type OutputRow } from '../../batch/output.ts';
import { runBatch } from '../../batch/runner.ts';
import { silentLogger } from '../../src/logger.ts';
import { replay } from '../../src/replay/index.ts';
import { StreamRunner } from '../../streaming/runtime/runner.ts';
import { freshDatabase, type TestDatabase } from '../support/databases.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';
import { loadShopScenario, shop, shopCutoff, shopTransforms as transforms } from '../support/shop.ts';
import { createInputTopics, finalValues } from '../support/stream.ts';

const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.drop();
});

/** Both sides of one scenario: batch rows and stream rows per transformation, keyed by the output key. */
async function bothSides(name: string) {
  const scenario = await loadShopScenario(name);
  const database = await freshDatabase('postgres');
  databases.push(database);
  const prefix = uniqueTopic(`parity-${name}`);
  await createInputTopics(prefix, 3);
  let after: Date | undefined;
  for (const businessDate of scenario.businessDates) {
    const cutoff = shopCutoff(businessDate, scenario.cutoffTime);
    await replay({ domain: shop, events: scenario.events, db: database.db, kafka: { brokers: brokers(), topicPrefix: prefix }, until: cutoff, ...(after ? { after } : { createSchema: true }), logger: silentLogger });
    after = cutoff;
    const outcomes = await runBatch({ db: database.db, engine: 'postgres', transforms, businessDate, cutoffTime: scenario.cutoffTime, logger: silentLogger });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(transforms.map(() => 'succeeded'));
  }
  const runner = new StreamRunner({ domain: shop, brokers: brokers(), group: `${prefix}-g`, topicPrefix: prefix, transforms, fromBeginning: true, untilIdleMs: 2000, logger: silentLogger });
  await runner.start();
  await runner.done;
  const sides: Record<string, { batch: Record<string, OutputRow>; stream: Record<string, OutputRow> }> = {};
  for (const transform of transforms) {
    const batchRows = await readBatchOutput(database.db, transform);
    const batch = Object.fromEntries(batchRows.map((row) => [JSON.stringify(transform.key.map((column) => row[column] ?? null)), row]));
    const stream = (await finalValues(`${prefix}.out.${transform.name}`)) as Record<string, OutputRow>;
    sides[transform.name] = { batch, stream };
  }
  return { scenario, sides };
}

type Side = { batch: Record<string, OutputRow>; stream: Record<string, OutputRow> };
/** A differing key: its row on one side only, or each differing column's batch and stream value. */
type Delta = { batchOnly: OutputRow } | { streamOnly: OutputRow } | Record<string, [OutputRow[string] | undefined, OutputRow[string] | undefined]>;

/** Every key whose rows differ, as JSON key arrays, with what differs. */
function deltas({ batch, stream }: Side): Record<string, Delta> {
  const keys = [...new Set([...Object.keys(batch), ...Object.keys(stream)])].sort();
  const out: Record<string, Delta> = {};
  for (const key of keys) {
    const [b, s] = [batch[key], stream[key]];
    if (!s) out[key] = { batchOnly: b! };
    else if (!b) out[key] = { streamOnly: s };
    else {
      const columns = [...new Set([...Object.keys(b), ...Object.keys(s)])].filter((column) => JSON.stringify(b[column] ?? null) !== JSON.stringify(s[column] ?? null));
      if (columns.length > 0) out[key] = Object.fromEntries(columns.map((column) => [column, [b[column], s[column]] as const])) as Delta;
    }
  }
  return out;
}

const enriched = (order_id: string, business_date: string, customer_id: string, placed_at: string, region: string, tier: string, line_count: number, net: string): OutputRow => ({
  order_id,
  business_date,
  customer_id,
  placed_at,
  currency: 'EUR',
  region,
  tier,
  line_count,
  net_amount: net,
  net_amount_eur: net,
});

/**
 * What differs, worked out by hand from each scenario's fixtures (each a Stockholm day with a 30 min grace and
 * the 02:00 cut-off); every other key and column of the five outputs must be equal. [batch, stream] per column.
 */
const expectedDeltas: Record<string, Record<string, Record<string, Delta>>> = {
  // L4 (C1 north, 2 × P4 8.50, 21:50Z) arrives 23:15Z, after L3 (22:40Z) closed 10 Jun, before the 00:00Z cut-off.
  // L5 (C2 south, P4 8.50, 20:00Z) arrives 06:00Z on 11 Jun: after the cut-off and its window: only the un-windowed stream row.
  'late-arrivals': {
    orders_enriched: { '["L5"]': { streamOnly: enriched('L5', '2024-06-10', 'C2', '2024-06-10T20:00:00.000Z', 'south', 'silver', 1, '8.50') } },
    daily_revenue_by_region: { '["2024-06-10","north"]': { order_count: [2, 1], revenue_eur: ['45.50', '28.50'] } }, // L1 28.50 + L4 17.00
    product_sales_daily: { '["2024-06-10","P4"]': { units: [3, 1], order_count: [2, 1], revenue_eur: ['25.50', '8.50'] } }, // L1's 1 + L4's 2 mugs
    customer_lifetime_value: {},
    order_status_current: {},
  },
  // Every redelivery is dropped by the stream's dedupe, and the batch has each row once: no difference.
  duplicates: { orders_enriched: {}, daily_revenue_by_region: {}, product_sales_daily: {}, customer_lifetime_value: {}, order_status_current: {} },
  // C1 moves north → west (12:00Z, 17 Jun) after M1 (20.00) and before M2 (2 × 8.50); C3 becomes silver (13:00Z, 18 Jun) after M4.
  'customer-moves': {
    orders_enriched: { '["M1"]': { region: ['west', 'north'] }, '["M4"]': { tier: ['silver', 'standard'] } },
    daily_revenue_by_region: {
      '["2024-06-17","north"]': { streamOnly: { business_date: '2024-06-17', region: 'north', order_count: 1, revenue_eur: '20.00' } },
      '["2024-06-17","west"]': { order_count: [2, 1], revenue_eur: ['37.00', '17.00'] },
    },
    product_sales_daily: {},
    customer_lifetime_value: {},
    order_status_current: {},
  },
  // 1 Jul closes at 22:41Z (X2 paid, 22:40Z). X3 (C3 east, 2 × P1 20.00) is cancelled at 22:51Z: late for the stream,
  // seen by the batch at 00:00Z. X4 (C4 west, P1 20.00 + P4 8.50) is deleted at 08:01Z on 2 Jul, after its night's
  // cut-off (and late for 1 Jul): the batch's dated row stays, the stream tombstones it. C3 is deleted at 12:01Z on
  // 2 Jul, after X7 (P1 20.00, 09:00Z) and before the cut-off: the batch's LEFT JOIN finds no C3.
  'cancellations-and-deletes': {
    orders_enriched: {
      '["X4"]': { batchOnly: enriched('X4', '2024-07-01', 'C4', '2024-07-01T11:00:00.000Z', 'west', 'gold', 2, '28.50') },
      '["X7"]': { region: [null, 'east'], tier: [null, 'standard'] },
    },
    daily_revenue_by_region: {
      '["2024-07-01","east"]': { streamOnly: { business_date: '2024-07-01', region: 'east', order_count: 1, revenue_eur: '40.00' } },
      '["2024-07-02","east"]': { streamOnly: { business_date: '2024-07-02', region: 'east', order_count: 1, revenue_eur: '20.00' } },
      '["2024-07-02","unknown"]': { batchOnly: { business_date: '2024-07-02', region: 'unknown', order_count: 1, revenue_eur: '20.00' } },
    },
    // P1 on 1 Jul: the batch has X4's 1 (X1 and X3 cancelled); the stream X3's 2 as well.
    product_sales_daily: { '["2024-07-01","P1"]': { units: [1, 3], order_count: [1, 2], revenue_eur: ['20.00', '60.00'] } },
    customer_lifetime_value: {},
    order_status_current: {},
  },
  // T9 (C1 north, 2 × P1 20.00, 21:00Z on 26 Oct) arrives 00:20Z, after 26 Oct's cut-off (00:00Z) and window (closed by
  // T2 at 22:31Z). T8 (C4 west, P4 8.50, 22:40Z on 27 Oct) arrives 23:45Z, after T1's shipping (23:35Z) closed the 25-hour
  // 27 Oct at 23:36Z, before the 01:00Z cut-off.
  'dst-boundary': {
    orders_enriched: { '["T9"]': { streamOnly: enriched('T9', '2024-10-26', 'C1', '2024-10-26T21:00:00.000Z', 'north', 'gold', 1, '40.00') } },
    daily_revenue_by_region: { '["2024-10-27","west"]': { order_count: [2, 1], revenue_eur: ['28.50', '20.00'] } }, // T4 20.00 + T8 8.50
    product_sales_daily: { '["2024-10-27","P4"]': { units: [4, 3], order_count: [3, 2], revenue_eur: ['34.00', '25.50'] } }, // T2's 2, T5's 1, T8's 1 mug
    customer_lifetime_value: {},
    order_status_current: {},
  },
};

describe('stream vs batch parity', { timeout: 300_000 }, () => {
  it('baseline: equal for all five transformations', async () => {
    const { sides } = await bothSides('baseline');
    for (const transform of transforms) {
      const { batch, stream } = sides[transform.name]!;
      expect(Object.keys(batch).length, `${transform.name} has rows`).toBeGreaterThan(0);
      expect(stream, transform.name).toEqual(batch);
    }
  });

  it.each(Object.keys(expectedDeltas))('%s: exactly the expected keys differ, in exactly the expected columns, by exactly the expected values', async (name) => {
    const { scenario, sides } = await bothSides(name);
    for (const transform of transforms) {
      const wanted = expectedDeltas[name]![transform.name]!;
      expect(deltas(sides[transform.name]!), `${name} ${transform.name}`).toEqual(wanted);
      // The scenario's own hand-worked file names the same keys, and the same columns for rows on both sides.
      const listed = Object.fromEntries((scenario.expectedDifferences[transform.name] ?? []).map((d) => [JSON.stringify(transform.key.map((column) => d.key[column] ?? null)), d.columns ?? []]));
      const mine = Object.fromEntries(Object.entries(wanted).map(([key, delta]) => [key, 'batchOnly' in delta || 'streamOnly' in delta ? [] : Object.keys(delta)]));
      expect(listed, `${name} ${transform.name}: expected-differences.json`).toEqual(mine);
    }
  });
});
