// Explainers against every scenario's real input events and the real differing rows of its batch and stream
// outputs (below: the rows an end-to-end run of compare-scenarios.test.ts produced on PGlite), so the
// quantitative checks run on the values the runners actually give. Every expected difference must come back
// with the expected category and exactly the expected proving events; and the same rows with a bug on top
// (a count, an amount or a column off) must come back unexplained, not labelled with the semantic category
// whose events touch the same key.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareRelations, contractOptions, type ComparisonResult } from '../../compare/index.ts';
import { openDuck, type Duck } from '../../compare/duck.ts';
import type { Scenario } from '../../src/scenario/load.ts';
import type { Transform } from '../../src/transforms/contract.ts';
import { fixtures, loadShopScenario as loadScenario, shopCutoff, shopTransforms } from '../support/shop.ts';

const contracts = shopTransforms;
const scenarios = readdirSync(fixtures).filter((name) => statSync(join(fixtures, name)).isDirectory());

type Row = Record<string, string | null>;

// The rows that differ, [batch, stream] (null: that side has no such row), per scenario and transformation.
const DIFFERING: Record<string, Record<string, [Row | null, Row | null][]>> = {
  "cancellations-and-deletes": {
    orders_enriched: [
      [{order_id:"X7",business_date:"2024-07-02",customer_id:"C3",placed_at:"2024-07-02T09:00:00.000Z",currency:"EUR",region:null,tier:null,line_count:"1",net_amount:"20.00",net_amount_eur:"20.00"}, {order_id:"X7",business_date:"2024-07-02",customer_id:"C3",placed_at:"2024-07-02T09:00:00.000Z",currency:"EUR",region:"east",tier:"standard",line_count:"1",net_amount:"20.00",net_amount_eur:"20.00"}],
      [{order_id:"X4",business_date:"2024-07-01",customer_id:"C4",placed_at:"2024-07-01T11:00:00.000Z",currency:"EUR",region:"west",tier:"gold",line_count:"2",net_amount:"28.50",net_amount_eur:"28.50"}, null],
    ],
    daily_revenue_by_region: [
      [{business_date:"2024-07-02",region:"unknown",order_count:"1",revenue_eur:"20.00"}, null],
      [null, {business_date:"2024-07-01",region:"east",order_count:"1",revenue_eur:"40.00"}],
      [null, {business_date:"2024-07-02",region:"east",order_count:"1",revenue_eur:"20.00"}],
    ],
    product_sales_daily: [
      [{business_date:"2024-07-01",product_id:"P1",category:"coffee",units:"1",order_count:"1",revenue_eur:"20.00"}, {business_date:"2024-07-01",product_id:"P1",category:"coffee",units:"3",order_count:"2",revenue_eur:"60.00"}],
    ],
  },
  "customer-moves": {
    orders_enriched: [
      [{order_id:"M1",business_date:"2024-06-17",customer_id:"C1",placed_at:"2024-06-17T08:00:00.000Z",currency:"EUR",region:"west",tier:"gold",line_count:"1",net_amount:"20.00",net_amount_eur:"20.00"}, {order_id:"M1",business_date:"2024-06-17",customer_id:"C1",placed_at:"2024-06-17T08:00:00.000Z",currency:"EUR",region:"north",tier:"gold",line_count:"1",net_amount:"20.00",net_amount_eur:"20.00"}],
      [{order_id:"M4",business_date:"2024-06-18",customer_id:"C3",placed_at:"2024-06-18T09:00:00.000Z",currency:"EUR",region:"east",tier:"silver",line_count:"1",net_amount:"8.50",net_amount_eur:"8.50"}, {order_id:"M4",business_date:"2024-06-18",customer_id:"C3",placed_at:"2024-06-18T09:00:00.000Z",currency:"EUR",region:"east",tier:"standard",line_count:"1",net_amount:"8.50",net_amount_eur:"8.50"}],
    ],
    daily_revenue_by_region: [
      [{business_date:"2024-06-17",region:"west",order_count:"2",revenue_eur:"37.00"}, {business_date:"2024-06-17",region:"west",order_count:"1",revenue_eur:"17.00"}],
      [null, {business_date:"2024-06-17",region:"north",order_count:"1",revenue_eur:"20.00"}],
    ],
  },
  "dst-boundary": {
    orders_enriched: [
      [null, {order_id:"T9",business_date:"2024-10-26",customer_id:"C1",placed_at:"2024-10-26T21:00:00.000Z",currency:"EUR",region:"north",tier:"gold",line_count:"1",net_amount:"40.00",net_amount_eur:"40.00"}],
    ],
    daily_revenue_by_region: [
      [{business_date:"2024-10-27",region:"west",order_count:"2",revenue_eur:"28.50"}, {business_date:"2024-10-27",region:"west",order_count:"1",revenue_eur:"20.00"}],
    ],
    product_sales_daily: [
      [{business_date:"2024-10-27",product_id:"P4",category:"accessories",units:"4",order_count:"3",revenue_eur:"34.00"}, {business_date:"2024-10-27",product_id:"P4",category:"accessories",units:"3",order_count:"2",revenue_eur:"25.50"}],
    ],
  },
  "late-arrivals": {
    orders_enriched: [
      [null, {order_id:"L5",business_date:"2024-06-10",customer_id:"C2",placed_at:"2024-06-10T20:00:00.000Z",currency:"EUR",region:"south",tier:"silver",line_count:"1",net_amount:"8.50",net_amount_eur:"8.50"}],
    ],
    daily_revenue_by_region: [
      [{business_date:"2024-06-10",region:"north",order_count:"2",revenue_eur:"45.50"}, {business_date:"2024-06-10",region:"north",order_count:"1",revenue_eur:"28.50"}],
    ],
    product_sales_daily: [
      [{business_date:"2024-06-10",product_id:"P4",category:"accessories",units:"3",order_count:"2",revenue_eur:"25.50"}, {business_date:"2024-06-10",product_id:"P4",category:"accessories",units:"1",order_count:"1",revenue_eur:"8.50"}],
    ],
  },
};


const byName = (name: string) => contracts.find((contract) => contract.name === name)!;
const keyText = (key: object) => JSON.stringify(key);

/** Compares hand-built outputs of `contract` (rows as objects) under its contract, with `watermark`, explained by the scenario's events. */
async function compare(duck: Duck, scenario: Scenario, contract: Transform, pairs: [Row | null, Row | null][], watermark: Date, cutoffTime: string): Promise<ComparisonResult> {
  const columns = contract.columns.map((column) => column.name);
  const toRow = (row: Row) => columns.map((column) => row[column] ?? null);
  return compareRelations({
    ...contractOptions(contract, watermark),
    transform: contract,
    events: scenario.events,
    batchDates: scenario.businessDates,
    watermark,
    cutoffTime,
    left: { kind: 'rows', name: `batch_${contract.name}`, columns, rows: pairs.flatMap(([left]) => (left ? [toRow(left)] : [])) },
    right: { kind: 'rows', name: `stream_${contract.name}`, columns, rows: pairs.flatMap(([, right]) => (right ? [toRow(right)] : [])) },
    duck,
  });
}

async function withScenario<T>(name: string, run: (duck: Duck, scenario: Scenario, watermark: Date, cutoffTime: string) => Promise<T>): Promise<T> {
  const scenario = await loadScenario(join(fixtures, name));
  const duck = await openDuck();
  try {
    return await run(duck, scenario, shopCutoff(scenario.businessDates.at(-1)!, scenario.cutoffTime), scenario.cutoffTime);
  } finally {
    duck.close();
  }
}

/** The same difference with a bug on top: a count or amount off by one on the side that has the row, or a per-order column changed. */
function withBug(contract: Transform, [left, right]: [Row | null, Row | null]): [Row | null, Row | null] {
  const target = right ?? left!;
  const buggy = { ...target };
  if (contract.key.includes('order_id')) {
    // Paired: the column that differs gets a value no cause predicts; alone: its EUR amount is off.
    if (left && right && left.region !== right.region) buggy.region = 'nowhere';
    else if (left && right && left.tier !== right.tier) buggy.tier = 'platinum';
    else buggy.net_amount_eur = (Number(target.net_amount_eur) + 1).toFixed(2);
  } else if ('units' in target) buggy.units = String(Number(target.units) + 1);
  else buggy.revenue_eur = (Number(target.revenue_eur) + 1).toFixed(2);
  return right ? [left, buggy] : [buggy, right];
}

describe('explainers on the scenarios', () => {
  it('finds the fixtures', () => {
    expect(scenarios).toEqual(expect.arrayContaining(['baseline', 'customer-moves', 'late-arrivals', 'dst-boundary', 'duplicates', 'cancellations-and-deletes']));
  });

  for (const name of scenarios) {
    it(`${name}: every expected difference explained exactly, and accounted for`, async () => {
      const scenario = await loadScenario(join(fixtures, name));
      await withScenario(name, async (duck, loaded, watermark, cutoffTime) => {
        for (const contract of contracts) {
          const pairs = DIFFERING[name]?.[contract.name] ?? [];
          const result = await compare(duck, loaded, contract, pairs, watermark, cutoffTime);
          const found = result.differences.map((d) => ({ key: d.key, category: d.explanation, columns: d.columns, events: [...d.events].sort() }));
          const wanted = (scenario.expectedDifferences[contract.name] ?? []).map((d) => ({ key: Object.fromEntries(Object.entries(d.key).map(([k, v]) => [k, String(v)])), category: d.category, columns: d.columns ?? [], events: [...d.events].sort() }));
          const byKey = (a: { key: object }, b: { key: object }) => keyText(a.key).localeCompare(keyText(b.key));
          expect(found.sort(byKey), `${name} / ${contract.name}`).toEqual(wanted.sort(byKey));
          expect(result.explained.unexplained ?? 0).toBe(0);
          // What was checked is said: the columns (or presence) the events account for.
          for (const difference of result.differences) expect(difference.checked?.length, difference.reason).toBeGreaterThan(0);
        }
      });
    });

    if (!DIFFERING[name]) continue;
    it(`${name}: a bug on the same key as a semantic difference stays unexplained`, async () => {
      await withScenario(name, async (duck, loaded, watermark, cutoffTime) => {
        for (const [transform, pairs] of Object.entries(DIFFERING[name]!)) {
          const contract = byName(transform);
          for (const [index, pair] of pairs.entries()) {
            const bugged = pairs.map((other, i) => (i === index ? withBug(contract, other) : other));
            const result = await compare(duck, loaded, contract, bugged, watermark, cutoffTime);
            const key = Object.fromEntries(contract.key.map((column) => [column, (pair[0] ?? pair[1])![column]]));
            const row = result.differences.find((d) => keyText(d.key) === keyText(key));
            expect(row?.explanation, `${name} / ${transform} ${keyText(key)}: ${row?.reason}`).toBe('unexplained');
            expect(row?.reason).toMatch(/suspect a bug/);
            // The other rows keep their explanation.
            expect(result.explained.unexplained, `${name} / ${transform}`).toBe(1);
          }
        }
      });
    });
  }
});
