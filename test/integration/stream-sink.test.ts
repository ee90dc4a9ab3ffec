// The --sink-db conformance suite: the same cases on every engine the sink supports (PostgreSQL,
// MariaDB, PGlite — the Hono-style shared suite of DESIGN.md section 7), through `dualrun stream run`
// as a user runs it. The sink's promise (streaming/runtime/knex-sink.ts): each stream_<name> table
// ends equal to its output topic's final values — rows upserted, tombstones deleting.
//
// End to end: phase one is the hand-worked example plus a customer and an order whose ids differ from
// c1/o1 only in case (ids are case-sensitive, as Kafka keys are). Phase two, a second run of the same
// group, deletes orders whose rows are already in the sink (per-order and aggregate tombstones) and
// updates one. Then the sink on its own (no Kafka): edge values of every column type, the concurrent
// batches of several partitions (which deadlocked on MariaDB), a table that does not match the
// contract, and instances racing to create the tables (on PGlite, starting one after another), each
// then writing to them.
import '../../src/kafkajs-fixes.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateText } from '../../batch/history.ts';
import { normalizeValue } from '../../batch/output.ts';
import { createKnex } from '../../src/db.ts';
import { SinkError } from '../../src/errors.ts';
import type { Column } from '../../src/transforms/contract.ts';
import { upsertPerKey } from '../../src/pipeline/dsl.ts';
import { createSink } from '../../streaming/runtime/knex-sink.ts';
import type { OutRecord, StreamTransform } from '../../streaming/tasks/model.ts';
import { runCli } from '../support/cli.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/databases.ts';
import { event, handWorkedExample, messageOf } from '../support/events.ts';
import { expectedHandWorked } from '../support/expected-hand-worked.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';
import { shop, shopTransforms as transforms } from '../support/shop.ts';
import { createInputTopics, finalValues, publish } from '../support/stream.ts';

type Rows = Record<string, Record<string, unknown>>;

const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.drop();
});

/** C1 and O1 (2025-01-15, an open window long after the example's days): 1 × p1 at 5.00 EUR. */
function caseTwins() {
  return [
    messageOf(event('CustomerUpserted', { customerId: 'C1', name: 'Cy', region: 'east', tier: 'silver' }, '2025-01-15T09:00:00Z'), '2025-01-15T09:00:00Z'),
    messageOf(event('OrderPlaced', { orderId: 'O1', customerId: 'C1', currency: 'EUR', placedAt: '2025-01-15T10:00:00Z', lines: [{ lineNo: 1, productId: 'p1', quantity: 1, unitPrice: '5.00', discountPct: '0' }] }, '2025-01-15T10:00:00Z'), '2025-01-15T10:00:01Z'),
  ];
}
const afterPhaseOne: Record<string, Rows> = {
  orders_enriched: { ...expectedHandWorked.orders_enriched, '["O1"]': { order_id: 'O1', business_date: '2025-01-15', customer_id: 'C1', placed_at: '2025-01-15T10:00:00.000Z', currency: 'EUR', region: 'east', tier: 'silver', line_count: 1, net_amount: '5.00', net_amount_eur: '5.00' } },
  order_status_current: { ...expectedHandWorked.order_status_current, '["O1"]': { order_id: 'O1', customer_id: 'C1', status: 'placed' } },
  daily_revenue_by_region: { ...expectedHandWorked.daily_revenue_by_region, '["2025-01-15","east"]': { business_date: '2025-01-15', region: 'east', order_count: 1, revenue_eur: '5.00' } },
  customer_lifetime_value: { ...expectedHandWorked.customer_lifetime_value, '["C1"]': { customer_id: 'C1', order_count: 1, cancelled_count: 0, revenue_eur: '5.00', first_order_at: '2025-01-15T10:00:00.000Z', last_order_at: '2025-01-15T10:00:00.000Z' } },
  product_sales_daily: { ...expectedHandWorked.product_sales_daily, '["2025-01-15","p1"]': { business_date: '2025-01-15', product_id: 'p1', category: 'tools', units: 1, order_count: 1, revenue_eur: '5.00' } },
};

/** Deletes O1 (its window is open: every aggregate key it alone made goes), deletes o1, o3 is paid. */
function phaseTwo() {
  return [
    messageOf(event('OrderDeleted', { orderId: 'O1' }, '2025-01-15T11:00:00Z'), '2025-01-15T11:00:01Z'),
    messageOf(event('OrderStatusChanged', { orderId: 'o3', status: 'paid' }, '2025-01-15T11:05:00Z'), '2025-01-15T11:05:01Z'),
    messageOf(event('OrderDeleted', { orderId: 'o1' }, '2025-01-15T11:10:00Z'), '2025-01-15T11:10:01Z'),
  ];
}
const without = (rows: Rows, ...keys: string[]): Rows => Object.fromEntries(Object.entries(rows).filter(([key]) => !keys.includes(key)));
const afterPhaseTwo: Record<string, Rows> = {
  orders_enriched: without(afterPhaseOne.orders_enriched!, '["O1"]', '["o1"]'),
  order_status_current: { ...without(afterPhaseOne.order_status_current!, '["O1"]', '["o1"]'), '["o3"]': { order_id: 'o3', customer_id: 'c1', status: 'paid' } },
  // o1's day (2024-10-27) is long final: its delete is late there and changes no daily row.
  daily_revenue_by_region: without(afterPhaseOne.daily_revenue_by_region!, '["2025-01-15","east"]'),
  product_sales_daily: without(afterPhaseOne.product_sales_daily!, '["2025-01-15","p1"]'),
  // The running aggregate has no window: o1 (20.01 EUR, the earliest) leaves c1 with o3 and o4.
  customer_lifetime_value: {
    '["c1"]': { customer_id: 'c1', order_count: 2, cancelled_count: 2, revenue_eur: '22.00', first_order_at: '2024-10-27T12:00:00.000Z', last_order_at: '2024-10-28T00:10:00.000Z' },
  },
};

/** Every sink table, normalized as the batch outputs are and keyed like the output topics. */
async function sinkTables(url: string): Promise<Record<string, Rows>> {
  // One connection per look, closed after: PGlite's folder must not stay open while the CLI's process writes it.
  const db = createKnex(url);
  try {
    const tables: Record<string, Rows> = {};
    for (const transform of transforms) {
      const select = transform.columns.map((column) => (column.type === 'date' ? dateText(db, column.name) : column.name));
      const rows = (await db(`stream_${transform.name}`).select(select)) as Record<string, unknown>[];
      tables[transform.name] = Object.fromEntries(
        rows.map((row) => {
          const normalized = Object.fromEntries(transform.columns.map((column) => [column.name, normalizeValue(column, row[column.name])]));
          return [JSON.stringify(transform.key.map((column) => normalized[column])), normalized];
        }),
      );
    }
    return tables;
  } finally {
    await db.destroy();
  }
}

async function runUntilIdle(database: TestDatabase, prefix: string): Promise<void> {
  const result = await runCli(['stream', 'run', '--group', `${prefix}-g`, '--from-beginning', '--until-idle', '2', '--topic-prefix', prefix, '--brokers', brokers().join(','), '--sink-db', database.url]);
  expect(result.code, `dualrun stream run --sink-db ${database.engine}:\n${result.stderr}`).toBe(0);
}

async function expectSinkToHold(database: TestDatabase, prefix: string, expected: Record<string, Rows>): Promise<void> {
  const tables = await sinkTables(database.url);
  for (const transform of transforms) {
    const rows = tables[transform.name];
    expect(rows, `${database.engine} stream_${transform.name}`).toEqual(expected[transform.name]);
    expect(rows, `${database.engine} stream_${transform.name} vs its output topic`).toEqual(await finalValues(`${prefix}.out.${transform.name}`));
  }
}

/** A contract of every column type, for writing edge values through the sink directly. */
const edgeColumns: Column[] = [
  { name: 'id', type: 'string' },
  { name: 'day', type: 'date' },
  { name: 'at', type: 'timestamp', nullable: true },
  { name: 'amount', type: 'decimal', scale: 2 },
  { name: 'count', type: 'integer' },
];
const edgeValues: StreamTransform = {
  name: 'sink_edge_values',
  key: ['id', 'day'],
  columns: edgeColumns,
  stream: upsertPerKey(shop.from('orders'), () => null), // never run: only the sink sees this contract
};
const counters: StreamTransform = {
  name: 'sink_concurrent',
  key: ['id'],
  columns: [
    { name: 'id', type: 'string' },
    { name: 'round', type: 'integer' },
  ] as Column[],
  stream: upsertPerKey(shop.from('orders'), () => null),
};
const edge = (id: string, day: string, at: string | null, amount: string, count: number) => ({ id, day, at, amount, count });
const record = (row: ReturnType<typeof edge>, value: string | null = JSON.stringify(row)): OutRecord => ({ topic: `edge.out.${edgeValues.name}`, key: JSON.stringify([row.id, row.day]), value });

describe.each(engines)('stream sink on %s', { timeout: 240_000 }, (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase(engine);
    databases.push(database);
  });

  it('upserts every output, keeps case-distinct keys apart, and deletes rows on tombstones', async () => {
    const prefix = uniqueTopic(`ssink-${engine}`);
    await createInputTopics(prefix, 2);

    await publish(prefix, [...handWorkedExample().messages, ...caseTwins()]);
    await runUntilIdle(database, prefix);
    await expectSinkToHold(database, prefix, afterPhaseOne);

    await publish(prefix, phaseTwo());
    await runUntilIdle(database, prefix);
    await expectSinkToHold(database, prefix, afterPhaseTwo);
  });

  it('stores edge values exactly: instants outside 1970-2038 and in a DST gap, extreme decimals and integers', async () => {
    const rows = [
      edge('a', '2024-03-31', '2024-03-31T01:30:00.000Z', '-12.34', 9_007_199_254_740_991), // 02:30 Stockholm does not exist; the instant does
      edge('a', '2024-04-01', '2039-01-01T00:00:00.001Z', '9999999999999999.99', -1), // past TIMESTAMP's 2038 limit
      edge('A', '2024-03-31', '1969-12-31T23:59:59.999Z', '0.00', 0), // before TIMESTAMP's 1970 start; "A" is not "a"
      edge('b', '1900-01-01', null, '0.01', 1),
    ];
    const sink = await createSink(database.url, [edgeValues]);
    try {
      await sink.write(rows.map((row) => record(row)));
      // A second batch: one row updated, one deleted.
      await sink.write([record({ ...rows[0]!, amount: '12.34' }), record(rows[3]!, null)]);
    } finally {
      await sink.close();
    }
    const db = createKnex(database.url);
    try {
      const select = edgeColumns.map((column) => (column.type === 'date' ? dateText(db, column.name) : column.name));
      const stored = (await db(`stream_${edgeValues.name}`).select(select)) as Record<string, unknown>[];
      const keyed = (list: Record<string, unknown>[]) => Object.fromEntries(list.map((row) => [`${String(row.id)}|${String(row.day)}`, row]));
      const normalized = stored.map((row) => Object.fromEntries(edgeColumns.map((column) => [column.name, normalizeValue(column, row[column.name])])));
      expect(keyed(normalized), engine).toEqual(keyed([{ ...rows[0]!, amount: '12.34' }, rows[1]!, rows[2]!]));
    } finally {
      await db.destroy();
    }
  });

  it('takes the concurrent batches of several partitions without deadlocks', async () => {
    // As the runner does: one sink, one batch per partition in flight at a time, partitions in parallel.
    // Four "partitions" own interleaved keys, in no particular order within a batch (as a batch's
    // outputs come); each batch upserts some keys and deletes others (tombstones).
    const partitions = 4;
    const keys = 2000;
    const rounds = 5;
    const id = (k: number) => `k${String(k).padStart(5, '0')}`;
    const sink = await createSink(database.url, [counters]);
    try {
      await Promise.all(
        Array.from({ length: partitions }, async (_, partition) => {
          for (let round = 0; round < rounds; round += 1) {
            const batch: OutRecord[] = [];
            const owned = Array.from({ length: keys / partitions }, (_, index) => partition + index * partitions);
            for (const k of owned.sort((a, b) => ((a * 7919) % keys) - ((b * 7919) % keys))) {
              batch.push({ topic: `c.out.${counters.name}`, key: JSON.stringify([id(k)]), value: (k + round) % 3 === 0 ? null : JSON.stringify({ id: id(k), round }) });
            }
            await sink.write(batch);
          }
        }),
      );
    } finally {
      await sink.close();
    }
    const db = createKnex(database.url);
    try {
      const stored = ((await db(`stream_${counters.name}`).select('id', 'round')) as { id: string; round: unknown }[]).map((row) => `${row.id}:${Number(row.round)}`).sort();
      const expected = Array.from({ length: keys }, (_, k) => k).filter((k) => (k + rounds - 1) % 3 !== 0).map((k) => `${id(k)}:${rounds - 1}`);
      expect(stored, engine).toEqual(expected);
    } finally {
      await db.destroy();
    }
  });

  it('refuses a batch for a table that does not match the contract, naming the table, in a readable message', async () => {
    const mismatched: StreamTransform = { ...counters, name: 'sink_mismatched' };
    const db = createKnex(database.url);
    try {
      await db.schema.createTable(`stream_${mismatched.name}`, (table) => table.string('id', 64).primary()); // no "round"
    } finally {
      await db.destroy();
    }
    const sink = await createSink(database.url, [mismatched]);
    try {
      const batch = Array.from({ length: 1200 }, (_, k): OutRecord => ({ topic: `m.out.${mismatched.name}`, key: JSON.stringify([`k${k}`]), value: JSON.stringify({ id: `k${k}`, round: 1 }) }));
      const error = await sink.write(batch).then(() => undefined, (thrown: unknown) => thrown);
      expect(error, engine).toBeInstanceOf(SinkError);
      const sinkError = error as SinkError;
      expect(sinkError.table).toBe(`stream_${mismatched.name}`);
      expect(sinkError.message).toMatch(/^writing 1200 rows \(one batch, one transaction\) failed: .*round/s);
      expect(sinkError.message.length, 'a 500-row statement is not repeated in full').toBeLessThan(700);
      expect(sinkError.hint).toContain('drop it to let dualrun recreate it');
    } finally {
      await sink.close();
    }
  });

  it('creates its table once whoever starts first, and every instance then writes to it', async () => {
    const raced: StreamTransform = { ...counters, name: 'sink_raced' };
    const write = (sink: Awaited<ReturnType<typeof createSink>>, instance: number) => sink.write([{ topic: `r.out.${raced.name}`, key: JSON.stringify([`i${instance}`]), value: JSON.stringify({ id: `i${instance}`, round: instance }) }]);
    if (engine === 'pglite') {
      // PGlite is one process's database (two sinks on one folder is not a thing to support): the instances
      // start one after another, the later ones finding the table there.
      for (const instance of [1, 2, 3]) {
        const sink = await createSink(database.url, [raced]);
        try {
          await write(sink, instance);
        } finally {
          await sink.close();
        }
      }
    } else {
      // Started together, they race to create the table; each must come up and write.
      const sinks = await Promise.all([createSink(database.url, [raced]), createSink(database.url, [raced]), createSink(database.url, [raced])]);
      try {
        await Promise.all(sinks.map((sink, index) => write(sink, index + 1)));
      } finally {
        await Promise.all(sinks.map((sink) => sink.close()));
      }
    }
    const db = createKnex(database.url);
    try {
      expect(await db.schema.hasTable(`stream_${raced.name}`), engine).toBe(true);
      const rows = ((await db(`stream_${raced.name}`).select('id', 'round')) as { id: string; round: unknown }[]).map((row) => `${row.id}:${Number(row.round)}`).sort();
      expect(rows, engine).toEqual(['i1:1', 'i2:2', 'i3:3']);
    } finally {
      await db.destroy();
    }
  });
});
