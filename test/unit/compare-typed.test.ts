// Typed sources keep their types into the diff (issue #12.5): Parquet files written by DuckDB, each column
// of a native type, compared under the same rules as text — numbers as numbers across DECIMAL and DOUBLE,
// instants across TIMESTAMP and TIMESTAMPTZ at the declared precision, integer keys of any width, a text
// key against an integer one by its values, NULL rules on typed values — and a Parquet file is read in place.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { literal, openDuck, type Duck } from '../../compare/duck.ts';
import { compareRelations, type ComparisonResult } from '../../compare/index.ts';
import { loadParquet } from '../../compare/load.ts';
import type { ColumnRule } from '../../src/transforms/contract.ts';

let dir: string;
let duck: Duck;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dualrun-typed-'));
  duck = await openDuck();
});
afterAll(async () => {
  duck?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A Parquet file of `select` (a DuckDB query), its columns typed as the query types them. */
async function parquet(name: string, select: string): Promise<string> {
  const path = join(dir, `${name}.parquet`);
  await duck.run(`COPY (${select}) TO ${literal(path)} (FORMAT parquet)`);
  return path;
}

function compare(left: string, right: string, rules: Record<string, ColumnRule> = {}, key = ['id']): Promise<ComparisonResult> {
  return compareRelations({ left: { kind: 'parquet', path: left }, right: { kind: 'parquet', path: right }, key, rules });
}

describe('typed Parquet columns, compared under the rules', () => {
  it('DECIMAL against DOUBLE: numbers as numbers, the tolerance inclusive; no type change', async () => {
    const left = await parquet('decimal', `SELECT * FROM (VALUES (1, 1.10::DECIMAL(12,2)), (2, 2.00::DECIMAL(12,2)), (3, 3.00::DECIMAL(12,2)), (4, 4.25::DECIMAL(12,2)), (5, NULL::DECIMAL(12,2))) t(id, amount)`);
    const right = await parquet('double', `SELECT * FROM (VALUES (1, 1.1::DOUBLE), (2, 2.005::DOUBLE), (3, 3.5::DOUBLE), (4, 4.25::DOUBLE), (5, NULL::DOUBLE)) t(id, amount)`);
    const result = await compare(left, right, { amount: { abs: 0.005 } });
    expect(result.counts).toEqual({ match: 3, withinTolerance: 1, mismatch: 1, onlyLeft: 0, onlyRight: 0 });
    expect(result.schema.typeChanges).toEqual([]);
    expect(result.columns.amount).toMatchObject({ kind: 'number', mismatches: 1, withinTolerance: 1, maxAbsDiff: 0.5 });
    expect(result.samples.find((sample) => sample.category === 'mismatch')).toMatchObject({ key: { id: '3' }, left: { amount: '3.00' }, right: { amount: '3.5' } });
  });

  it('TIMESTAMP against TIMESTAMPTZ: instants (a TIMESTAMP is UTC), at ms by default and at the declared precision', async () => {
    const left = await parquet('ts', `SELECT * FROM (VALUES (1, TIMESTAMP '2024-06-10 08:00:00.123'), (2, TIMESTAMP '2024-06-10 08:00:00.123'), (3, TIMESTAMP '2024-06-10 08:00:00')) t(id, "at")`);
    const right = await parquet('tstz', `SELECT * FROM (VALUES (1, TIMESTAMPTZ '2024-06-10 10:00:00.1234+02'), (2, TIMESTAMPTZ '2024-06-10 08:00:00.124+00'), (3, TIMESTAMPTZ '2024-06-10 08:00:00.999+00')) t(id, "at")`);
    const atMs = await compare(left, right);
    expect(atMs.counts).toEqual({ match: 1, withinTolerance: 0, mismatch: 2, onlyLeft: 0, onlyRight: 0 });
    expect(atMs.schema.typeChanges).toEqual([]);
    expect(atMs.samples.map((sample) => [sample.key.id, sample.left?.at, sample.right?.at])).toEqual([
      ['2', '2024-06-10T08:00:00.123Z', '2024-06-10T08:00:00.124Z'],
      ['3', '2024-06-10T08:00:00.000Z', '2024-06-10T08:00:00.999Z'],
    ]);
    expect((await compare(left, right, { at: { precision: 's' } })).counts).toMatchObject({ match: 3, mismatch: 0 });
  });

  it('integer keys of different widths pair by value; the same width is joined as it is', async () => {
    const small = await parquet('small', `SELECT * FROM (VALUES (1::SMALLINT, 'a'), (2::SMALLINT, 'b'), (-3::SMALLINT, 'c')) t(id, v)`);
    const big = await parquet('big', `SELECT * FROM (VALUES (1::BIGINT, 'a'), (2::BIGINT, 'x'), (4::BIGINT, 'd')) t(id, v)`);
    const result = await compare(small, big);
    expect(result.counts).toEqual({ match: 1, withinTolerance: 0, mismatch: 1, onlyLeft: 1, onlyRight: 1 });
    expect(result.samples.map((sample) => sample.key)).toEqual([{ id: '2' }, { id: '-3' }, { id: '4' }]);
    expect((await compare(big, big)).counts).toEqual({ match: 3, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 });
  });

  it('a text key against an integer key is compared by its values: integers pair, "007" is text and a type change', async () => {
    const ints = await parquet('int-key', `SELECT * FROM (VALUES (7::INTEGER, 'a'), (8::INTEGER, 'b')) t(id, v)`);
    const texts = await parquet('text-key', `SELECT * FROM (VALUES ('7', 'a'), ('8', 'b')) t(id, v)`);
    const padded = await parquet('padded-key', `SELECT * FROM (VALUES ('007', 'a'), ('8', 'b')) t(id, v)`);
    const same = await compare(ints, texts);
    expect(same.counts).toEqual({ match: 2, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 });
    expect(same.schema.typeChanges).toEqual([]);
    const other = await compare(ints, padded);
    expect(other.counts).toEqual({ match: 1, withinTolerance: 0, mismatch: 0, onlyLeft: 1, onlyRight: 1 });
    expect(other.schema.typeChanges).toEqual([{ column: 'id', left: 'INTEGER (number)', right: 'VARCHAR (string)' }]);
  });

  it('NULL rules on typed values: NULL equals NULL by default, nothing with null-distinct', async () => {
    const left = await parquet('nulls-l', `SELECT * FROM (VALUES (1, NULL::DECIMAL(12,2), NULL::TIMESTAMPTZ), (2, 1.00::DECIMAL(12,2), TIMESTAMPTZ '2024-06-10 08:00:00+00')) t(id, amount, "at")`);
    const right = await parquet('nulls-r', `SELECT * FROM (VALUES (1, NULL::DECIMAL(12,2), NULL::TIMESTAMPTZ), (2, NULL::DECIMAL(12,2), TIMESTAMPTZ '2024-06-10 08:00:00+00')) t(id, amount, "at")`);
    expect((await compare(left, right)).counts).toEqual({ match: 1, withinTolerance: 0, mismatch: 1, onlyLeft: 0, onlyRight: 0 });
    const distinct = await compare(left, right, { amount: { nullEqualsNull: false }, at: { nullEqualsNull: false } });
    expect(distinct.counts).toEqual({ match: 0, withinTolerance: 0, mismatch: 2, onlyLeft: 0, onlyRight: 0 });
  });

  it('a Parquet file is read in place with its types, not copied', async () => {
    const path = await parquet('in-place', `SELECT 1::BIGINT AS id, 2.50::DECIMAL(12,2) AS amount, TIMESTAMPTZ '2024-06-10 08:00:00+00' AS "at", DATE '2024-06-10' AS day`);
    expect(await loadParquet(duck, 'in_place', path)).toEqual({ table: 'in_place', rows: 1 });
    expect(await duck.rows(`SELECT table_type FROM information_schema.tables WHERE table_name = 'in_place'`)).toEqual([{ table_type: 'VIEW' }]);
    expect((await duck.rows<{ column_type: string }>('DESCRIBE in_place')).map((row) => row.column_type)).toEqual(['BIGINT', 'DECIMAL(12,2)', 'TIMESTAMP WITH TIME ZONE', 'DATE']);
  });
});
