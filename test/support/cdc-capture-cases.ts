/**
 * One capture suite run against every database Debezium reads (DESIGN.md section 7, "one shared
 * conformance suite"): `dualrun cdc start | status | stop` as a user runs them, on a server of the test
 * file's own, for each legacy table of both example domains (the shop and examples/metering). Every
 * table gets an insert, two updates and a delete, each its own transaction as the legacy application
 * commits them; the change events must carry exactly those values, decoded into the fields' pinned
 * forms (decimals at their column's scale, dates, instants to the millisecond, NULLs), keyed as the
 * connector promises, followed by the delete's tombstone; and a row already there when the capture
 * starts comes through the snapshot (op r) decoded the same.
 *
 * Where the engines truly differ, the engine says so and the case checks its side:
 * - a delete's image: PostgreSQL's is the replica identity (the key, REPLICA IDENTITY DEFAULT); MariaDB's
 *   is the whole row (binlog_row_image=FULL);
 * - the commit time (source.ts_ms): PostgreSQL's to the millisecond; MariaDB's binlog stamps events in
 *   whole seconds, so ts_ms ends in 000 (the fold takes arrival from the rows' updated_at, never from it);
 * - the source offset: an LSN, or a binlog file and position; stop drops PostgreSQL's replication slot,
 *   and on MariaDB ends the connector's binlog dump (a replica connection, nothing left on the server);
 * - instants: PostgreSQL's timestamptz(3); MariaDB's DATETIME(3) holding UTC (--create-schema's), and a
 *   team's own TIMESTAMP(3) table on a server whose time zone is not UTC (the engine's `prepare`).
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKnex } from '../../src/db.ts';
import { decodeImage, readDebeziumChange } from '../../src/model/debezium.ts';
import type { DomainModel, FieldModel, Row } from '../../src/model/domain.ts';
import { shop } from '../../src/domains/shop/index.ts';
import { isAlive } from '../../src/local-broker-state.ts';
import { createDomainSchema } from '../../src/replay/schema.ts';
import { runCli } from './cli.ts';
import { brokers, readMessages } from './kafka.ts';
import { metering } from './metering.ts';

export interface CaptureEngine {
  name: 'PostgreSQL' | 'MariaDB';
  /** A server of the test file's own that Debezium can read; its URL names the legacy database. */
  start(): Promise<{ url: string; stop(): Promise<void> }>;
  /** What a delete's change event carries: the key only, or the whole row. */
  deleteImage: 'key' | 'row';
  /** The resolution of source.ts_ms. */
  commitResolutionMs: 1 | 1000;
  /** The connector's committed source offset, as `cdc status` reports it, names a place in the log. */
  expectOffset(offset: Record<string, unknown>): void;
  /** After `cdc stop`: what the capture leaves on the server is gone (its stdout at hand). */
  expectStopped(db: Knex, prefix: string, stdout: string): Promise<void>;
  /** Before a domain's capture starts: tables of the team's own making (`--create-schema` adds the rest). */
  prepare?(db: Knex, domain: DomainModel): Promise<void>;
}

/** One table's script: the row inserted, two updates of it, then its delete; the key names the row. */
interface Script {
  table: string;
  fields: readonly FieldModel[];
  key: Record<string, unknown>;
  /** The column values the legacy application writes (instants as ISO text, written as a Date). */
  insert: Record<string, unknown>;
  updates: [Record<string, unknown>, Record<string, unknown>];
  /** What each image must decode to, field by field. */
  expected: [Row, Row, Row];
  /** The Kafka key of every event: the row's key, or its parent's for a child table. */
  messageKey: Record<string, unknown>;
  /**
   * A row already there when the capture starts (the insert's values with these key columns): Debezium
   * reads it in its snapshot (op r) through a query, not the log — the other path a value takes.
   */
  snapshot: { key: Record<string, unknown>; messageKey: Record<string, unknown> };
}

interface DomainCase {
  domain: DomainModel;
  /** `--config` for the CLI; undefined: the default project (the shop). */
  config: string | undefined;
  scripts: Script[];
}

const arrival = '2024-03-31T08:00:00.000Z';
const stamps = (table: { createdAt: string | undefined; updatedAt: string | undefined }): Record<string, string> => ({
  ...(table.createdAt ? { [table.createdAt]: arrival } : {}),
  ...(table.updatedAt ? { [table.updatedAt]: arrival } : {}),
});

function shopCase(): DomainCase {
  const customers = shop.entity('customers')!;
  const products = shop.entity('products')!;
  const fxRates = shop.entity('fxRates')!;
  const orders = shop.entity('orders')!;
  const lines = orders.children[0]!;
  return {
    domain: shop,
    config: undefined,
    scripts: [
      {
        table: 'customers',
        fields: customers.fields,
        key: { customer_id: 'c-1' },
        insert: { customer_id: 'c-1', name: 'Åsa Öberg 🌲', region: 'north', tier: 'gold', ...stamps(customers.table) },
        updates: [{ region: 'south' }, { tier: 'silver' }],
        expected: [
          { customerId: 'c-1', name: 'Åsa Öberg 🌲', region: 'north', tier: 'gold' },
          { customerId: 'c-1', name: 'Åsa Öberg 🌲', region: 'south', tier: 'gold' },
          { customerId: 'c-1', name: 'Åsa Öberg 🌲', region: 'south', tier: 'silver' },
        ],
        messageKey: { customer_id: 'c-1' },
        snapshot: { key: { customer_id: 'c-0' }, messageKey: { customer_id: 'c-0' } },
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
        snapshot: { key: { product_id: 'p-0' }, messageKey: { product_id: 'p-0' } },
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
        // isostring writes a DATE as "2024-03-31Z", in the key as in the images.
        messageKey: { currency: 'SEK', rate_date: '2024-03-31Z' },
        snapshot: { key: { rate_date: '2024-03-30' }, messageKey: { currency: 'SEK', rate_date: '2024-03-30Z' } },
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
        snapshot: { key: { order_id: 'o-0' }, messageKey: { order_id: 'o-0' } },
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
        snapshot: { key: { order_id: 'o-0' }, messageKey: { order_id: 'o-0' } },
      },
    ],
  };
}

function meteringCase(): DomainCase {
  const sites = metering.entity('sites')!;
  const tariffs = metering.entity('tariffs')!;
  const meters = metering.entity('meters')!;
  const readings = metering.entity('readings')!;
  return {
    domain: metering,
    config: fileURLToPath(new URL('../../examples/metering/dualrun.config.ts', import.meta.url)),
    scripts: [
      {
        table: 'sites',
        fields: sites.fields,
        key: { site_id: 's-1' },
        insert: { site_id: 's-1', name: 'Wagga Wagga depot', region: 'nsw-south', ...stamps(sites.table) },
        updates: [{ region: 'act' }, { name: 'Canberra depot' }],
        expected: [
          { siteId: 's-1', name: 'Wagga Wagga depot', region: 'nsw-south' },
          { siteId: 's-1', name: 'Wagga Wagga depot', region: 'act' },
          { siteId: 's-1', name: 'Canberra depot', region: 'act' },
        ],
        messageKey: { site_id: 's-1' },
        snapshot: { key: { site_id: 's-0' }, messageKey: { site_id: 's-0' } },
      },
      {
        table: 'tariffs',
        fields: tariffs.fields,
        key: { tariff_id: 't-1' },
        insert: { tariff_id: 't-1', name: 'Flat', price_per_kwh: '0.2650', ...stamps(tariffs.table) },
        updates: [{ price_per_kwh: '0.0001' }, { price_per_kwh: '9999.9999' }],
        expected: [
          { tariffId: 't-1', name: 'Flat', pricePerKwh: '0.2650' },
          { tariffId: 't-1', name: 'Flat', pricePerKwh: '0.0001' },
          { tariffId: 't-1', name: 'Flat', pricePerKwh: '9999.9999' },
        ],
        messageKey: { tariff_id: 't-1' },
        snapshot: { key: { tariff_id: 't-0' }, messageKey: { tariff_id: 't-0' } },
      },
      {
        table: 'meters',
        fields: meters.fields,
        key: { meter_id: 'm-1' },
        // Installed without a register read: the optional columns are NULL until the first one.
        insert: { meter_id: 'm-1', site_id: 's-1', tariff_id: 't-1', register_kwh: null, register_read_at: null, ...stamps(meters.table) },
        // Sydney's clocks go back at 03:00 on 7 April 2024 (16:00 UTC the day before): the last millisecond before.
        updates: [{ tariff_id: 't-2' }, { register_kwh: '999999999999.999', register_read_at: '2024-04-06T15:59:59.999Z' }],
        expected: [
          { meterId: 'm-1', siteId: 's-1', tariffId: 't-1', registerKwh: null, registerReadAt: null },
          { meterId: 'm-1', siteId: 's-1', tariffId: 't-2', registerKwh: null, registerReadAt: null },
          { meterId: 'm-1', siteId: 's-1', tariffId: 't-2', registerKwh: '999999999999.999', registerReadAt: '2024-04-06T15:59:59.999Z' },
        ],
        messageKey: { meter_id: 'm-1' },
        snapshot: { key: { meter_id: 'm-0' }, messageKey: { meter_id: 'm-0' } },
      },
      {
        table: 'readings',
        fields: readings.fields,
        key: { reading_id: 'r-1' },
        insert: { reading_id: 'r-1', meter_id: 'm-1', read_at: '2024-04-06T16:00:00.000Z', kwh: '0.125', ...stamps(readings.table) },
        updates: [{ kwh: '0.001' }, { kwh: '9999999.999', read_at: '2024-10-05T16:00:00.001Z' }],
        expected: [
          { readingId: 'r-1', meterId: 'm-1', readAt: '2024-04-06T16:00:00.000Z', kwh: '0.125' },
          { readingId: 'r-1', meterId: 'm-1', readAt: '2024-04-06T16:00:00.000Z', kwh: '0.001' },
          { readingId: 'r-1', meterId: 'm-1', readAt: '2024-10-05T16:00:00.001Z', kwh: '9999999.999' },
        ],
        messageKey: { reading_id: 'r-1' },
        snapshot: { key: { reading_id: 'r-0' }, messageKey: { reading_id: 'r-0' } },
      },
    ],
  };
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** The values as the legacy application's driver gets them: an instant as a Date (MariaDB's DATETIME takes no "Z"). */
const asWritten = (values: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(values).map(([column, value]) => [column, typeof value === 'string' && ISO_INSTANT.test(value) ? new Date(value) : value]));

const pick = (row: Row, names: string[]): Row => Object.fromEntries(names.map((name) => [name, row[name]]));

/**
 * The capture suite on one engine: each domain captured in turn (one Connect worker at a time). The
 * server is the test file's until its end: `url()` gives it to the file's own cases.
 */
export function captureSuite(engine: CaptureEngine): { url(): string } {
  let server: { url: string; stop(): Promise<void> };
  let db: Knex;
  const env = (): NodeJS.ProcessEnv => ({ KAFKA_BROKERS: brokers().join(','), DUALRUN_LOG_LEVEL: 'silent', CONNECT_URL: '' });

  beforeAll(async () => {
    server = await engine.start();
    db = await connectKnex(server.url);
  }, 120_000);

  afterAll(async () => {
    await db?.destroy();
    await server?.stop();
  });

  for (const { domain, config, scripts } of [shopCase(), meteringCase()]) {
    describe(`dualrun cdc on ${engine.name}: Debezium captures every change of the ${domain.name} domain's legacy tables`, () => {
      const prefix = `cdc${randomUUID().slice(0, 8)}`;
      const cli = (args: string[], timeoutMs?: number) => runCli([...args, ...(config ? ['--config', config] : [])], env(), timeoutMs);

      beforeAll(async () => {
        await engine.prepare?.(db, domain);
        await createDomainSchema(db, domain);
        for (const script of scripts) await db(script.table).insert(asWritten({ ...script.insert, ...script.snapshot.key }));
        const started = await cli(['cdc', 'start', '--db', server.url, '--topic-prefix', prefix, '--partitions', '1', '--create-schema', '--json'], 240_000);
        expect(started.code, `${started.stderr}\n${started.stdout}`).toBe(0);
      }, 300_000);

      afterAll(async () => {
        await cli(['cdc', 'stop', '--topic-prefix', prefix]);
      });

      it.each(scripts.map((script) => [script.table, script] as const))('%s: insert, two updates and a delete, decoded exactly', async (table, script) => {
        // Each statement its own transaction, as the legacy application commits them.
        await db(table).insert(asWritten(script.insert));
        await db(table).where(script.key).update(asWritten(script.updates[0]));
        await db(table).where(script.key).update(asWritten(script.updates[1]));
        await db(table).where(script.key).delete();

        const [snapshotted, ...messages] = await readMessages(`${prefix}.cdc.${table}`, { count: 6, timeoutMs: 60_000 });
        expect(messages).toHaveLength(5);
        const read = (value: Buffer | null) => {
          const result = readDebeziumChange(JSON.parse(value!.toString()));
          if (!result.ok) throw new Error(result.reason);
          return result.change;
        };
        // The row that was there first: read by the snapshot, decoded the same, with no place in a
        // transaction's metadata (no END counts it; PostgreSQL names the snapshot's txId, MariaDB nothing).
        expect(JSON.parse(snapshotted!.key!.toString())).toEqual(script.snapshot.messageKey);
        const snapshot = read(snapshotted!.value);
        expect([snapshot.op, snapshot.order]).toEqual(['r', undefined]);
        const snapshotRow = { ...script.expected[0], ...Object.fromEntries(Object.entries(script.snapshot.key).map(([column, value]) => [script.fields.find((model) => model.column === column)!.name, value])) };
        expect(decodeImage(script.fields, snapshot.image), 'snapshot image').toEqual({ ok: true, row: snapshotRow });
        for (const message of messages) expect(JSON.parse(message.key!.toString())).toEqual(script.messageKey);
        const changes = messages.slice(0, 4).map((message) => read(message.value));
        expect(changes.map((change) => change.op)).toEqual(['c', 'u', 'u', 'd']);
        expect(changes.map((change) => change.table)).toEqual([table, table, table, table]);
        for (const [index, change] of changes.slice(0, 3).entries()) {
          expect(decodeImage(script.fields, change.image), `image ${index}`).toEqual({ ok: true, row: script.expected[index] });
        }
        // A delete's image: enough to remove the row (its key), or the whole row where the binlog keeps it.
        const keyFields = script.fields.filter((model) => model.column in script.key);
        const deleted = engine.deleteImage === 'row' ? script.expected[2] : pick(script.expected[2], keyFields.map((model) => model.name));
        expect(decodeImage(engine.deleteImage === 'row' ? script.fields : keyFields, changes[3]!.image)).toEqual({ ok: true, row: deleted });
        // Every change has its own place in the log, and commit times run forward.
        expect(new Set(changes.map((change) => change.position)).size).toBe(4);
        expect([...changes.map((change) => change.committedAt)].sort()).toEqual(changes.map((change) => change.committedAt));
        if (engine.commitResolutionMs === 1000) for (const change of changes) expect(change.committedAt).toMatch(/\.000Z$/);
        // Every change of one transaction each: the transaction metadata the bridge waits on.
        expect(new Set(changes.map((change) => change.transaction)).size).toBe(4);
        expect(changes.map((change) => change.order)).toEqual([1, 1, 1, 1]);
        // The tombstone after the delete: Kafka's compaction marker.
        expect(messages[4]!.value).toBeNull();
      });

      it('status reports the running connector, its source offset, the events per table and the log not yet captured', async () => {
        const status = await cli(['cdc', 'status', '--topic-prefix', prefix, '--json']);
        expect(status.code, status.stderr).toBe(0);
        const info = JSON.parse(status.stdout) as { running: boolean; connectorState: string; tasks: { state: string }[]; events: Record<string, number>; lagBytes: number; offsets: { offset: Record<string, unknown> }[] };
        expect(info.running).toBe(true);
        expect(info.connectorState).toBe('RUNNING');
        expect(info.tasks.map((task) => task.state)).toEqual(['RUNNING']);
        // The tests above ran first: six events (the snapshot row, four changes and the tombstone) per table.
        expect(info.events).toEqual(Object.fromEntries(scripts.map((script) => [`${prefix}.cdc.${script.table}`, 6])));
        expect(typeof info.lagBytes).toBe('number');
        expect(info.lagBytes).toBeGreaterThanOrEqual(0);
        engine.expectOffset(info.offsets[0]!.offset);
      });

      it('stop leaves no Connect process and nothing of the capture on the server', async () => {
        const before = JSON.parse((await cli(['cdc', 'status', '--topic-prefix', prefix, '--json'])).stdout) as { pid: number };
        expect(isAlive(before.pid)).toBe(true);
        const stopped = await cli(['cdc', 'stop', '--topic-prefix', prefix]);
        expect(stopped.code, stopped.stderr).toBe(0);
        expect(stopped.stdout).toContain(`stopped change data capture for ${prefix}`);
        expect(isAlive(before.pid)).toBe(false);
        await engine.expectStopped(db, prefix, stopped.stdout);
        const after = await cli(['cdc', 'status', '--topic-prefix', prefix, '--json']);
        expect(JSON.parse(after.stdout)).toEqual({ running: false });
      });
    });
  }
  return { url: () => server.url };
}
