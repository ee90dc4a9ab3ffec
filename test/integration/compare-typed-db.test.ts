// A typed PostgreSQL table keeps its types into the diff (issue #12.5), on the real server: integers,
// numeric(p,s), dates and instants land typed (floats, booleans, an unconstrained numeric stay the
// server's text), so against a typed Parquet file they are compared as they are; against text (a CSV, as
// an output topic is) the same rows agree with no type change; differences keep the server's spelling.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { literal, openDuck } from '../../compare/duck.ts';
import { compareRelations } from '../../compare/index.ts';
import { loadDatabase } from '../../compare/load.ts';
import { freshDatabase, type TestDatabase } from '../support/databases.ts';

let database: TestDatabase;
let dir: string;
const ROWS = 5000;

// Row i: amount i × 1.25, at 08:00:00 UTC + i s, day 10 Jun + i % 30, label "x<i>".
const parquetRows = (filter: string, amount = 'CAST(i * 1.25 AS DECIMAL(12,2))') => `SELECT CAST(i AS INTEGER) AS id, ${amount} AS amount,
    TIMESTAMPTZ '2024-06-10 08:00:00+00' + to_seconds(i) AS "at", DATE '2024-06-10' + CAST(i % 30 AS INTEGER) AS day, 'x' || i AS label
  FROM range(1, ${ROWS + 1}) t(i) WHERE ${filter}`;

beforeAll(async () => {
  database = await freshDatabase('postgres');
  dir = await mkdtemp(join(tmpdir(), 'dualrun-typed-db-'));
  await database.db.raw(`create table typed_rows as select i::int4 as id, (i * 1.25)::numeric(12,2) as amount, timestamptz '2024-06-10 08:00:00+00' + i * interval '1 second' as "at",
      date '2024-06-10' + (i % 30) as day, 'x' || i as label from generate_series(1, ${ROWS}) i`);
  await database.db.raw(`create table other_types as select 1::int8 as id, 1.5::float8 as ratio, true as flag, 2.50::numeric as free, '2024-06-10 08:00:00'::timestamp as local, 3::int2 as small`);
  const duck = await openDuck();
  // The same rows; and with differences: 1 only in the table, 2 only in the file, 3 beyond and 4 within 0.005, 5 a second later.
  await duck.run(`COPY (${parquetRows('true')}) TO ${literal(join(dir, 'same.parquet'))} (FORMAT parquet)`);
  await duck.run(`COPY (SELECT id, CASE id WHEN 3 THEN amount + 1 WHEN 4 THEN CAST(amount + 0.005 AS DECIMAL(12,3)) ELSE amount END AS amount, CASE id WHEN 5 THEN "at" + INTERVAL 1 SECOND ELSE "at" END AS "at", day, label
    FROM (${parquetRows('i <> 1')}) UNION ALL SELECT ${ROWS + 1}, 1.00, TIMESTAMPTZ '2024-06-10 08:00:00+00', DATE '2024-06-10', 'new') TO ${literal(join(dir, 'diff.parquet'))} (FORMAT parquet)`);
  // Text, as an output topic lands: ISO instants, plain decimals.
  await duck.run(`COPY (SELECT CAST(id AS VARCHAR) AS id, CAST(amount AS VARCHAR) AS amount, strftime("at", '%Y-%m-%dT%H:%M:%S.000Z') AS "at", CAST(day AS VARCHAR) AS day, label FROM (${parquetRows('true')}))
    TO ${literal(join(dir, 'same.csv'))} (HEADER)`);
  duck.close();
});
afterAll(async () => {
  await database?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a typed PostgreSQL table in the diff', () => {
  it('lands integers, numeric(p,s), dates and instants typed; floats, booleans and an unconstrained numeric as text', async () => {
    const duck = await openDuck();
    try {
      await loadDatabase(duck, 'typed', { knex: database.db, table: 'typed_rows', source: 'db:typed_rows', types: 'native' });
      await loadDatabase(duck, 'others', { knex: database.db, table: 'other_types', source: 'db:other_types', types: 'native' });
      const types = async (table: string) => Object.fromEntries((await duck.rows<{ column_name: string; column_type: string }>(`DESCRIBE ${table}`)).map((row) => [row.column_name, row.column_type]));
      expect(await types('typed')).toEqual({ id: 'INTEGER', amount: 'DECIMAL(12,2)', at: 'TIMESTAMP WITH TIME ZONE', day: 'DATE', label: 'VARCHAR' });
      expect(await types('others')).toEqual({ id: 'BIGINT', ratio: 'VARCHAR', flag: 'VARCHAR', free: 'VARCHAR', local: 'TIMESTAMP', small: 'SMALLINT' });
      expect(await duck.rows('SELECT ratio, flag, free FROM others')).toEqual([{ ratio: '1.5', flag: 't', free: '2.50' }]);
      // The default stays the server's text for every column.
      await loadDatabase(duck, 'text', { knex: database.db, table: 'typed_rows', source: 'db:typed_rows' });
      expect(new Set(Object.values(await types('text')))).toEqual(new Set(['VARCHAR']));
    } finally {
      duck.close();
    }
  });

  it('against the same rows in a typed Parquet file: parity, no type change, every column compared by its kind', async () => {
    const result = await compareRelations({ db: database.db, left: { kind: 'db', table: 'typed_rows' }, right: { kind: 'parquet', path: join(dir, 'same.parquet') }, key: ['id'] });
    expect(result.counts).toEqual({ match: ROWS, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 });
    expect(result.schema).toEqual({ onlyLeft: [], onlyRight: [], typeChanges: [] });
    expect(Object.fromEntries(Object.entries(result.columns).map(([name, stats]) => [name, stats.kind]))).toEqual({ amount: 'number', at: 'timestamp', day: 'date', label: 'string' });
  });

  it('against a Parquet file with differences: each counted in its category, values as each side holds them', async () => {
    const result = await compareRelations({ db: database.db, left: { kind: 'db', table: 'typed_rows' }, right: { kind: 'parquet', path: join(dir, 'diff.parquet') }, key: ['id'], rules: { amount: { abs: 0.005 } } });
    expect(result.counts).toEqual({ match: ROWS - 4, withinTolerance: 1, mismatch: 2, onlyLeft: 1, onlyRight: 1 });
    expect(result.samples.map((sample) => [sample.category, sample.key.id, sample.columns, sample.left?.amount ?? null, sample.right?.amount ?? null, sample.left?.at ?? null, sample.right?.at ?? null])).toEqual([
      ['mismatch', '3', ['amount'], '3.75', '4.750', '2024-06-10T08:00:03.000Z', '2024-06-10T08:00:03.000Z'],
      ['mismatch', '5', ['at'], '6.25', '6.250', '2024-06-10T08:00:05.000Z', '2024-06-10T08:00:06.000Z'],
      ['onlyLeft', '1', [], '1.25', null, '2024-06-10T08:00:01.000Z', null],
      ['onlyRight', String(ROWS + 1), [], null, '1.000', null, '2024-06-10T08:00:00.000Z'],
      ['withinTolerance', '4', ['amount'], '5.00', '5.005', '2024-06-10T08:00:04.000Z', '2024-06-10T08:00:04.000Z'],
    ]);
  });

  it('against the same rows as text (as an output topic lands): parity and no type change, the integer key too', async () => {
    const result = await compareRelations({ db: database.db, left: { kind: 'db', table: 'typed_rows' }, right: { kind: 'csv', path: join(dir, 'same.csv') }, key: ['id'] });
    expect(result.counts).toEqual({ match: ROWS, withinTolerance: 0, mismatch: 0, onlyLeft: 0, onlyRight: 0 });
    expect(result.schema).toEqual({ onlyLeft: [], onlyRight: [], typeChanges: [] });
  });
});
