/**
 * Replay throughput, each beside its reference measured in the same run on the same data:
 * - into PostgreSQL: `replay` (events folded per batch, new rows by COPY, multi-row upserts/deletes, 5000
 *   events per transaction, a batch encoded while the one before it is applied) vs PostgreSQL's own `COPY` (psql \copy) of the rows those events leave behind;
 * - into Kafka: `replay` (kafkajs, three idempotent producers by partition, acks=all, one request in flight
 *   each) vs Kafka's own
 *   `ProducerPerformance` (Java, acks=all, idempotence on) sending as many records of the same average size.
 * Both rates are events/s. BENCH_EVENTS sets the size (default 1 000 000; the generator makes ~2.5 events per order),
 * BENCH_PARTS the parts (default both: postgres,kafka), BENCH_BATCH_SIZE replay's batch size (default replay's own).
 * Needs PostgreSQL (DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres), psql, Java and a broker (KAFKA_BROKERS).
 */
import '../src/kafkajs-fixes.ts';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { readEnvConfig } from '../src/config.ts';
import { connectKnex } from '../src/db.ts';
import { shop, shopTransforms } from '../src/domains/shop/index.ts';
import { generateScenario } from '../src/domains/shop/generate.ts';
import { silentLogger } from '../src/logger.ts';
import { toMessage } from '../src/model/codec.ts';
import { replay } from '../src/replay/replay.ts';
import { createDomainSchema } from '../src/replay/schema.ts';
import { loadScenario } from '../src/scenario/load.ts';
import { foldLegacyState, type LegacyState } from '../test/support/shop-legacy-fold.ts';
import { findJava, provisionKafka } from '../streaming/broker/provision.ts';
import { printFigure, timeIt } from './report.ts';

const target = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const parts = (process.env.BENCH_PARTS ?? 'postgres,kafka').split(',');
const batchSize = process.env.BENCH_BATCH_SIZE === undefined ? {} : { batchSize: Number(process.env.BENCH_BATCH_SIZE) };
const partitions = 3;
const env = readEnvConfig();
const brokers = env.kafkaBrokers ?? ['127.0.0.1:9092'];
const adminUrl = env.databaseUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const work = await mkdtemp(join(tmpdir(), 'dualrun-bench-replay-'));
const scenarioDir = join(work, 'scenario');
console.error(`generating ~${target} events…`);
await generateScenario({ out: scenarioDir, orders: Math.round(target / 2.5), customers: Math.max(10, Math.round(target / 50)), seed: 'bench' });
const { seconds: loadSeconds, result: scenario } = await timeIt(() => loadScenario(scenarioDir, { domain: shop, transforms: shopTransforms }));
const events = scenario.events;
console.log(`${events.length} events (${events.filter((event) => event.redelivery).length} redeliveries) loaded and validated in ${loadSeconds.toFixed(1)} s`);

const admin = await connectKnex(adminUrl);
const databases = ['ours', 'copy'].map((kind) => `dualrun_bench_${kind}_${randomUUID().slice(0, 8)}`);
const kafka = new Kafka({ clientId: 'dualrun-bench', brokers, logLevel: logLevel.NOTHING });
const prefix = `bench-${randomUUID().slice(0, 8)}`;
const referenceTopic = `${prefix}.perf`;
try {
  for (const name of databases) await admin.raw(`create database ${name}`);
  const urlOf = (name: string): string => Object.assign(new URL(adminUrl), { pathname: `/${name}` }).toString();

  if (parts.includes('postgres')) await postgresBench(urlOf);
  if (parts.includes('kafka')) await kafkaBench();
} finally {
  for (const name of databases) await admin.raw(`drop database if exists ${name} with (force)`).catch(() => undefined);
  await admin.destroy();
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect().catch(() => undefined);
  const topics = (await kafkaAdmin.listTopics().catch(() => [] as string[])).filter((topic) => topic.startsWith(`${prefix}.`));
  if (topics.length > 0) await kafkaAdmin.deleteTopics({ topics }).catch(() => undefined);
  await kafkaAdmin.disconnect().catch(() => undefined);
  await rm(work, { recursive: true, force: true });
}

/** PostgreSQL: replay vs COPY of the rows the events leave behind. */
async function postgresBench(urlOf: (name: string) => string): Promise<void> {
  const ours = await connectKnex(urlOf(databases[0]!));
  const cpu = process.cpuUsage();
  const replayed = await timeIt(() => replay({ domain: shop, events, db: ours, createSchema: true, logger: silentLogger, ...batchSize }));
  const { user, system } = process.cpuUsage(cpu);
  await ours.destroy();
  const copyDb = await connectKnex(urlOf(databases[1]!));
  await createDomainSchema(copyDb, shop);
  await copyDb.destroy();
  const state = foldLegacyState(events);
  const script = await writeCopyScript(state, work);
  const copied = await timeIt(() => run('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-d', urlOf(databases[1]!), '-f', script]));
  const rows = Object.values(state).reduce((sum, table) => sum + table.length, 0);
  // Node's CPU time tells whether the client or the server is the bottleneck; the load average, what the machine's neighbours took.
  console.log(`PostgreSQL: replay ${replayed.seconds.toFixed(1)} s (Node CPU ${((user + system) / 1e6).toFixed(1)} s); COPY of the ${rows} resulting rows ${copied.seconds.toFixed(1)} s; load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
  printFigure({ name: 'replay → PostgreSQL', ours: events.length / replayed.seconds, reference: events.length / copied.seconds, referenceName: 'psql \\copy of the same rows', unit: 'events/s', kind: 'rate' });
}

/** Kafka: replay vs ProducerPerformance with the same record count and average value size. */
async function kafkaBench(): Promise<void> {
  const kafkaRun = await timeIt(() => replay({ domain: shop, events, kafka: { brokers, topicPrefix: prefix, partitions }, logger: silentLogger }));
  let bytes = 0;
  let values = 0;
  for (const event of events) {
    const value = toMessage(shop, event).message.value;
    if (typeof value === 'string') {
      bytes += Buffer.byteLength(value);
      values += 1;
    }
  }
  const recordSize = Math.round(bytes / values);
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  await kafkaAdmin.createTopics({ waitForLeaders: true, topics: [{ topic: referenceTopic, numPartitions: partitions, replicationFactor: 1 }] });
  await kafkaAdmin.disconnect();
  const jars = await provisionKafka({ cacheDir: env.cacheDir, kafkaHome: env.kafkaHome, logger: silentLogger });
  const java = await findJava();
  const perf = await run(java, [
    '-cp', jars.classpath, 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', referenceTopic, '--num-records', String(events.length), '--record-size', String(recordSize), '--throughput', '-1',
    '--producer-props', `bootstrap.servers=${brokers.join(',')}`, 'acks=all', 'enable.idempotence=true',
  ]);
  const final = perf.split('\n').filter((line) => /records sent/.test(line)).pop() ?? '';
  const referenceRate = Number(/records sent, ([\d.]+) records\/sec/.exec(final)?.[1]);
  if (!Number.isFinite(referenceRate)) throw new Error(`could not read ProducerPerformance's result from:\n${perf}`);
  console.log(`Kafka: replay ${kafkaRun.seconds.toFixed(1)} s, average value ${recordSize} bytes; ProducerPerformance: ${final.trim()}`);
  printFigure({ name: 'replay → Kafka', ours: events.length / kafkaRun.seconds, reference: referenceRate, referenceName: 'kafka ProducerPerformance (same count and record size)', unit: 'events/s', kind: 'rate' });
}

/** CSV files of the final rows and a psql script that \copy-s them in. */
async function writeCopyScript(state: LegacyState, dir: string): Promise<string> {
  const lines: string[] = ['\\timing off'];
  for (const [table, rows] of Object.entries(state) as [keyof LegacyState, Record<string, unknown>[]][]) {
    if (rows.length === 0) continue;
    const columns = Object.keys(rows[0]!);
    const file = join(dir, `${table}.csv`);
    const csv = rows.map((row) => columns.map((column) => csvField(row[column])).join(',')).join('\n');
    await writeFile(file, `${csv}\n`);
    lines.push(`\\copy ${table} (${columns.join(', ')}) from '${file}' with (format csv)`);
  }
  const script = join(dir, 'copy.sql');
  await writeFile(script, `${lines.join('\n')}\n`);
  return script;
}

function csvField(value: unknown): string {
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${command} exited ${code}:\n${output}`))));
  });
}
