/**
 * The legacy side of replay: applies events to the shop's tables in place, the way the application
 * would — upserts, status overwrites (updated_at = arrival time), hard deletes — a batch of events per
 * transaction. Within a batch the events are folded per entity key first (the last change wins; a delete
 * followed by a new upsert becomes delete-then-insert), so each batch is a handful of multi-row
 * statements instead of one round trip per event; the end state is the same as applying them one by one.
 * Redeliveries are skipped: the application saw each business event once (its primary keys make a
 * second apply a no-op anyway, except an old status arriving after a newer one would be rolled back).
 */
import type { Knex } from 'knex';
import type { Engine } from '../db.ts';
import { LEGACY_TABLES, migrateLegacySchema } from '../domain/legacy-schema.ts';
import { UsageError } from '../errors.ts';
import type { OrderLine } from '../domain/entities.ts';
import type { ScenarioEvent } from '../scenario/load.ts';

/** Rows written to the legacy tables, by table and kind. */
export interface TableCounts {
  upserted: number;
  updated: number;
  deleted: number;
}
export type DatabaseCounts = Record<(typeof LEGACY_TABLES)[number], TableCounts>;

export function emptyDatabaseCounts(): DatabaseCounts {
  return Object.fromEntries(LEGACY_TABLES.map((table) => [table, { upserted: 0, updated: 0, deleted: 0 }])) as DatabaseCounts;
}

const CHUNK = 1000;

export function engineOfKnex(db: Knex): Engine {
  const client = String(db.client.config.client ?? '');
  if (client.includes('mysql')) return 'mysql';
  if (client === 'pg' || client === 'postgres' || client === 'postgresql') return 'postgres';
  return 'pglite';
}

/** Migrates, then refuses a database holding shop rows unless `reset` (which empties the legacy tables). */
export async function prepareDatabase(db: Knex, { reset, continuing }: { reset: boolean; continuing: boolean }): Promise<void> {
  await migrateLegacySchema(db);
  if (reset) {
    // Children first; TRUNCATE is DDL-ish on MariaDB, so not inside a transaction.
    for (const table of ['order_lines', 'orders', 'fx_rates', 'products', 'customers']) await db(table).truncate();
    return;
  }
  if (continuing) return;
  for (const table of LEGACY_TABLES) {
    const row = await db(table).first(db.raw('1 as present'));
    if (row) {
      throw new UsageError(`the legacy database already holds shop data (table ${table} is not empty); replay refuses to mix scenarios`, {
        hint: 'pass --reset to empty the legacy tables first, or use a fresh database',
      });
    }
  }
}

interface CustomerChange {
  deleteFirst: boolean;
  row?: { customer_id: string; name: string; region: string; tier: string; created_at: Date; updated_at: Date };
}
interface OrderChange {
  deleteFirst: boolean;
  insert?: { row: { order_id: string; customer_id: string; currency: string; status: string; placed_at: Date; created_at: Date; updated_at: Date }; lines: OrderLine[] };
  status?: { status: string; updatedAt: Date };
}

/** One batch folded to its net change per key, ready to execute. */
export interface BatchPlan {
  customers: Map<string, CustomerChange>;
  products: Map<string, Record<string, unknown>>;
  fxRates: Map<string, Record<string, unknown>>;
  orders: Map<string, OrderChange>;
}

/** Folds a batch of events (in arrival order) per key: pure, so the next batch can be planned while one executes. */
export function planBatch(events: ScenarioEvent[], counts: DatabaseCounts): BatchPlan {
  const customers = new Map<string, CustomerChange>();
  const products = new Map<string, Record<string, unknown>>();
  const fxRates = new Map<string, Record<string, unknown>>();
  const orders = new Map<string, OrderChange>();

  for (const { event, arrivalTime, redelivery } of events) {
    if (redelivery) continue;
    const at = new Date(arrivalTime);
    switch (event.type) {
      case 'CustomerUpserted': {
        const change = customers.get(event.payload.customerId) ?? { deleteFirst: false };
        const { customerId, name, region, tier } = event.payload;
        change.row = { customer_id: customerId, name, region, tier, created_at: change.row?.created_at ?? at, updated_at: at };
        customers.set(customerId, change);
        counts.customers.upserted += 1;
        break;
      }
      case 'CustomerDeleted':
        customers.set(event.payload.customerId, { deleteFirst: true });
        counts.customers.deleted += 1;
        break;
      case 'ProductUpserted': {
        const { productId, name, category, price, currency } = event.payload;
        products.set(productId, { product_id: productId, name, category, price, currency, updated_at: at });
        counts.products.upserted += 1;
        break;
      }
      case 'FxRateSet': {
        const { currency, rateDate, rateToEur } = event.payload;
        fxRates.set(`${currency}:${rateDate}`, { currency, rate_date: rateDate, rate_to_eur: rateToEur, updated_at: at });
        counts.fx_rates.upserted += 1;
        break;
      }
      case 'OrderPlaced': {
        const change = orders.get(event.payload.orderId) ?? { deleteFirst: false };
        const { orderId, customerId, currency, placedAt, lines } = event.payload;
        change.insert = { row: { order_id: orderId, customer_id: customerId, currency, status: 'placed', placed_at: new Date(placedAt), created_at: at, updated_at: at }, lines };
        delete change.status;
        orders.set(orderId, change);
        counts.orders.upserted += 1;
        counts.order_lines.upserted += lines.length;
        break;
      }
      case 'OrderStatusChanged': {
        const change = orders.get(event.payload.orderId) ?? { deleteFirst: false };
        if (change.insert) Object.assign(change.insert.row, { status: event.payload.status, updated_at: at });
        else change.status = { status: event.payload.status, updatedAt: at };
        orders.set(event.payload.orderId, change);
        counts.orders.updated += 1;
        break;
      }
      case 'OrderDeleted':
        orders.set(event.payload.orderId, { deleteFirst: true });
        counts.orders.deleted += 1;
        break;
    }
  }

  return { customers, products, fxRates, orders };
}

/** Executes a planned batch inside `trx`: deletes first, then upserts and inserts, then status updates. */
export async function executePlan(trx: Knex.Transaction, engine: Engine, { customers, products, fxRates, orders }: BatchPlan, counts: DatabaseCounts): Promise<void> {
  const deletedCustomers = [...customers].filter(([, change]) => change.deleteFirst).map(([id]) => id);
  for (const ids of chunks(deletedCustomers)) await trx('customers').whereIn('customer_id', ids).delete();
  const customerRows = [...customers.values()].flatMap((change) => (change.row ? [change.row] : []));
  for (const rows of chunks(customerRows)) await trx('customers').insert(rows).onConflict('customer_id').merge(['name', 'region', 'tier', 'updated_at']);
  for (const rows of chunks([...products.values()])) await trx('products').insert(rows).onConflict('product_id').merge();
  for (const rows of chunks([...fxRates.values()])) await trx('fx_rates').insert(rows).onConflict(['currency', 'rate_date']).merge(['rate_to_eur', 'updated_at']);

  const deletedOrders = [...orders].filter(([, change]) => change.deleteFirst).map(([id]) => id);
  for (const ids of chunks(deletedOrders)) {
    counts.order_lines.deleted += await trx('order_lines').whereIn('order_id', ids).delete();
    await trx('orders').whereIn('order_id', ids).delete();
  }
  const inserts = [...orders.values()].flatMap((change) => (change.insert ? [change.insert] : []));
  const orderRows = inserts.map((insert) => insert.row);
  const lineRows = inserts.flatMap(({ row, lines }) =>
    lines.map((line) => ({ order_id: row.order_id, line_no: line.lineNo, product_id: line.productId, quantity: line.quantity, unit_price: line.unitPrice, discount_pct: line.discountPct })),
  );
  if (engine === 'mysql') {
    for (const rows of chunks(orderRows)) await trx('orders').insert(rows);
    for (const rows of chunks(lineRows)) await trx('order_lines').insert(rows);
  } else {
    await insertUnnest(trx, 'orders', { order_id: 'text', customer_id: 'text', currency: 'text', status: 'text', placed_at: 'timestamptz', created_at: 'timestamptz', updated_at: 'timestamptz' }, orderRows);
    await insertUnnest(trx, 'order_lines', { order_id: 'text', line_no: 'int', product_id: 'text', quantity: 'int', unit_price: 'numeric', discount_pct: 'numeric' }, lineRows);
  }
  const statusUpdates = [...orders].flatMap(([orderId, change]) => (change.status ? [{ orderId, ...change.status }] : []));
  for (const updates of chunks(statusUpdates, engine === 'mysql' ? CHUNK : 50_000)) await updateStatuses(trx, engine, updates);
}

/** One UPDATE … JOIN (MariaDB) / FROM unnest (PostgreSQL) of (order_id, status, updated_at) for many orders at once. */
async function updateStatuses(trx: Knex.Transaction, engine: Engine, updates: { orderId: string; status: string; updatedAt: Date }[]): Promise<void> {
  if (engine === 'mysql') {
    const bindings = updates.flatMap(({ orderId, status, updatedAt }) => [orderId, status, updatedAt]);
    const rows = updates.map((_, index) => (index === 0 ? 'SELECT ? AS order_id, ? AS status, CAST(? AS DATETIME(3)) AS updated_at' : 'SELECT ?, ?, ?')).join(' UNION ALL ');
    await trx.raw(`UPDATE orders o JOIN (${rows}) v ON o.order_id = v.order_id SET o.status = v.status, o.updated_at = v.updated_at`, bindings);
  } else {
    const columns = [updates.map((update) => update.orderId), updates.map((update) => update.status), updates.map((update) => update.updatedAt.toISOString())];
    await trx.raw('UPDATE orders AS o SET status = v.status, updated_at = v.updated_at FROM unnest(?::text[], ?::text[], ?::timestamptz[]) AS v(order_id, status, updated_at) WHERE o.order_id = v.order_id', columns.map(pgArray));
  }
}

/**
 * PostgreSQL/PGlite: many rows in one INSERT … SELECT FROM unnest(array per column) — a handful of
 * parameters however many rows, so the server parses and plans one small statement (several times
 * faster than multi-row VALUES with thousands of parameters).
 */
async function insertUnnest(trx: Knex.Transaction, table: string, columns: Record<string, string>, rows: Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const names = Object.keys(columns);
  const arrays = names.map((name) => pgArray(rows.map((row) => (row[name] instanceof Date ? (row[name] as Date).toISOString() : (row[name] as string | number)))));
  const casts = names.map((name) => `?::${columns[name]}[]`).join(', ');
  await trx.raw(`INSERT INTO ${table} (${names.join(', ')}) SELECT * FROM unnest(${casts})`, arrays);
}

/** A PostgreSQL array literal of quoted elements ('{"a","b"}'), passed as one text parameter. */
function pgArray(values: (string | number)[]): string {
  return `{${values.map((value) => `"${String(value).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`).join(',')}}`;
}

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size));
  return out;
}
