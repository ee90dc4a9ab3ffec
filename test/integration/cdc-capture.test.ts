// `dualrun cdc start | status | stop` as a user runs them: real Kafka Connect with Debezium, the real
// broker, and a PostgreSQL cluster of the test's own with wal_level=logical. Every legacy table of the
// shop gets an insert, two updates and a delete, as the legacy application would write them; the change
// events must carry exactly those values, decoded into the fields' pinned forms. The machine's shared
// servers (no logical replication, no row binlog) are only read, for the exit-4 message.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKnex } from '../../src/db.ts';
import { decodeImage, readDebeziumChange } from '../../src/model/debezium.ts';
import type { FieldModel, Row } from '../../src/model/domain.ts';
import { shop } from '../../src/domains/shop/index.ts';
import { isAlive } from '../../src/local-broker-state.ts';
import { runCli } from '../support/cli.ts';
import { brokers, readMessages } from '../support/kafka.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

const prefix = `cdc${randomUUID().slice(0, 8)}`;
let pg: ThrowawayPostgres;
let db: Knex;
const env = (): NodeJS.ProcessEnv => ({ KAFKA_BROKERS: brokers().join(','), DUALRUN_LOG_LEVEL: 'silent', CONNECT_URL: '' });

beforeAll(async () => {
  pg = await startThrowawayPostgres();
  const started = await runCli(['cdc', 'start', '--db', pg.url, '--topic-prefix', prefix, '--partitions', '1', '--create-schema', '--json'], env(), 240_000);
  expect(started.stderr, started.stdout).not.toContain('error');
  expect(started.code).toBe(0);
  db = await connectKnex(pg.url);
}, 300_000);

afterAll(async () => {
  await db?.destroy();
  await runCli(['cdc', 'stop', '--topic-prefix', prefix], env());
  await pg?.stop();
});

const arrival = '2024-03-31T08:00:00.000Z';
const customers = shop.entity('customers')!;
const products = shop.entity('products')!;
const fxRates = shop.entity('fxRates')!;
const orders = shop.entity('orders')!;
const lines = orders.children[0]!;

/** One table's script: the row inserted, two updates of it, then its delete; the key names the row. */
interface Script {
  table: string;
  fields: readonly FieldModel[];
  key: Record<string, unknown>;
  /** The field values, by column (what the legacy application writes). */
  insert: Record<string, unknown>;
  updates: [Record<string, unknown>, Record<string, unknown>];
  /** What each image must decode to, field by field. */
  expected: [Row, Row, Row];
  /** The Kafka key of every event: the row's key, or its parent's for a child table. */
  messageKey: Record<string, unknown>;
}

const stamps = (table: { createdAt: string | undefined; updatedAt: string | undefined }): Record<string, string> => ({
  ...(table.createdAt ? { [table.createdAt]: arrival } : {}),
  ...(table.updatedAt ? { [table.updatedAt]: arrival } : {}),
});

const scripts: Script[] = [
  {
    table: 'customers',
    fields: customers.fields,
    key: { customer_id: 'c-1' },
    insert: { customer_id: 'c-1', name: 'Åsa Öberg', region: 'north', tier: 'gold', ...stamps(customers.table) },
    updates: [{ region: 'south' }, { tier: 'silver' }],
    expected: [
      { customerId: 'c-1', name: 'Åsa Öberg', region: 'north', tier: 'gold' },
      { customerId: 'c-1', name: 'Åsa Öberg', region: 'south', tier: 'gold' },
      { customerId: 'c-1', name: 'Åsa Öberg', region: 'south', tier: 'silver' },
    ],
    messageKey: { customer_id: 'c-1' },
  },
  {
    table: 'products',
    fields: products.fields,
    key: { product_id: 'p-1' },
    insert: { product_id: 'p-1', name: 'Lamp', category: 'home', price: '19.90', currency: 'SEK', ...stamps(products.table) },
    updates: [{ price: '0.05' }, { price: '9999999999.99' }],
    expected: [
      { productId: 'p-1', name: 'Lamp', category: 'home', price: '19.90', currency: 'SEK' },
      { productId: 'p-1', name: 'Lamp', category: 'home', price: '0.05', currency: 'SEK' },
      { productId: 'p-1', name: 'Lamp', category: 'home', price: '9999999999.99', currency: 'SEK' },
    ],
    messageKey: { product_id: 'p-1' },
  },
  {
    table: 'fx_rates',
    fields: fxRates.fields,
    key: { currency: 'SEK', rate_date: '2024-03-31' },
    insert: { currency: 'SEK', rate_date: '2024-03-31', rate_to_eur: '0.08765432', ...stamps(fxRates.table) },
    updates: [{ rate_to_eur: '0.00000001' }, { rate_to_eur: '1234567890.12345678' }],
    expected: [
      { currency: 'SEK', rateDate: '2024-03-31', rateToEur: '0.08765432' },
      { currency: 'SEK', rateDate: '2024-03-31', rateToEur: '0.00000001' },
      { currency: 'SEK', rateDate: '2024-03-31', rateToEur: '1234567890.12345678' },
    ],
    messageKey: { currency: 'SEK', rate_date: '2024-03-31Z' },
  },
  {
    table: 'orders',
    fields: orders.fields,
    key: { order_id: 'o-1' },
    // 02:30 on the night Stockholm skips from 02:00 to 03:00 is 00:30 UTC: kept to the millisecond.
    insert: { order_id: 'o-1', customer_id: 'c-1', currency: 'EUR', placed_at: '2024-03-31T00:30:00.123Z', status: 'placed', ...stamps(orders.table) },
    updates: [{ status: 'paid' }, { status: 'cancelled', placed_at: '2024-10-27T00:59:59.999Z' }],
    expected: [
      { orderId: 'o-1', customerId: 'c-1', currency: 'EUR', placedAt: '2024-03-31T00:30:00.123Z', status: 'placed' },
      { orderId: 'o-1', customerId: 'c-1', currency: 'EUR', placedAt: '2024-03-31T00:30:00.123Z', status: 'paid' },
      { orderId: 'o-1', customerId: 'c-1', currency: 'EUR', placedAt: '2024-10-27T00:59:59.999Z', status: 'cancelled' },
    ],
    messageKey: { order_id: 'o-1' },
  },
  {
    table: 'order_lines',
    fields: [...lines.parentKey, ...lines.fields],
    key: { order_id: 'o-1', line_no: 2 },
    insert: { order_id: 'o-1', line_no: 2, product_id: 'p-1', quantity: 3, unit_price: '10.50', discount_pct: '100.00' },
    updates: [{ quantity: 1 }, { unit_price: '0.01', discount_pct: '12.34' }],
    expected: [
      { orderId: 'o-1', lineNo: 2, productId: 'p-1', quantity: 3, unitPrice: '10.50', discountPct: '100.00' },
      { orderId: 'o-1', lineNo: 2, productId: 'p-1', quantity: 1, unitPrice: '10.50', discountPct: '100.00' },
      { orderId: 'o-1', lineNo: 2, productId: 'p-1', quantity: 1, unitPrice: '0.01', discountPct: '12.34' },
    ],
    // Debezium's message.key.columns: a line is keyed by its order, so it shares the order's partition.
    messageKey: { order_id: 'o-1' },
  },
];

describe('dualrun cdc: Debezium captures every change of the shop\'s legacy tables', () => {
  it.each(scripts.map((script) => [script.table, script] as const))('%s: insert, two updates and a delete, decoded exactly', async (table, script) => {
    // Each statement its own transaction, as the legacy application commits them.
    await db(table).insert(script.insert);
    await db(table).where(script.key).update(script.updates[0]);
    await db(table).where(script.key).update(script.updates[1]);
    await db(table).where(script.key).delete();

    const messages = await readMessages(`${prefix}.cdc.${table}`, { count: 5, timeoutMs: 60_000 });
    expect(messages).toHaveLength(5);
    for (const message of messages) expect(JSON.parse(message.key!.toString())).toEqual(script.messageKey);
    const changes = messages.slice(0, 4).map((message) => {
      const read = readDebeziumChange(JSON.parse(message.value!.toString()));
      if (!read.ok) throw new Error(read.reason);
      return read.change;
    });
    expect(changes.map((change) => change.op)).toEqual(['c', 'u', 'u', 'd']);
    for (const [index, change] of changes.slice(0, 3).entries()) {
      const decoded = decodeImage(script.fields, change.image);
      expect(decoded, `image ${index}`).toEqual({ ok: true, row: script.expected[index] });
    }
    // A delete's image is the key (the table's replica identity): enough to remove the row.
    for (const [column, value] of Object.entries(script.key)) expect(String(changes[3]!.image[column])).toBe(String(value).replace(/^(\d{4}-\d{2}-\d{2})$/, '$1Z'));
    // Every change has its own place in the WAL, and commit times run forward.
    expect(new Set(changes.map((change) => change.position)).size).toBe(4);
    expect([...changes.map((change) => change.committedAt)].sort()).toEqual(changes.map((change) => change.committedAt));
    // The tombstone after the delete: Kafka's compaction marker.
    expect(messages[4]!.value).toBeNull();
  });

  it('status reports the running connector, its source offset, the events per table and the log not yet captured', async () => {
    const status = await runCli(['cdc', 'status', '--topic-prefix', prefix, '--json'], env());
    expect(status.code, status.stderr).toBe(0);
    const info = JSON.parse(status.stdout) as { running: boolean; connectorState: string; tasks: { state: string }[]; events: Record<string, number>; lagBytes: number; offsets: { offset: { lsn?: number } }[] };
    expect(info.running).toBe(true);
    expect(info.connectorState).toBe('RUNNING');
    expect(info.tasks.map((task) => task.state)).toEqual(['RUNNING']);
    // The tests above ran first: five events (four changes and the tombstone) per table.
    expect(info.events).toEqual(Object.fromEntries(scripts.map((script) => [`${prefix}.cdc.${script.table}`, 5])));
    expect(typeof info.lagBytes).toBe('number');
    expect(info.lagBytes).toBeGreaterThanOrEqual(0);
    expect(Number(info.offsets[0]?.offset.lsn)).toBeGreaterThan(0);
  });

  it('stop leaves no Connect process and drops the replication slot', async () => {
    const before = JSON.parse((await runCli(['cdc', 'status', '--topic-prefix', prefix, '--json'], env())).stdout) as { pid: number };
    expect(isAlive(before.pid)).toBe(true);
    const stopped = await runCli(['cdc', 'stop', '--topic-prefix', prefix], env());
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(`dropped replication slot dualrun_${prefix}`);
    expect(isAlive(before.pid)).toBe(false);
    expect(((await db.raw('select count(*)::int as n from pg_replication_slots')) as { rows: { n: number }[] }).rows[0]!.n).toBe(0);
    const after = await runCli(['cdc', 'status', '--topic-prefix', prefix, '--json'], env());
    expect(JSON.parse(after.stdout)).toEqual({ running: false });
  });
});

describe('dualrun cdc start on a database that cannot be captured exits 4 naming the setting', () => {
  it('the shared PostgreSQL server (its wal_level read, never changed)', async () => {
    const shared = await connectKnex('postgres://postgres@127.0.0.1:5432/postgres');
    const walLevel = ((await shared.raw('show wal_level')) as { rows: { wal_level: string }[] }).rows[0]!.wal_level;
    await shared.destroy();
    expect(walLevel, 'the shared server must be the one without logical decoding').not.toBe('logical');
    const result = await runCli(['cdc', 'start', '--db', 'postgres://postgres@127.0.0.1:5432/postgres', '--topic-prefix', `${prefix}x`], env());
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`wal_level is ${walLevel}`);
    expect(result.stderr).toContain('ALTER SYSTEM SET wal_level = logical;');
    expect(result.stderr).toContain('restart the server');
  });

  it('the shared MariaDB server (no binlog)', async () => {
    const shared = await connectKnex('mysql://root@127.0.0.1:3306/mysql');
    const [rows] = (await shared.raw('select @@log_bin as logBin, @@binlog_format as format')) as [{ logBin: number; format: string }[]];
    await shared.destroy();
    expect(Number(rows[0]!.logBin), 'the shared server must be the one without a binlog').toBe(0);
    const result = await runCli(['cdc', 'start', '--db', 'mysql://root@127.0.0.1:3306/mysql', '--topic-prefix', `${prefix}x`], env());
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('log_bin is OFF');
    if (rows[0]!.format !== 'ROW') expect(result.stderr).toContain(`binlog_format is ${rows[0]!.format}`);
  });

  it('the embedded PGlite database', async () => {
    const result = await runCli(['cdc', 'start', '--db', 'pglite:memory', '--topic-prefix', `${prefix}x`], env());
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('PGlite');
  });
});
