/**
 * Change data capture benchmark: BENCH_ROWS (default 100k) rows changed in PostgreSQL (a cluster of the
 * run's own, wal_level=logical) → events out of the streaming job (`stream run --source cdc`, all five
 * shop transformations, in a child process, already running before the first change):
 *  1. end-to-end rows/s (first commit → the last order's order_status_current row out of the job) beside
 *     Debezium's own throughput into Kafka in the same run (first commit → the last change event on the
 *     change topics): the ratio is what the CDC stage and the job cost on top of capture;
 *  2. p50/p99 latency per order: its transaction's commit → its output row (read committed), beside
 *     commit → its change event on the orders change topic.
 * Each order is two rows (the order and its line) written in transactions of BENCH_TX_ORDERS (default 500)
 * orders. Needs KAFKA_BROKERS (or a broker from `dualrun kafka start`), Java, Maven and Debian's initdb.
 */
import '../src/kafkajs-fixes.ts';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { readEnvConfig } from '../src/config.ts';
import { connectKnex } from '../src/db.ts';
import { shop } from '../src/domains/shop/index.ts';
import { silentLogger } from '../src/logger.ts';
import { startCapture, stopCapture } from '../streaming/connect/capture.ts';
import { startThrowawayPostgres } from '../streaming/connect/throwaway-postgres.ts';
import { printFigure } from './report.ts';

const env = readEnvConfig();
const brokers = env.kafkaBrokers ?? ['127.0.0.1:9092'];
const rows = Number(process.env.BENCH_ROWS ?? 100_000);
const perTx = Number(process.env.BENCH_TX_ORDERS ?? 500);
const orders = Math.floor(rows / 2);
const prefix = `bench-cdc-${randomUUID().slice(0, 6)}`;
const kafka = new Kafka({ clientId: 'dualrun-bench', brokers, logLevel: logLevel.NOTHING });
const bin = fileURLToPath(new URL('../bin/dualrun.js', import.meta.url));

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Arrival time (ms) per order id of the first record naming it on `topic`, until `count` orders were seen. */
function watch(topic: string, orderOf: (key: string, value: string | null) => string | undefined, count: number): { arrivals: Map<string, number>; done: Promise<void>; stop: () => Promise<void> } {
  const arrivals = new Map<string, number>();
  // A short fetch wait, or the watcher itself would add up to 5 s to every latency it measures.
  const consumer = kafka.consumer({ groupId: `bench-watch-${randomUUID()}`, maxWaitTimeInMs: 100 });
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const started = (async () => {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const now = Date.now();
        for (const message of batch.messages) {
          const order = orderOf(message.key?.toString() ?? '', message.value?.toString() ?? null);
          if (order !== undefined && !arrivals.has(order)) arrivals.set(order, now);
        }
        if (arrivals.size >= count) finish();
      },
    });
  })();
  return { arrivals, done, stop: async () => { await started; await consumer.disconnect(); } };
}

async function main(): Promise<void> {
  console.log(`cdc benchmark: ${rows} rows (${orders} orders with one line each, ${perTx} orders per transaction) on ${brokers.join(',')}`);
  const pg = await startThrowawayPostgres();
  const capture = await startCapture({ domain: shop, databaseUrl: pg.url, brokers, topicPrefix: prefix, partitions: 3, cacheDir: env.cacheDir, connectUrl: undefined, createSchema: true, logger: silentLogger, progress: (text) => console.log(text) });
  const job = spawn(process.execPath, [bin, 'stream', 'run', '--source', 'cdc', '--topic-prefix', prefix, '--group', `${prefix}-g`, '--from-beginning', '--partitions', '3'], {
    env: { ...process.env, KAFKA_BROKERS: brokers.join(','), DUALRUN_LOG_LEVEL: 'silent' },
    stdio: 'ignore',
  });
  const db = await connectKnex(pg.url);
  try {
    await db('customers').insert({ customer_id: 'C1', name: 'Bench', region: 'north', tier: 'gold', created_at: '2024-06-01T00:00:00Z', updated_at: '2024-06-01T00:00:00Z' });
    await db('products').insert({ product_id: 'P1', name: 'Lamp', category: 'home', price: '10.00', currency: 'EUR', updated_at: '2024-06-01T00:00:00Z' });
    // Give the job time to join its group and the watchers to subscribe: measured from the first order's commit.
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    const captured = watch(`${prefix}.cdc.orders`, (key) => (JSON.parse(key) as { order_id: string }).order_id, orders);
    const out = watch(`${prefix}.out.order_status_current`, (key) => (JSON.parse(key) as unknown[])[0] as string, orders);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const committedAt = new Map<string, number>();
    const start = Date.now();
    for (let first = 0; first < orders; first += perTx) {
      const ids = Array.from({ length: Math.min(perTx, orders - first) }, (_, index) => `B${first + index}`);
      const at = new Date(Date.parse('2024-06-02T00:00:00Z') + first * 1000).toISOString();
      await db.transaction(async (trx) => {
        await trx('orders').insert(ids.map((orderId) => ({ order_id: orderId, customer_id: 'C1', currency: 'EUR', placed_at: at, status: 'placed', created_at: at, updated_at: at })));
        await trx('order_lines').insert(ids.map((orderId) => ({ order_id: orderId, line_no: 1, product_id: 'P1', quantity: 1, unit_price: '10.00', discount_pct: '0.00' })));
      });
      const now = Date.now();
      for (const orderId of ids) committedAt.set(orderId, now);
    }
    console.log(`wrote ${rows} rows in ${((Date.now() - start) / 1000).toFixed(1)} s`);
    await Promise.race([Promise.all([captured.done, out.done]), new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${captured.arrivals.size} orders captured, ${out.arrivals.size} out of the job`)), 1_800_000))]);
    const lastCaptured = Math.max(...captured.arrivals.values());
    const lastOut = Math.max(...out.arrivals.values());
    printFigure({ name: 'cdc end-to-end throughput (rows changed → job outputs)', ours: rows / ((lastOut - start) / 1000), reference: rows / ((lastCaptured - start) / 1000), referenceName: "Debezium's own (rows → change events in Kafka)", unit: 'rows/s', kind: 'rate' });
    const latencies = (arrivals: Map<string, number>): number[] => [...arrivals].map(([order, at]) => at - committedAt.get(order)!);
    for (const q of [0.5, 0.99]) {
      printFigure({ name: `cdc p${q * 100} latency (commit → job output)`, ours: quantile(latencies(out.arrivals), q), reference: quantile(latencies(captured.arrivals), q), referenceName: 'commit → change event in Kafka', unit: 'ms', kind: 'time' });
    }
    await captured.stop();
    await out.stop();
  } finally {
    job.kill('SIGTERM');
    await db.destroy();
    await stopCapture(capture, { keepSlot: false, logger: silentLogger });
    await pg.stop();
  }
}

await main();
process.exit(0);
