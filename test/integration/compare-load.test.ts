// The comparator's database loaders on every engine (real PostgreSQL, MariaDB, PGlite): values land as
// the database's own text — NULL apart from the empty string, quotes, commas and line breaks intact,
// exact decimals, unshifted dates — and PostgreSQL's COPY, read in parts while it arrives, gives the
// same table in one part or many; a failed COPY leaves no table behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, type Duck } from '../../compare/duck.ts';
import { loadDatabase } from '../../compare/load.ts';
import { copyPostgresToDuck } from '../../compare/pg-copy.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/databases.ts';

const tricky = [
  { id: 1, label: null, amount: '12.50', day: '2024-03-31' },
  { id: 2, label: '', amount: '-0.01', day: '2024-10-27' },
  { id: 3, label: 'a,b "quoted"\nsecond line', amount: '123456789012.34', day: '2024-01-01' },
  { id: 4, label: 'Åsa ✓', amount: '0.00', day: '1969-12-31' },
];
const filler = Array.from({ length: 3000 }, (_, index) => ({ id: 100 + index, label: `row ${index}`, amount: `${index}.${String(index % 100).padStart(2, '0')}`, day: '2024-06-17' }));
// Last in the table, so in a late part: a row over line breaks, and one larger than the loader's 1 MB write block.
const late = [
  { id: 5000, label: 'late "row",\nover\r\nlines', amount: '1.00', day: '2024-06-18' },
  { id: 5001, label: 'x'.repeat(1_500_000), amount: '2.00', day: '2024-06-18' },
];

async function rowsOf(duck: Duck, table: string) {
  return duck.rows<Record<string, string | null>>(`SELECT id, label, amount, day FROM ${table} ORDER BY CAST(id AS INTEGER)`);
}

const source = [...tricky, ...filler, ...late];
const expected = source.map((row) => ({ ...row, id: String(row.id) }));

describe.each(engines)('database loader on %s', (engine) => {
  let database: TestDatabase;
  let duck: Duck;
  beforeAll(async () => {
    database = await freshDatabase(engine);
    await database.db.schema.createTable('source_rows', (table) => {
      table.integer('id');
      table.text('label', 'longtext').nullable(); // MariaDB's TEXT stops at 64 KB
      table.decimal('amount', 14, 2);
      table.date('day');
    });
    for (let start = 0; start < source.length; start += 500) await database.db('source_rows').insert(source.slice(start, start + 500));
    duck = await openDuck();
  });
  afterAll(async () => {
    duck?.close();
    await database?.drop();
  });

  it('lands every value as the database writes it', async () => {
    const loaded = await loadDatabase(duck, 'loaded', { knex: database.db, table: 'source_rows', source: 'db:source_rows' });
    expect(loaded.rows).toBe(expected.length);
    expect(await rowsOf(duck, 'loaded')).toEqual(expected);
  });

  // PostgreSQL's COPY path only (the others stream rows through the appender).
  if (engine !== 'postgres') return;

  it('reads COPY in parts while it arrives, giving the same table as in one part', async () => {
    const query = database.db.select('*').from('source_rows').toQuery();
    const many = await copyPostgresToDuck(duck, 'in_parts', database.db, query, { partBytes: 4096 });
    expect(many.rows).toBe(expected.length);
    expect(await rowsOf(duck, 'in_parts')).toEqual(expected);
  });

  it('gives an empty table with the columns for a query without rows', async () => {
    const none = await copyPostgresToDuck(duck, 'none', database.db, database.db.select('*').from('source_rows').where('id', '<', 0).toQuery(), { partBytes: 4096 });
    expect(none.rows).toBe(0);
    expect((await duck.rows<{ column_name: string }>('DESCRIBE none')).map((row) => row.column_name)).toEqual(['id', 'label', 'amount', 'day']);
  });

  it('leaves no table when COPY fails half way', async () => {
    // The division fails on the last row (in insertion order: no sort, so rows stream as they are read), after the first parts were read in.
    const query = database.db.raw('select id, label, amount, day, 1 / (id - 5001) as boom from source_rows').toQuery();
    await expect(copyPostgresToDuck(duck, 'failed', database.db, query, { partBytes: 4096 })).rejects.toThrow(/division by zero/);
    expect(await duck.rows(`SELECT table_name FROM information_schema.tables WHERE table_name = 'failed'`)).toEqual([]);
  });
});
