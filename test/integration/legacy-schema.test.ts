// The shop's legacy schema, created from its declaration (createDomainSchema), is made unchanged on
// every engine, and keeps UTC instants and exact decimals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDomainSchema, domainTables } from '../../src/replay/schema.ts';
import { shop } from '../support/shop.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/databases.ts';

describe.each(engines)('legacy schema on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase(engine);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('creates every table, twice without harm, and stores UTC instants', async () => {
    const tables = domainTables(shop).map((table) => table.name);
    expect(tables).toEqual(['customers', 'products', 'fx_rates', 'orders', 'order_lines']);
    expect(await createDomainSchema(database.db, shop)).toEqual(tables);
    expect(await createDomainSchema(database.db, shop)).toEqual([]);
    for (const table of tables) expect(await database.db.schema.hasTable(table)).toBe(true);
    const placedAt = new Date('2024-10-27T00:30:00.123Z');
    await database.db('orders').insert({ order_id: 'o1', customer_id: 'c1', currency: 'SEK', status: 'placed', placed_at: placedAt, created_at: placedAt, updated_at: placedAt });
    const row = await database.db('orders').first('placed_at');
    expect(new Date(row.placed_at).toISOString()).toBe('2024-10-27T00:30:00.123Z');
  });
});
