// The batch side on the shared scenarios (baseline, customer-moves, dst-boundary, cancellations-and-deletes), on every engine: for each business date, replay the legacy
// database to that date's cut-off (no Kafka) and run the batch; the rows are worked out by hand below
// from the fixtures' CSV files (times UTC; business days in Europe/Stockholm).
import { afterAll, describe, expect, it } from 'vitest';
import { readBatchOutput, type OutputRow } from '../../batch/output.ts';
import { runBatch } from '../../batch/runner.ts';
import { customerLifetimeValue, dailyRevenueByRegion, orderStatusCurrent, ordersEnriched, productSalesDaily } from '../../src/domains/shop/index.ts';
import { silentLogger } from '../../src/logger.ts';
import { replay } from '../../src/replay/index.ts';
import type { Transform } from '../../src/transforms/contract.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/databases.ts';
import { loadShopScenario, shop, shopCutoff, shopTransforms as transforms } from '../support/shop.ts';

type Tuple = (string | number | null)[];
/** Rows written as tuples in contract column order, to keep the hand-worked tables readable. */
const rows = (transform: Transform, tuples: Tuple[]): OutputRow[] => tuples.map((tuple) => Object.fromEntries(transform.columns.map((column, index) => [column.name, tuple[index] ?? null])));

interface Expected {
  /** Dated outputs, per business date, as written by that date's run. */
  dated: Record<string, Partial<Record<'orders_enriched' | 'daily_revenue_by_region' | 'product_sales_daily', Tuple[]>>>;
  /** Current-state outputs after the last date's run. */
  lifetime: Tuple[];
  status: Tuple[];
}

const expected: Record<string, Expected> = {
  // Summer (CEST): day D is [D-1 22:00Z, D 22:00Z), cut-off D+1 00:00Z. Nets: O1 = 2×20 + 8.50 = 48.50; O2 = 150 SEK × 0.087 = 13.05;
  // O3 = 300 × 0.9 = 270 USD × 0.92 = 248.40; O5 = 2×150×0.95 + 230 = 515 SEK × 0.088 = 45.32 (lines 25.08 + 20.24);
  // O7 = 20 + 280 + 17 = 317; O8 = 300 USD × 0.91 = 273; O9 = 3×20×0.9 = 54 (cancelled); O10 = 150 SEK × 0.086 = 12.90.
  baseline: {
    dated: {
      '2024-06-03': {
        orders_enriched: [
          ['O1', '2024-06-03', 'C1', '2024-06-03T07:15:00.000Z', 'EUR', 'north', 'gold', 2, '48.50', '48.50'],
          ['O2', '2024-06-03', 'C2', '2024-06-03T09:30:00.000Z', 'SEK', 'south', 'silver', 1, '150.00', '13.05'],
          ['O3', '2024-06-03', 'C3', '2024-06-03T13:05:00.000Z', 'USD', 'east', 'standard', 1, '270.00', '248.40'],
          ['O4', '2024-06-03', 'C4', '2024-06-03T21:10:00.000Z', 'EUR', 'west', 'gold', 1, '20.00', '20.00'],
        ],
        daily_revenue_by_region: [['2024-06-03', 'east', 1, '248.40'], ['2024-06-03', 'north', 1, '48.50'], ['2024-06-03', 'south', 1, '13.05'], ['2024-06-03', 'west', 1, '20.00']],
        product_sales_daily: [
          ['2024-06-03', 'P1', 'coffee', 3, 2, '60.00'],
          ['2024-06-03', 'P2', 'tea', 1, 1, '13.05'],
          ['2024-06-03', 'P3', 'equipment', 1, 1, '248.40'],
          ['2024-06-03', 'P4', 'accessories', 1, 1, '8.50'],
        ],
      },
      '2024-06-04': {
        orders_enriched: [
          ['O5', '2024-06-04', 'C1', '2024-06-04T06:00:00.000Z', 'SEK', 'north', 'gold', 2, '515.00', '45.32'],
          ['O6', '2024-06-04', 'C2', '2024-06-04T11:45:00.000Z', 'EUR', 'south', 'silver', 1, '34.00', '34.00'],
          ['O7', '2024-06-04', 'C3', '2024-06-04T18:20:00.000Z', 'EUR', 'east', 'standard', 3, '317.00', '317.00'],
        ],
        daily_revenue_by_region: [['2024-06-04', 'east', 1, '317.00'], ['2024-06-04', 'north', 1, '45.32'], ['2024-06-04', 'south', 1, '34.00']],
        product_sales_daily: [
          ['2024-06-04', 'P1', 'coffee', 2, 2, '40.24'],
          ['2024-06-04', 'P2', 'tea', 2, 1, '25.08'],
          ['2024-06-04', 'P3', 'equipment', 1, 1, '280.00'],
          ['2024-06-04', 'P4', 'accessories', 6, 2, '51.00'],
        ],
      },
      '2024-06-05': {
        orders_enriched: [
          ['O10', '2024-06-05', 'C2', '2024-06-05T19:30:00.000Z', 'SEK', 'south', 'silver', 1, '150.00', '12.90'],
          ['O8', '2024-06-05', 'C4', '2024-06-05T08:40:00.000Z', 'USD', 'west', 'gold', 1, '300.00', '273.00'],
          ['O9', '2024-06-05', 'C1', '2024-06-05T12:00:00.000Z', 'EUR', 'north', 'gold', 1, '54.00', '54.00'],
        ],
        daily_revenue_by_region: [['2024-06-05', 'south', 1, '12.90'], ['2024-06-05', 'west', 1, '273.00']],
        product_sales_daily: [['2024-06-05', 'P2', 'tea', 1, 1, '12.90'], ['2024-06-05', 'P3', 'equipment', 1, 1, '273.00']],
      },
    },
    lifetime: [
      ['C1', 2, 1, '93.82', '2024-06-03T07:15:00.000Z', '2024-06-04T06:00:00.000Z'],
      ['C2', 3, 0, '59.95', '2024-06-03T09:30:00.000Z', '2024-06-05T19:30:00.000Z'],
      ['C3', 2, 0, '565.40', '2024-06-03T13:05:00.000Z', '2024-06-04T18:20:00.000Z'],
      ['C4', 2, 0, '293.00', '2024-06-03T21:10:00.000Z', '2024-06-05T08:40:00.000Z'],
    ],
    // O5 shipped at 22:46Z on the 5th, before that night's cut-off (00:00Z).
    status: [['O1', 'C1', 'shipped'], ['O10', 'C2', 'placed'], ['O2', 'C2', 'placed'], ['O3', 'C3', 'paid'], ['O4', 'C4', 'placed'], ['O5', 'C1', 'shipped'], ['O6', 'C2', 'paid'], ['O7', 'C3', 'placed'], ['O8', 'C4', 'placed'], ['O9', 'C1', 'cancelled']],
  },
  // C1 moves north → west at 12:00Z on the 17th (before that night's run), C2 south → east and C3 standard → silver on the 18th.
  // The 17th's rows keep what the 17th's run saw; the 18th's run sees the later changes.
  'customer-moves': {
    dated: {
      '2024-06-17': {
        orders_enriched: [
          ['M1', '2024-06-17', 'C1', '2024-06-17T08:00:00.000Z', 'EUR', 'west', 'gold', 1, '20.00', '20.00'],
          ['M2', '2024-06-17', 'C1', '2024-06-17T15:00:00.000Z', 'EUR', 'west', 'gold', 1, '17.00', '17.00'],
          ['M3', '2024-06-17', 'C2', '2024-06-17T10:00:00.000Z', 'EUR', 'south', 'silver', 1, '40.00', '40.00'],
        ],
        daily_revenue_by_region: [['2024-06-17', 'south', 1, '40.00'], ['2024-06-17', 'west', 2, '37.00']],
        product_sales_daily: [['2024-06-17', 'P1', 'coffee', 3, 2, '60.00'], ['2024-06-17', 'P4', 'accessories', 2, 1, '17.00']],
      },
      '2024-06-18': {
        orders_enriched: [['M4', '2024-06-18', 'C3', '2024-06-18T09:00:00.000Z', 'EUR', 'east', 'silver', 1, '8.50', '8.50']],
        daily_revenue_by_region: [['2024-06-18', 'east', 1, '8.50']],
        product_sales_daily: [['2024-06-18', 'P4', 'accessories', 1, 1, '8.50']],
      },
    },
    lifetime: [
      ['C1', 2, 0, '37.00', '2024-06-17T08:00:00.000Z', '2024-06-17T15:00:00.000Z'],
      ['C2', 1, 0, '40.00', '2024-06-17T10:00:00.000Z', '2024-06-17T10:00:00.000Z'],
      ['C3', 1, 0, '8.50', '2024-06-18T09:00:00.000Z', '2024-06-18T09:00:00.000Z'],
    ],
    status: [['M1', 'C1', 'placed'], ['M2', 'C1', 'placed'], ['M3', 'C2', 'shipped'], ['M4', 'C3', 'placed']],
  },
  // The 26th is [25th 22:00Z, 26th 22:00Z), cut-off 02:00 CEST on the 27th = 00:00Z; the 27th has 25 hours,
  // [26th 22:00Z, 27th 23:00Z), cut-off 02:00 CET on the 28th = 01:00Z. T9 (placed 21:00Z on the 26th) arrives at
  // 00:20Z, after the 26th's cut-off, and belongs to no later date: it never reaches a dated output. T8 (22:40Z,
  // 23:40 CET) arrives 23:45Z, before the 27th's cut-off. T3 = 150 SEK × 0.087 = 13.05.
  'dst-boundary': {
    dated: {
      '2024-10-26': {
        orders_enriched: [['T1', '2024-10-26', 'C1', '2024-10-26T10:00:00.000Z', 'EUR', 'north', 'gold', 1, '20.00', '20.00']],
        daily_revenue_by_region: [['2024-10-26', 'north', 1, '20.00']],
        product_sales_daily: [['2024-10-26', 'P1', 'coffee', 1, 1, '20.00']],
      },
      '2024-10-27': {
        orders_enriched: [
          ['T2', '2024-10-27', 'C2', '2024-10-26T22:30:00.000Z', 'EUR', 'south', 'silver', 1, '17.00', '17.00'],
          ['T3', '2024-10-27', 'C3', '2024-10-26T23:30:00.000Z', 'SEK', 'east', 'standard', 1, '150.00', '13.05'],
          ['T4', '2024-10-27', 'C4', '2024-10-27T00:30:00.000Z', 'EUR', 'west', 'gold', 1, '20.00', '20.00'],
          ['T5', '2024-10-27', 'C1', '2024-10-27T01:30:00.000Z', 'EUR', 'north', 'gold', 1, '8.50', '8.50'],
          ['T6', '2024-10-27', 'C2', '2024-10-27T21:50:00.000Z', 'EUR', 'south', 'silver', 1, '20.00', '20.00'],
          ['T7', '2024-10-27', 'C3', '2024-10-27T22:30:00.000Z', 'EUR', 'east', 'standard', 1, '20.00', '20.00'],
          ['T8', '2024-10-27', 'C4', '2024-10-27T22:40:00.000Z', 'EUR', 'west', 'gold', 1, '8.50', '8.50'],
        ],
        daily_revenue_by_region: [['2024-10-27', 'east', 2, '33.05'], ['2024-10-27', 'north', 1, '8.50'], ['2024-10-27', 'south', 2, '37.00'], ['2024-10-27', 'west', 2, '28.50']],
        product_sales_daily: [['2024-10-27', 'P1', 'coffee', 3, 3, '60.00'], ['2024-10-27', 'P2', 'tea', 1, 1, '13.05'], ['2024-10-27', 'P4', 'accessories', 4, 3, '34.00']],
      },
    },
    lifetime: [
      ['C1', 3, 0, '68.50', '2024-10-26T10:00:00.000Z', '2024-10-27T01:30:00.000Z'], // T1 20 + T9 40 + T5 8.50
      ['C2', 2, 0, '37.00', '2024-10-26T22:30:00.000Z', '2024-10-27T21:50:00.000Z'],
      ['C3', 2, 0, '33.05', '2024-10-26T23:30:00.000Z', '2024-10-27T22:30:00.000Z'],
      ['C4', 2, 0, '28.50', '2024-10-27T00:30:00.000Z', '2024-10-27T22:40:00.000Z'],
    ],
    status: [['T1', 'C1', 'shipped'], ['T2', 'C2', 'placed'], ['T3', 'C3', 'placed'], ['T4', 'C4', 'placed'], ['T5', 'C1', 'placed'], ['T6', 'C2', 'placed'], ['T7', 'C3', 'placed'], ['T8', 'C4', 'placed'], ['T9', 'C1', 'placed']],
  },
  // Summer; all EUR. The 1st's run (cut-off 2 July 00:00Z) sees X1 and X3 cancelled, X2 paid, X4 placed; the 2nd's run
  // (cut-off 3 July 00:00Z) sees X2 cancelled, X4 and X5 hard-deleted, customer C3 hard-deleted after X7, X6 shipped.
  // The 1st's dated rows keep X4 (deleted only later). X7's customer is gone: NULL region/tier, region 'unknown'.
  'cancellations-and-deletes': {
    dated: {
      '2024-07-01': {
        orders_enriched: [
          ['X1', '2024-07-01', 'C1', '2024-07-01T08:00:00.000Z', 'EUR', 'north', 'gold', 1, '20.00', '20.00'],
          ['X2', '2024-07-01', 'C2', '2024-07-01T09:00:00.000Z', 'EUR', 'south', 'silver', 1, '17.00', '17.00'],
          ['X3', '2024-07-01', 'C3', '2024-07-01T10:00:00.000Z', 'EUR', 'east', 'standard', 1, '40.00', '40.00'],
          ['X4', '2024-07-01', 'C4', '2024-07-01T11:00:00.000Z', 'EUR', 'west', 'gold', 2, '28.50', '28.50'],
        ],
        daily_revenue_by_region: [['2024-07-01', 'south', 1, '17.00'], ['2024-07-01', 'west', 1, '28.50']],
        product_sales_daily: [['2024-07-01', 'P1', 'coffee', 1, 1, '20.00'], ['2024-07-01', 'P4', 'accessories', 3, 2, '25.50']],
      },
      '2024-07-02': {
        orders_enriched: [
          ['X6', '2024-07-02', 'C4', '2024-07-02T09:30:00.000Z', 'EUR', 'west', 'gold', 1, '25.50', '25.50'],
          ['X7', '2024-07-02', 'C3', '2024-07-02T09:00:00.000Z', 'EUR', null, null, 1, '20.00', '20.00'],
        ],
        daily_revenue_by_region: [['2024-07-02', 'unknown', 1, '20.00'], ['2024-07-02', 'west', 1, '25.50']],
        product_sales_daily: [['2024-07-02', 'P1', 'coffee', 1, 1, '20.00'], ['2024-07-02', 'P4', 'accessories', 3, 1, '25.50']],
      },
    },
    lifetime: [
      ['C1', 0, 1, '0.00', null, null],
      ['C2', 0, 1, '0.00', null, null],
      ['C3', 1, 1, '20.00', '2024-07-02T09:00:00.000Z', '2024-07-02T09:00:00.000Z'],
      ['C4', 1, 0, '25.50', '2024-07-02T09:30:00.000Z', '2024-07-02T09:30:00.000Z'],
    ],
    status: [['X1', 'C1', 'cancelled'], ['X2', 'C2', 'cancelled'], ['X3', 'C3', 'cancelled'], ['X6', 'C4', 'shipped'], ['X7', 'C3', 'placed']],
  },
};

const datedTransforms = { orders_enriched: ordersEnriched, daily_revenue_by_region: dailyRevenueByRegion, product_sales_daily: productSalesDaily } as const;

describe.each(engines)('batch on the scenarios, %s', (engine) => {
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(databases.map((database) => database.drop()));
  });

  it.each(Object.keys(expected))('%s: each night replayed to its cut-off, then run, gives the hand-worked rows', async (name) => {
    const scenario = await loadShopScenario(name);
    const want = expected[name]!;
    expect(scenario.businessDates).toEqual(Object.keys(want.dated));
    const database = await freshDatabase(engine);
    databases.push(database);
    const dated: Expected['dated'] = {};
    let after: Date | undefined;
    for (const businessDate of scenario.businessDates) {
      const cutoff = shopCutoff(businessDate, scenario.cutoffTime);
      // The first night creates the shop's tables in the fresh database; the later ones continue it.
      await replay({ domain: shop, events: scenario.events, db: database.db, until: cutoff, ...(after ? { after } : { createSchema: true }) });
      after = cutoff;
      const outcomes = await runBatch({ db: database.db, engine, transforms, businessDate, cutoffTime: scenario.cutoffTime, logger: silentLogger });
      expect(outcomes.map((outcome) => outcome.status)).toEqual(transforms.map(() => 'succeeded'));
      dated[businessDate] = {};
      for (const [output, transform] of Object.entries(datedTransforms)) {
        dated[businessDate][output as keyof typeof datedTransforms] = (await readBatchOutput(database.db, transform, { businessDate })).map((row) => transform.columns.map((column) => row[column.name] ?? null));
      }
    }
    // Dated rows read back after the last night: each date still holds what its own run wrote.
    for (const businessDate of scenario.businessDates) {
      for (const [output, transform] of Object.entries(datedTransforms)) {
        const key = output as keyof typeof datedTransforms;
        expect(await readBatchOutput(database.db, transform, { businessDate }), `${output} ${businessDate}`).toEqual(rows(transform, want.dated[businessDate]?.[key] ?? []));
        expect(dated[businessDate]?.[key], `${output} ${businessDate} right after its run`).toEqual(want.dated[businessDate]?.[key] ?? []);
      }
    }
    expect(await readBatchOutput(database.db, customerLifetimeValue)).toEqual(rows(customerLifetimeValue, want.lifetime));
    expect(await readBatchOutput(database.db, orderStatusCurrent)).toEqual(rows(orderStatusCurrent, want.status));
  });
});
