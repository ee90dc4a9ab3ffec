// The diff's promises (DESIGN.md section 5), in a real in-memory DuckDB: a relation against itself has
// no differences; k injected mutations give exactly k differences in the right categories; row order
// does not matter; tolerance boundaries are inclusive and exact; NULL, duplicate and window rules hold.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffTables } from '../../compare/diff.ts';
import { openDuck } from '../../compare/duck.ts';
import { compareRelations, type CompareRelationsOptions, type ComparisonResult } from '../../compare/index.ts';
import type { ColumnRule } from '../../src/transforms/contract.ts';

type Row = (string | null)[];
const COLUMNS = ['id', 'amount', 'label', 'at'];

function compare(left: Row[], right: Row[], extra: Partial<CompareRelationsOptions> = {}, columns = COLUMNS): Promise<ComparisonResult> {
  return compareRelations({
    left: { kind: 'rows', name: 'left', columns, rows: left },
    right: { kind: 'rows', name: 'right', columns, rows: right },
    key: ['id'],
    ...extra,
  });
}

const differences = (result: ComparisonResult) => result.counts.withinTolerance + result.counts.mismatch + result.counts.onlyLeft + result.counts.onlyRight;

// Cents as integers so amounts are exact decimal strings.
const rowArb = fc.record({
  cents: fc.integer({ min: -1_000_000, max: 1_000_000 }),
  label: fc.option(fc.constantFrom('a', 'b', 'north', 'South'), { nil: null }),
  ms: fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }),
});
const relationArb = fc.uniqueArray(fc.tuple(fc.integer({ min: 1, max: 100_000 }), rowArb), { minLength: 1, maxLength: 40, selector: ([id]) => id });

const money = (cents: number) => `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
const toRows = (relation: [number, { cents: number; label: string | null; ms: number }][]): Row[] =>
  relation.map(([id, row]) => [`k${id}`, money(row.cents), row.label, new Date(row.ms).toISOString()]);

function shuffled<T>(items: T[], seed: number): T[] {
  const copy = [...items];
  let state = seed;
  for (let i = copy.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const j = state % (i + 1);
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

// Many DuckDB diffs per property: the timeout only guards against a hang (speed is measured in bench/).
describe('compare: properties', { timeout: 180_000 }, () => {
  it('a relation against itself (in any order) has no differences', async () => {
    await fc.assert(
      fc.asyncProperty(relationArb, fc.integer({ min: 1, max: 1000 }), async (relation, seed) => {
        const rows = toRows(relation);
        const result = await compare(rows, shuffled(rows, seed));
        expect(differences(result)).toBe(0);
        expect(result.counts.match).toBe(rows.length);
        expect(result.parity).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('k injected mutations give exactly k differences, each in its category', async () => {
    const kinds = ['label', 'bigAmount', 'smallAmount', 'drop', 'add'] as const;
    await fc.assert(
      fc.asyncProperty(relationArb, fc.array(fc.constantFrom(...kinds), { maxLength: 10 }), fc.integer({ min: 1, max: 1000 }), async (relation, wanted, seed) => {
        const left = toRows(relation);
        const right = left.map((row) => [...row]);
        const mutations = wanted.slice(0, left.length);
        const expected = { match: left.length, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 };
        const dropped = new Set<number>();
        mutations.forEach((kind, i) => {
          const row = right[i]!;
          const cents = Math.round(Number(row[1]) * 100);
          switch (kind) {
            case 'label':
              row[2] = row[2] === 'changed' ? 'changed again' : 'changed';
              expected.mismatch++;
              break;
            case 'bigAmount':
              row[1] = money(cents + 2); // 0.02 > 0.01
              expected.mismatch++;
              break;
            case 'smallAmount':
              row[1] = money(cents + 1); // 0.01 ≤ 0.01: within tolerance
              expected.withinTolerance++;
              break;
            case 'drop':
              dropped.add(i);
              expected.onlyLeft++;
              break;
            case 'add':
              right.push([`new${i}`, '1.00', 'a', '2024-01-01T00:00:00.000Z']);
              expected.onlyRight++; // the row it was drawn for stays a match
              break;
          }
          if (kind !== 'add') expected.match--;
        });
        const result = await compare(left, shuffled(right.filter((_, i) => !dropped.has(i)), seed), { rules: { amount: { abs: 0.01 } } });
        expect(result.counts).toEqual(expected);
        expect(result.parity).toBe(expected.mismatch + expected.onlyLeft + expected.onlyRight === 0);
      }),
      { numRuns: 25 },
    );
  });

  it('an absolute tolerance is inclusive and exact at the boundary', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.integer({ min: 0, max: 5000 }), async (milli, toleranceMilli) => {
        const a = (milli / 1000).toFixed(3);
        const t = toleranceMilli / 1000;
        const atBoundary = ((milli + toleranceMilli) / 1000).toFixed(3);
        const beyond = ((milli + toleranceMilli + 1) / 1000).toFixed(3);
        const result = await compare([['x', a, null, null], ['y', a, null, null]], [['x', atBoundary, null, null], ['y', beyond, null, null]], { rules: { amount: { abs: t } } });
        expect(result.counts.mismatch).toBe(1);
        expect(result.counts.withinTolerance + result.counts.match).toBe(1);
        expect(result.samples.find((sample) => sample.category === 'mismatch')?.key).toEqual({ id: 'y' });
      }),
      { numRuns: 30 },
    );
  });
});

describe('compare: rules worked out by hand', () => {
  const one = (l: string | null, r: string | null, rule: ColumnRule = {}, column = 'amount') =>
    compare([['1', ...COLUMNS.slice(1).map((name) => (name === column ? l : null))]], [['1', ...COLUMNS.slice(1).map((name) => (name === column ? r : null))]], { rules: { [column]: rule } });

  it('relative tolerance: |a−b| ≤ rel × max(|a|,|b|), inclusive', async () => {
    expect((await one('99', '100', { rel: 0.01 })).counts.withinTolerance).toBe(1); // 1 ≤ 0.01 × 100
    expect((await one('98.99', '100', { rel: 0.01 })).counts.mismatch).toBe(1); // 1.01 > 1
    expect((await one('-99', '-100', { rel: 0.01 })).counts.withinTolerance).toBe(1);
  });

  it('numbers compare as numbers: "12.50" equals "12.5", but "007" is text and differs from "7"', async () => {
    expect((await one('12.50', '12.5')).counts.match).toBe(1);
    expect((await one('007', '7')).counts.mismatch).toBe(1);
    // Beyond 10^9 the exact 128-bit decimal takes over.
    expect((await one('12345678901234.50', '12345678901234.5')).counts.match).toBe(1);
    const big = await one('12345678901234.50', '12345678901234.51');
    expect(big.counts.mismatch).toBe(1);
    expect(big.columns.amount?.maxAbsDiff).toBe(0.01);
    const result = await one('10.005', '10.00', { abs: 0.005 });
    expect(result.counts.withinTolerance).toBe(1);
    expect(result.columns.amount?.maxAbsDiff).toBe(0.005);
  });

  it('a value that is not of its column\'s kind equals only itself, never another such value (or a NULL)', async () => {
    // A tolerance makes "amount" a number column; both values fail to convert to one.
    expect((await one('N/A', 'n/a', { abs: 0.01 })).counts.mismatch).toBe(1);
    expect((await one('N/A', null, { abs: 0.01 })).counts.mismatch).toBe(1);
    expect((await one('N/A', 'N/A', { abs: 0.01 })).counts.match).toBe(1);
    expect((await one('not a time', 'never', { precision: 's' }, 'at')).counts.mismatch).toBe(1);
    // Against itself, duplicate keys holding such values pair up with their own copies, whatever the row order.
    const copies: Row[] = [['k', 'N/A', null, null], ['k', 'x', null, null], ['k', '1.50', null, null], ['k', 'y', null, null], ['k', 'N/A', null, null]];
    const itself = await compare(copies, [...copies].reverse(), { rules: { amount: { abs: 0.01 } } });
    expect(differences(itself)).toBe(0);
  });

  it('NULL equals NULL by default, never a value; with nullEqualsNull false it equals nothing', async () => {
    expect((await one(null, null)).counts.match).toBe(1);
    expect((await one(null, '1')).counts.mismatch).toBe(1);
    expect((await one('1', null)).counts.mismatch).toBe(1);
    expect((await one(null, null, { nullEqualsNull: false })).counts.mismatch).toBe(1);
  });

  it('timestamps compare as instants at the declared precision', async () => {
    expect((await one('2024-10-27T01:30:00.400Z', '2024-10-27T01:30:00.000Z', { precision: 's' }, 'at')).counts.match).toBe(1);
    expect((await one('2024-10-27T01:30:00.400Z', '2024-10-27T01:30:00.000Z', { precision: 'ms' }, 'at')).counts.mismatch).toBe(1);
    expect((await one('2024-10-27 03:30:00+02', '2024-10-27T01:30:00.000Z', {}, 'at')).counts.match).toBe(1);
    // Samples show instants in the pinned representation, ISO UTC with milliseconds.
    const differing = await one('2024-10-27 03:30:00+02', '2024-10-27T01:30:01.000Z', {}, 'at');
    expect(differing.samples[0]).toMatchObject({ columns: ['at'], left: { at: '2024-10-27T01:30:00.000Z' }, right: { at: '2024-10-27T01:30:01.000Z' } });
  });

  it('a text column is a number only if every value is: one late non-number makes it text (the sample is only a proposal)', async () => {
    const rows = (last: string): Row[] => [...Array.from({ length: 30_000 }, (_, i): Row => [`k${i}`, String(i), null, null]), ['last', last, null, null]];
    const result = await compare(rows('x1'), rows('x2'));
    expect(result.columns.amount?.kind).toBe('string');
    expect(result.counts.mismatch).toBe(1);
  });

  it('trim and case rules', async () => {
    expect((await one(' North', 'north', {}, 'label')).counts.mismatch).toBe(1);
    expect((await one(' North', 'north', { trim: true, caseInsensitive: true }, 'label')).counts.match).toBe(1);
  });

  it('duplicate keys are findings, matched by multiplicity; NULL keys are findings, not compared', async () => {
    const row: Row = ['d', '1.00', 'a', null];
    const result = await compare([row, row, row, [null, '2.00', 'b', null]], [row, row]);
    expect(result.counts).toEqual({ match: 2, withinTolerance: 0, mismatch: 0, onlyLeft: 1, onlyRight: 0 });
    expect(result.findings.duplicateKeys).toMatchObject({ left: 1, right: 1, leftRows: 3, rightRows: 2 });
    expect(result.findings.nullKeys).toMatchObject({ leftRows: 1, rightRows: 0 });
    expect(result.parity).toBe(false);
  });

  it('composite keys', async () => {
    const columns = ['day', 'region', 'n'];
    const result = await compare(
      [['2024-10-27', 'north', '1'], ['2024-10-27', 'south', '2'], ['2024-10-28', 'north', '3']],
      [['2024-10-27', 'south', '2'], ['2024-10-28', 'north', '4'], ['2024-10-28', 'south', '5']],
      { key: ['day', 'region'] },
      columns,
    );
    expect(result.counts).toEqual({ match: 1, withinTolerance: 0, mismatch: 1, onlyLeft: 1, onlyRight: 1 });
    expect(result.columns.n).toMatchObject({ mismatches: 1, maxAbsDiff: 1 });
  });

  it('schema diff: a column on one side only, and a type change', async () => {
    const result = await compareRelations({
      left: { kind: 'rows', name: 'l', columns: ['id', 'a', 'b'], rows: [['1', '2', 'x']] },
      right: { kind: 'rows', name: 'r', columns: ['id', 'a', 'c'], rows: [['1', 'two', 'y']] },
      key: ['id'],
    });
    expect(result.schema.onlyLeft).toEqual(['b']);
    expect(result.schema.onlyRight).toEqual(['c']);
    expect(result.schema.typeChanges.map((change) => change.column)).toEqual(['a']);
    expect(result.parity).toBe(false);
  });

  it('settled windows only: rows of days not closed at the watermark are not yet comparable', async () => {
    const columns = ['business_date', 'region', 'revenue'];
    // 2024-10-27 (Stockholm, a 25-hour day) ends 2024-10-27T23:00Z; with 30 min grace it settles at 23:30Z.
    const left = [['2024-10-26', 'north', '10.00'], ['2024-10-27', 'north', '20.00']];
    const right = [['2024-10-26', 'north', '10.00'], ['2024-10-27', 'north', '25.00']];
    const window = (watermark: string) => ({ key: ['business_date', 'region'], window: { dateColumn: 'business_date', graceMs: 30 * 60_000, timeZone: 'Europe/Stockholm', watermark: new Date(watermark) } });
    const open = await compare(left, right, window('2024-10-27T23:29:59.999Z'), columns);
    expect(open.counts).toEqual({ match: 1, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 });
    expect(open.notYetComparable).toMatchObject({ left: 1, right: 1, dates: ['2024-10-27'] });
    const settled = await compare(left, right, window('2024-10-27T23:30:00.000Z'), columns);
    expect(settled.counts.mismatch).toBe(1);
    expect(settled.notYetComparable.dates).toEqual([]);
  });
});

describe('compare: how the big pass runs does not change the answer', () => {
  // Typed tables, as Parquet lands them: a BIGINT key joined natively on both sides, or as text against a
  // text key; keys are reported in the same text either way.
  async function typed<T>(fn: (duck: Awaited<ReturnType<typeof openDuck>>) => Promise<T>): Promise<T> {
    const duck = await openDuck();
    try {
      await duck.run(`CREATE TABLE a AS SELECT i::BIGINT AS id, DATE '2024-01-01' + i::INTEGER AS d, 'v' || i AS v FROM range(10) t(i)`);
      await duck.run(`CREATE TABLE b AS SELECT i::BIGINT AS id, DATE '2024-01-01' + i::INTEGER AS d, CASE WHEN i = 3 THEN 'x' ELSE 'v' || i END AS v FROM range(1, 11) t(i)`);
      await duck.run(`CREATE TABLE c AS SELECT CAST(i AS VARCHAR) AS id, CAST(DATE '2024-01-01' + i::INTEGER AS VARCHAR) AS d, CASE WHEN i = 3 THEN 'x' ELSE 'v' || i END AS v FROM range(1, 11) t(i)`);
      return await fn(duck);
    } finally {
      duck.close();
    }
  }
  const request = (right: string, key: string[]) => ({ name: 'x', leftTable: 'a', rightTable: right, leftSource: 'a', rightSource: right, key });
  const expected = { match: 8, withinTolerance: 0, mismatch: 1, onlyLeft: 1, onlyRight: 1 };

  it('keys of one type on both sides are joined as they are, others as text, with the same findings', async () => {
    await typed(async (duck) => {
      const native = await diffTables(duck, request('b', ['id']), 'n');
      expect(native.counts).toEqual(expected);
      // Number keys read as written, not with the nine decimals they are normalised to.
      expect(native.samples.map((sample) => sample.key)).toEqual([{ id: '3' }, { id: '0' }, { id: '10' }]);
      const mixed = await diffTables(duck, request('c', ['id']), 'm');
      expect(mixed.counts).toEqual(expected);
      expect(mixed.samples.map((sample) => sample.key)).toEqual([{ id: '3' }, { id: '0' }, { id: '10' }]);
      const dates = await diffTables(duck, request('b', ['d']), 'd');
      expect(dates.counts).toEqual(expected);
      expect(dates.samples.map((sample) => sample.key)).toEqual([{ d: '2024-01-04' }, { d: '2024-01-01' }, { d: '2024-01-11' }]);
    });
  });

  it('more candidates than the pass keeps in memory take a second pass, with the same outcome', async () => {
    await typed(async (duck) => {
      const kept = await diffTables(duck, request('c', ['id']), 'k');
      for (const pairCap of [3, 2, 1]) {
        const spilled = await diffTables(duck, request('c', ['id']), `s${pairCap}`, { pairCap });
        expect(spilled.counts).toEqual(expected);
        expect(spilled.samples).toEqual(kept.samples);
      }
    });
  });

  it('without a pipeline, a short listing reads only its rows and counts every difference the same', async () => {
    const rows = (bump: (i: number) => string): Row[] => Array.from({ length: 40 }, (_, i) => [`k${String(i).padStart(2, '0')}`, bump(i), 'a', '2024-06-10T08:00:00.000Z']);
    // Every third row beyond the tolerance, every third within it.
    const left = rows(() => '1.00');
    const right = rows((i) => (i % 3 === 0 ? '2.00' : i % 3 === 1 ? '1.004' : '1.00'));
    const all = await compare(left, right, { rules: { amount: { abs: 0.005 } }, differenceLimit: 1000 });
    expect(all.explained).toEqual({ unexplained: 14, rounding: 13 });
    for (const differenceLimit of [0, 1, 5]) {
      const short = await compare(left, right, { rules: { amount: { abs: 0.005 } }, differenceLimit });
      expect(short.explained).toEqual(all.explained);
      expect(Object.keys(short.explained)).toEqual(Object.keys(all.explained));
      expect(short.differences).toEqual(all.differences.slice(0, differenceLimit));
    }
  });
});
