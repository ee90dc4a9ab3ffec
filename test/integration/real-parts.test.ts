// Proves each real component the project stands on works here: Kafka (plain and transactional),
// PostgreSQL, MariaDB and PGlite through knex, and DuckDB through @duckdb/node-api.
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inactiveKafkajsFixes } from '../../src/kafkajs-fixes.ts';
import { createTopics, kafkaClient, readMessages, uniqueTopic } from '../support/kafka.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/databases.ts';

describe('Kafka', () => {
  it('round-trips keyed messages through a real broker, in order per partition', async () => {
    const topic = uniqueTopic('roundtrip');
    await createTopics([topic], 3);
    const producer = kafkaClient().producer({ idempotent: true });
    await producer.connect();
    const messages = Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 5}`, value: String(i) }));
    await producer.send({ topic, messages });
    await producer.disconnect();

    const seen = await readMessages(topic, { count: 30 });
    expect(seen.map((m) => Number(m.value!.toString())).sort((a, b) => a - b)).toEqual(messages.map((_, i) => i));
    for (const key of ['k0', 'k1', 'k2', 'k3', 'k4']) {
      const values = seen.filter((m) => m.key!.toString() === key).map((m) => Number(m.value!.toString()));
      expect(values).toEqual([...values].sort((a, b) => a - b));
      expect(new Set(seen.filter((m) => m.key!.toString() === key).map((m) => m.partition)).size).toBe(1);
    }
  });

  it('runs with the read_committed fix installed before kafkajs loaded', () => {
    expect(inactiveKafkajsFixes()).toEqual([]);
  });

  it('shows a read_committed consumer the committed transaction and hides the aborted one', async () => {
    const topic = uniqueTopic('txn');
    await createTopics([topic], 1);
    const producer = kafkaClient().producer({ transactionalId: `txn-${topic}`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ key: 'a', value: 'aborted-1' }, { key: 'a', value: 'aborted-2' }] });
    await aborted.abort();
    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ key: 'c', value: 'committed-1' }, { key: 'c', value: 'committed-2' }] });
    await committed.commit();
    await producer.disconnect();

    const visible = await readMessages(topic, { count: 2, isolation: 'read_committed' });
    expect(visible.map((m) => m.value!.toString())).toEqual(['committed-1', 'committed-2']);
    // The aborted records are in the log all the same: read_uncommitted sees all four.
    const everything = await readMessages(topic, { count: 4, isolation: 'read_uncommitted' });
    expect(everything.map((m) => m.value!.toString()).sort()).toEqual(['aborted-1', 'aborted-2', 'committed-1', 'committed-2']);
  });
});

describe.each(engines)('knex on %s', (engine) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await freshDatabase(engine);
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('creates a table, writes in a transaction and reads exact decimals back', async () => {
    const { db } = database;
    await db.schema.createTable('amounts', (table) => {
      table.string('id').primary();
      table.decimal('amount', 18, 4).notNullable();
    });
    await db.transaction(async (trx) => {
      await trx('amounts').insert([{ id: 'a', amount: '0.1000' }, { id: 'b', amount: '0.2000' }]);
    });
    const [row] = await db('amounts').sum({ total: 'amount' });
    // Every engine's driver hands decimals back as strings; the value must be exact, never 0.30000000000000004.
    expect(Number(row!.total)).toBe(0.3);
    expect(String(row!.total)).toMatch(/^0\.3(0*)$/);
  });
});

describe('DuckDB', () => {
  it('answers a query through @duckdb/node-api', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll('select sum(x)::bigint as total, count(*) as n from range(1, 101) t(x)');
    expect(reader.getRowObjectsJS()).toEqual([{ total: 5050n, n: 100n }]);
    connection.closeSync();
  });
});
