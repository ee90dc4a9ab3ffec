// Explainers against every scenario's real input events: for each transformation, left/right relations are
// built by hand so they differ exactly at the scenario's expected keys (in the expected columns, or with the
// row on one side only), and every difference must come back with the expected category and exactly the
// expected proving events — nothing more, nothing unexplained. (The end-to-end run over the real batch and
// stream outputs needs both runners; this pins the explainers on the scenarios' facts.)
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareRelations, contractOptions } from '../../compare/index.ts';
import { openDuck } from '../../compare/duck.ts';
import { loadEvents } from '../../compare/events.ts';
import { contracts } from '../../compare/transforms.ts';
import { cutoffFor } from '../../src/domain/time.ts';
import { loadScenario } from '../../src/scenario/load.ts';
import type { Column } from '../../src/transforms/contract.ts';

const fixtures = join(import.meta.dirname, '../../fixtures');
const scenarios = readdirSync(fixtures).filter((name) => statSync(join(fixtures, name)).isDirectory());

function value(column: Column, variant: 0 | 1): string {
  switch (column.type) {
    case 'integer':
    case 'decimal':
      return variant === 0 ? '1' : '2';
    case 'date':
      return variant === 0 ? '2024-01-01' : '2024-01-02';
    case 'timestamp':
      return variant === 0 ? '2024-01-01T00:00:00.000Z' : '2024-01-02T00:00:00.000Z';
    case 'string':
      return variant === 0 ? 'x' : 'y';
  }
}

describe('explainers on the scenarios', () => {
  it('finds the fixtures', () => {
    expect(scenarios).toEqual(expect.arrayContaining(['baseline', 'customer-moves', 'late-arrivals', 'dst-boundary', 'duplicates', 'cancellations-and-deletes']));
  });

  for (const name of scenarios) {
    it(`${name}: every expected difference explained exactly`, async () => {
      const scenario = await loadScenario(join(fixtures, name));
      const watermark = cutoffFor(scenario.businessDates.at(-1)!, scenario.cutoffTime);
      const duck = await openDuck();
      try {
        await loadEvents(duck, scenario.events);
        for (const contract of contracts) {
          const expected = scenario.expectedDifferences[contract.name] ?? [];
          const columns = contract.columns.map((column) => column.name);
          const left: (string | null)[][] = [];
          const right: (string | null)[][] = [];
          // One agreeing row, so a relation is never empty.
          const agreeing = contract.columns.map((column) => (contract.key.includes(column.name) ? `same-${column.name}` : value(column, 0)));
          if (contract.dateColumn) agreeing[columns.indexOf(contract.dateColumn)] = scenario.businessDates[0]!;
          left.push(agreeing);
          right.push(agreeing);
          for (const difference of expected) {
            const row = (variant: 0 | 1) => contract.columns.map((column) => (column.name in difference.key ? String(difference.key[column.name]) : difference.columns?.includes(column.name) ? value(column, variant) : value(column, 0)));
            left.push(row(0));
            if (difference.columns) right.push(row(1));
          }
          const result = await compareRelations({
            ...contractOptions(contract, watermark),
            watermark,
            cutoffTime: scenario.cutoffTime,
            left: { kind: 'rows', name: `batch_${contract.name}`, columns, rows: left },
            right: { kind: 'rows', name: `stream_${contract.name}`, columns, rows: right },
            duck,
          });
          const found = result.differences.map((d) => ({ key: d.key, category: d.explanation, columns: d.columns, events: [...d.events].sort() }));
          const wanted = expected.map((d) => ({ key: Object.fromEntries(Object.entries(d.key).map(([k, v]) => [k, String(v)])), category: d.category, columns: d.columns ?? [], events: [...d.events].sort() }));
          const byKey = (a: { key: object }, b: { key: object }) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key));
          expect(found.sort(byKey), `${name} / ${contract.name}`).toEqual(wanted.sort(byKey));
          expect(result.explained.unexplained ?? 0).toBe(0);
        }
      } finally {
        duck.close();
      }
    });
  }
});
