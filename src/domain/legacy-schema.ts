/**
 * The legacy OLTP schema the shop application updates in place — the world the coupling argument is
 * about: an order's status and a customer's region are overwritten, rows are hard-deleted, and all a
 * poller can see is `updated_at`. Knex migrations that run unchanged on PostgreSQL, MariaDB and PGlite.
 * Instants are UTC (timestamptz on PostgreSQL, DATETIME(3) holding UTC on MariaDB).
 */
import type { Knex } from 'knex';

const MONEY = [12, 2] as const;

function instant(table: Knex.CreateTableBuilder, name: string): Knex.ColumnBuilder {
  return table.datetime(name, { useTz: true, precision: 3 });
}

const createShopTables: Knex.Migration = {
  async up(knex) {
    await knex.schema.createTable('customers', (table) => {
      table.string('customer_id', 64).primary();
      table.string('name', 200).notNullable();
      table.string('region', 16).notNullable();
      table.string('tier', 16).notNullable();
      instant(table, 'created_at').notNullable();
      instant(table, 'updated_at').notNullable();
    });
    await knex.schema.createTable('products', (table) => {
      table.string('product_id', 64).primary();
      table.string('name', 200).notNullable();
      table.string('category', 64).notNullable();
      table.decimal('price', ...MONEY).notNullable();
      table.string('currency', 3).notNullable();
      instant(table, 'updated_at').notNullable();
    });
    await knex.schema.createTable('fx_rates', (table) => {
      table.string('currency', 3).notNullable();
      table.date('rate_date').notNullable();
      table.decimal('rate_to_eur', 18, 8).notNullable();
      instant(table, 'updated_at').notNullable();
      table.primary(['currency', 'rate_date']);
    });
    await knex.schema.createTable('orders', (table) => {
      table.string('order_id', 64).primary();
      table.string('customer_id', 64).notNullable().index();
      table.string('currency', 3).notNullable();
      table.string('status', 16).notNullable();
      /** Event time: when the customer placed the order. */
      instant(table, 'placed_at').notNullable().index();
      /** Arrival time: when the application wrote the row. */
      instant(table, 'created_at').notNullable();
      instant(table, 'updated_at').notNullable();
    });
    await knex.schema.createTable('order_lines', (table) => {
      table.string('order_id', 64).notNullable();
      table.integer('line_no').notNullable();
      table.string('product_id', 64).notNullable().index();
      table.integer('quantity').notNullable();
      table.decimal('unit_price', ...MONEY).notNullable();
      table.decimal('discount_pct', 5, 2).notNullable().defaultTo(0);
      table.primary(['order_id', 'line_no']);
    });
  },
  async down(knex) {
    for (const table of ['order_lines', 'orders', 'fx_rates', 'products', 'customers']) await knex.schema.dropTableIfExists(table);
  },
};

const migrations: Record<string, Knex.Migration> = { '001_create_shop_tables': createShopTables };

/** A knex migration source over the migrations above (no files to find at run time). */
export const legacyMigrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};

export const LEGACY_TABLES = ['customers', 'products', 'fx_rates', 'orders', 'order_lines'] as const;

/** Brings a legacy database to the latest schema. */
export async function migrateLegacySchema(knex: Knex): Promise<void> {
  await knex.migrate.latest({ migrationSource: legacyMigrationSource, tableName: 'dualrun_legacy_migrations' });
}
