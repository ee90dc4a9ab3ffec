// The Stockholm business day in SQL (src/transforms/sql.ts) agrees with the stream side's
// businessDay() on every engine, for instants right at and around each DST switch and each local
// midnight of the switch days, 2020-2030 — MariaDB included, where the EU rule is written out in SQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { businessDay, dayBounds, nextDate } from '../../src/time.ts';
import { businessDateSql } from '../../src/transforms/sql.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/databases.ts';

/** The last Sunday of a month, as YYYY-MM-DD. */
function lastSunday(year: number, month: number): string {
  const last = new Date(Date.UTC(year, month, 0));
  return new Date(Date.UTC(year, month - 1, last.getUTCDate() - last.getUTCDay())).toISOString().slice(0, 10);
}

const STOCKHOLM = 'Europe/Stockholm';
const instants: Date[] = [];
for (let year = 2020; year <= 2030; year += 1) {
  for (const day of [lastSunday(year, 3), lastSunday(year, 10)]) {
    const switchAt = Date.parse(`${day}T01:00:00Z`);
    for (const offset of [-3_600_000, -1, 0, 1, 3_600_000]) instants.push(new Date(switchAt + offset));
    for (const date of [nextDate(day, -1), day, nextDate(day)]) {
      const { start } = dayBounds(date, STOCKHOLM);
      for (const offset of [-1, 0, 1]) instants.push(new Date(start.getTime() + offset));
    }
  }
  instants.push(new Date(`${year}-01-01T00:00:00Z`), new Date(`${year}-06-30T22:00:00Z`), new Date(`${year}-12-31T23:00:00Z`));
}

describe.each(engines)('business day in SQL on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase(engine);
    await database.db.schema.createTable('instants', (table) => {
      table.integer('id').primary();
      table.datetime('at', { useTz: true, precision: 3 }).notNullable();
    });
    await database.db('instants').insert(instants.map((at, id) => ({ id, at })));
  });
  afterAll(async () => {
    await database?.drop();
  });

  it(`matches businessDay() for ${instants.length} instants around DST switches and midnights`, async () => {
    const result = (await database.db.raw(`SELECT id, CAST(${businessDateSql(engine, 'at', STOCKHOLM)} AS CHAR(10)) AS day FROM instants ORDER BY id`)) as { rows?: { id: number; day: string }[] } | [{ id: number; day: string }[]];
    const rows = Array.isArray(result) ? result[0] : result.rows!;
    expect(rows.map((row) => `${instants[row.id]!.toISOString()} ${row.day}`)).toEqual(instants.map((at) => `${at.toISOString()} ${businessDay(at, STOCKHOLM)}`));
  });
});
