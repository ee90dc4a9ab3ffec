/**
 * Streaming benchmark (BENCH_EVENTS generated events, default 1M, on 4 partitions):
 *  1. end-to-end events/s of `dualrun stream run` (all five transformations, exactly-once, in a child
 *     process: first batch → last commit) beside Kafka's own ConsumerPerformance and a bare kafkajs
 *     eachBatch loop reading the same input topics in the same run (both for information: the job stays on
 *     kafkajs), and beside the Kafka work the job cannot avoid, done bare with kafkajs: the same input read
 *     and as many records as the job wrote (outputs, changelog, repartition, late) written back in one
 *     transaction per batch and partition with the offsets — the ratio to it is the cost of our processing
 *     alone (issue #15 goal 1: ≥ 0.8×); and the records written per input event (goal 2: ≤ 2.0);
 *  2. resident memory of the job process with its state (source keys, event ids, aggregates) at the end of
 *     1 (goal 4: ≤ 600 bytes per key);
 *  3. two instances in one group on a copy of the input: their events/s (first batch of either → last
 *     commit of either) beside one instance's (goal 6: ≥ 1.4×), and whether their outputs equal its;
 *  4. p50/p99 event-to-output latency at each steady rate in BENCH_RATES (default 5000) events/s for
 *     BENCH_LATENCY_SECONDS (default 60): send time of an order → arrival of its orders_enriched row
 *     (read committed), beside the bare produce → consume latency of the same input (goal 5: p99 ≤ 250 ms,
 *     and every order sent reaches the output).
 * Parts 1–3 run BENCH_RUNS times (default 3), each on topics of its own, and each figure is printed from
 * the run whose ratio is the median, beside that run's reference; part 1 also prints the I/O of the job's
 * design done bare (its second read of every input: the ceiling of goal 1). Each part deletes its topics
 * and consumer groups when it is done.
 * Needs KAFKA_BROKERS (or a broker from `dualrun kafka start`) and the Kafka jars (provisionKafka).
 */
import '../src/kafkajs-fixes.ts';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Kafka, Partitioners, logLevel, type Batch, type ConsumerConfig } from 'kafkajs';
import { readEnvConfig } from '../src/config.ts';
import { shop, shopTransforms } from '../src/domains/shop/index.ts';
import { silentLogger } from '../src/logger.ts';
import { topicOf } from '../src/model/codec.ts';
import { provisionKafka } from '../streaming/broker/provision.ts';
import type { RunMetrics } from '../streaming/runtime/runner.ts';
import { generateShop } from '../test/support/generate.ts';
import { readToEnd } from '../streaming/runtime/reader.ts';
import { fetchTopicOffsets } from '../src/kafka-client.ts';
import type { TestMessage } from '../test/support/events.ts';
import { printFigure } from './report.ts';

const env = readEnvConfig();
const brokers = env.kafkaBrokers ?? ['127.0.0.1:9092'];
const events = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const rates = (process.env.BENCH_RATES ?? '5000').split(',').map(Number);
const latencySeconds = Number(process.env.BENCH_LATENCY_SECONDS ?? 60);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const kafka = new Kafka({ clientId: 'dualrun-bench', brokers, logLevel: logLevel.NOTHING });
const bin = fileURLToPath(new URL('../bin/dualrun.js', import.meta.url));
const ENTITIES = shop.entities.map((entity) => entity.name);
const topicName = (entity: string, prefix: string): string => topicOf(shop.entity(entity)!, prefix);

/**
 * Deletes what one part of the bench left on the brokers: its topics (millions of records on a
 * user's cluster) and its consumer groups. Before the latency part too, so that it measures a broker
 * that is not compacting the earlier parts' outputs (both sides of that figure were slower for it).
 */
async function removeRun(prefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${prefix}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics });
    const groups = (await admin.listGroups()).groups.map((group) => group.groupId).filter((groupId) => groupId.includes(prefix));
    // Best effort: a group whose member is still leaving refuses, and a group is only metadata (its offsets expire).
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

async function createInputs(prefix: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: ENTITIES.map((entity) => ({ topic: topicName(entity, prefix), numPartitions: 4, configEntries: [{ name: 'retention.ms', value: '-1' }] })) });
  await admin.disconnect();
}

async function publish(prefix: string, messages: TestMessage[]): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  // One request at a time: kafkajs does not keep concurrent sendBatch calls in call order, and with
  // eight in flight an order's delete landed below its placement in a partition (a different input per
  // copy, so one instance's and two instances' outputs differed on ~300 orders for that reason alone).
  for (let start = 0; start < messages.length; start += 5000) {
    const byTopic = new Map<string, Omit<TestMessage, 'entity'>[]>();
    for (const { entity, ...message } of messages.slice(start, start + 5000)) {
      const topic = topicName(entity, prefix);
      if (!byTopic.has(topic)) byTopic.set(topic, []);
      byTopic.get(topic)!.push(message);
    }
    await producer.sendBatch({ topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })) });
  }
  await producer.disconnect();
}

function runJob(prefix: string, untilIdle: number): { done: Promise<RunMetrics>; kill: () => void } {
  // Two jobs of one prefix are two instances of one group.
  const child = spawn(process.execPath, [bin, 'stream', 'run', '--json', '--group', `${prefix}-job`, '--from-beginning', '--topic-prefix', prefix, '--brokers', brokers.join(','), '--until-idle', String(untilIdle)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<RunMetrics>((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').pop()!) as RunMetrics) : reject(new Error(`stream run exited ${code}: ${stderr.slice(-2000)}`)))),
  );
  return { done, kill: () => child.kill('SIGTERM') };
}

async function consumerPerformance(prefix: string, total: number): Promise<number> {
  const jars = await provisionKafka({ cacheDir: env.cacheDir, kafkaHome: env.kafkaHome, logger: silentLogger });
  const args = ['-cp', jars.classpath, 'org.apache.kafka.tools.ConsumerPerformance', '--bootstrap-server', brokers.join(','), '--include', `${prefix.replace(/[.-]/g, '\\$&')}\\.(${shop.entities.map((entity) => entity.topic.replace(/[.-]/g, '\\$&')).join('|')})`, '--num-records', String(total), '--group', `${prefix}-perf`, '--timeout', '120000'];
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`ConsumerPerformance exited ${code}: ${text.slice(-2000)}`))));
  });
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const line = output.trim().split('\n').find((row) => /^\d{4}-\d\d-\d\d/.test(row.trim()));
  const fields = line?.split(',').map((field) => field.trim()) ?? [];
  const fetchRate = Number(fields[9]);
  if (!Number.isFinite(fetchRate)) throw new Error(`cannot read ConsumerPerformance output:\n${output}`);
  return fetchRate;
}

/** Reads the input topics from the beginning in a fresh group, each batch through `work`; returns events/s from the first batch to the `total`th event. */
async function consumeInputs(prefix: string, total: number, config: Partial<ConsumerConfig>, work: (batch: Batch) => Promise<void>): Promise<number> {
  const consumer = kafka.consumer({ groupId: `${prefix}-bare-${randomUUID()}`, maxBytesPerPartition: 4 << 20, ...config });
  await consumer.connect();
  await consumer.subscribe({ topics: ENTITIES.map((entity) => topicName(entity, prefix)), fromBeginning: true });
  let seen = 0;
  let first = 0;
  const seconds = await new Promise<number>((resolve) => {
    void consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 16,
      eachBatch: async ({ batch }) => {
        first ||= Date.now();
        await work(batch);
        seen += batch.messages.length;
        if (seen >= total) resolve((Date.now() - first) / 1000);
      },
    });
  });
  await consumer.disconnect();
  return total / seconds;
}

const bareKafkajs = (prefix: string, total: number): Promise<number> => consumeInputs(prefix, total, {}, async () => undefined);

/**
 * The Kafka I/O floor of the job's design: read the input like the job (read_committed, eachBatch,
 * a transactional producer per input partition) and, per batch, write `recordsPerEvent` records of
 * `recordBytes` per event plus the offsets in one transaction — no decoding, no state, no logic.
 */
async function bareReadProcessWrite(prefix: string, total: number, recordsPerEvent: number, recordBytes: number, before?: (seen: number) => Promise<void>): Promise<number> {
  const group = `${prefix}-floor-${randomUUID().slice(0, 6)}`;
  const sink = `${prefix}.floor-sink`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: sink, numPartitions: 4 }] });
  await admin.disconnect();
  const value = 'x'.repeat(recordBytes);
  const producers = new Map<string, Promise<ReturnType<typeof kafka.producer>>>();
  const producerFor = (topic: string, partition: number) => {
    const id = `${group}-${topic}-${partition}`;
    if (!producers.has(id)) {
      const producer = kafka.producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      producers.set(id, producer.connect().then(() => producer));
    }
    return producers.get(id)!;
  };
  let seen = 0;
  let written = 0;
  const rate = await consumeInputs(prefix, total, { groupId: group, readUncommitted: false, maxWaitTimeInMs: 200 }, async (batch) => {
    const producer = await producerFor(batch.topic, batch.partition);
    seen += batch.messages.length;
    await before?.(seen);
    const messages = Array.from({ length: Math.max(0, Math.round(seen * recordsPerEvent) - written) }, (_, index) => ({ key: `${batch.partition}-${written + index}`, value }));
    written += messages.length;
    const transaction = await producer.transaction();
    for (let start = 0; start < messages.length; start += 2000) await transaction.send({ topic: sink, acks: -1, messages: messages.slice(start, start + 2000) });
    await transaction.sendOffsets({ consumerGroupId: group, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }] }] });
    await transaction.commit();
  });
  await Promise.all([...producers.values()].map(async (producer) => (await producer).disconnect()));
  return rate;
}

/**
 * The Kafka I/O the job's design does, bare: besides its group's read → transactional write, the job
 * reads every input topic a second time, whole, for what it shares across partitions (the joined
 * tables and the event-time watermark, streaming/tasks/tables.ts). Both at once in this process and in
 * step, as in the job: a batch waits until the second read has read as many events (the job's batch
 * waits for the reader to catch up).
 */
async function bareDesignIO(prefix: string, total: number, recordsPerEvent: number, recordBytes: number): Promise<number> {
  let read = 0;
  const waiters: (() => void)[] = [];
  const secondRead = consumeInputs(prefix, total, { readUncommitted: false, maxBytes: 16 << 20, maxWaitTimeInMs: 100 }, async (batch) => {
    read += batch.messages.length;
    for (const wake of waiters.splice(0)) wake();
  });
  const readUpTo = async (seen: number) => {
    while (read < Math.min(seen, total)) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const [rate] = await Promise.all([bareReadProcessWrite(prefix, total, recordsPerEvent, recordBytes, readUpTo), secondRead]);
  return rate;
}

async function latency(messages: TestMessage[], rate: number): Promise<{ ours: number[]; bare: number[]; sent: number }> {
  const prefix = `bench-lat-${randomUUID().slice(0, 8)}`;
  await createInputs(prefix);
  const tables = messages.filter((m) => m.entity !== 'orders');
  await publish(prefix, tables);
  const job = runJob(prefix, 3600);
  // Per order: when it was first sent, and its first arrival on each side. A redelivery of an order
  // (same key, sent later) is neither a second order nor a delay of the first: counted by key, once.
  const sentAt = new Map<string, number>();
  const ours: number[] = [];
  const bare: number[] = [];
  const watch = (topic: string, into: number[], keyOf: (key: string) => string, committed: boolean) => {
    const seen = new Set<string>();
    const consumer = kafka.consumer({ groupId: `${prefix}-watch-${randomUUID()}`, readUncommitted: !committed, maxWaitTimeInMs: 10 });
    return {
      consumer,
      start: async () => {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          eachBatch: async ({ batch }) => {
            const now = Date.now();
            for (const message of batch.messages) {
              const key = keyOf(message.key!.toString());
              const sent = sentAt.get(key);
              if (sent === undefined || message.value === null || seen.has(key)) continue;
              seen.add(key);
              into.push(now - sent);
            }
          },
        });
      },
    };
  };
  // The job creates its output topics when it starts: wait for them before watching.
  const admin = kafka.admin();
  await admin.connect();
  while (!(await admin.listTopics()).includes(`${prefix}.out.orders_enriched`)) await new Promise((resolve) => setTimeout(resolve, 200));
  await admin.disconnect();
  const outputs = watch(`${prefix}.out.orders_enriched`, ours, (key) => (JSON.parse(key) as string[])[0]!, true);
  const inputs = watch(topicName('orders', prefix), bare, (key) => key, false);
  await outputs.start();
  await inputs.start();
  await new Promise((resolve) => setTimeout(resolve, 8000)); // job started, tasks restored
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const placed = messages.filter((m) => m.entity === 'orders' && m.value !== null && m.headers['dualrun-event-type'] === 'OrderPlaced');
  const perTick = Math.max(1, Math.round(rate / 10));
  const ticks = Math.min(Math.floor(placed.length / perTick), latencySeconds * 10);
  const started = Date.now();
  for (let tick = 0; tick < ticks; tick += 1) {
    const slice = placed.slice(tick * perTick, (tick + 1) * perTick);
    const now = Date.now();
    for (const message of slice) if (!sentAt.has(message.key.toString())) sentAt.set(message.key.toString(), now);
    void producer.send({ topic: topicName('orders', prefix), messages: slice.map(({ entity: _entity, ...message }) => message) });
    const wait = started + (tick + 1) * 100 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  await new Promise((resolve) => setTimeout(resolve, 5000));
  await producer.disconnect();
  await outputs.consumer.disconnect();
  await inputs.consumer.disconnect();
  job.kill();
  await job.done.catch(() => undefined);
  await removeRun(prefix);
  return { ours, bare, sent: sentAt.size };
}

/** Final value per key of an output topic (read committed; a tombstone removes the key), as JSON text. */
async function finalValues(topic: string): Promise<Map<string, string>> {
  const admin = kafka.admin();
  await admin.connect();
  const result = new Map<string, string>();
  try {
    const partitions = (await fetchTopicOffsets(admin, topic)).map(({ partition }) => partition);
    await readToEnd(kafka, admin, topic, new Set(partitions), (_partition, message) => {
      if (message.value === null) result.delete(message.key!.toString());
      else result.set(message.key!.toString(), message.value.toString());
    }, 'dualrun-bench');
  } finally {
    await admin.disconnect();
  }
  return result;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

/** One run of parts 1–3 on fresh topics (removed after it): every figure beside the reference measured in that run. */
interface ThroughputRun {
  perf: number;
  bare: number;
  ours: number;
  floor: number;
  designFloor: number;
  recordsPerEvent: number;
  metrics: RunMetrics;
  keys: number;
  pair: number;
  pairEqual: boolean;
}

async function throughputRun(messages: TestMessage[], run: number): Promise<ThroughputRun> {
  const prefix = `bench-stream-${randomUUID().slice(0, 8)}`;
  await createInputs(prefix);
  await publish(prefix, messages);
  const perf = await consumerPerformance(prefix, messages.length);
  const bare = await bareKafkajs(prefix, messages.length);
  const metrics = await runJob(prefix, 3).done;
  const ours = metrics.processed / ((Date.parse(metrics.lastCommitAt!) - Date.parse(metrics.firstBatchAt!)) / 1000);
  const recordsPerEvent = metrics.recordsSent / metrics.processed;
  const recordBytes = Math.round(metrics.bytesSent / Math.max(1, metrics.recordsSent));
  const floor = await bareReadProcessWrite(prefix, messages.length, recordsPerEvent, recordBytes);
  const designFloor = await bareDesignIO(prefix, messages.length, recordsPerEvent, recordBytes);
  const keys = metrics.state.keys! + metrics.state.aggregateKeys!;

  // Two instances in one group, on a copy of the same input.
  const twoPrefix = `bench-stream2-${randomUUID().slice(0, 8)}`;
  await createInputs(twoPrefix);
  await publish(twoPrefix, messages);
  const instances = await Promise.all([runJob(twoPrefix, 5).done, runJob(twoPrefix, 5).done]);
  const pairSeconds = (Math.max(...instances.map((one) => Date.parse(one.lastCommitAt!))) - Math.min(...instances.map((one) => Date.parse(one.firstBatchAt!)))) / 1000;
  const pairProcessed = instances.reduce((sum, one) => sum + one.processed, 0);
  const differing: string[] = [];
  for (const transform of shopTransforms) {
    const [one, two] = await Promise.all([finalValues(`${prefix}.out.${transform.name}`), finalValues(`${twoPrefix}.out.${transform.name}`)]);
    if (one.size !== two.size || [...one].some(([key, value]) => two.get(key) !== value)) differing.push(transform.name);
  }
  await removeRun(prefix);
  await removeRun(twoPrefix);
  const pair = pairProcessed / pairSeconds;
  const ratio = (value: number) => `${value.toFixed(2)}×`;
  console.log(
    `run ${run}: ours ${ours.toFixed(0)} events/s; bare read → transactional write ${floor.toFixed(0)} (${ratio(ours / floor)}), with the second read ${designFloor.toFixed(0)} (${ratio(ours / designFloor)}; no processing at all: ${ratio(designFloor / floor)}); ` +
      `bare consume ${bare.toFixed(0)}, ConsumerPerformance ${perf.toFixed(0)}; ${recordsPerEvent.toFixed(2)} records per event; RSS ${(metrics.rssBytes / keys).toFixed(0)} bytes per key; ` +
      `two instances ${pair.toFixed(0)} (${ratio(pair / ours)}; ${instances.map((one) => `${one.processed} events on ${one.partitions.length} partitions`).join(', ')}; outputs ${differing.length === 0 ? "equal to one instance's" : `DIFFER in ${differing.join(', ')}`})`,
  );
  return { perf, bare, ours, floor, designFloor, recordsPerEvent, metrics, keys, pair, pairEqual: differing.length === 0 };
}

/**
 * Parts 1–3, printed as medians. A function, so that its million messages are garbage once it returns:
 * the latency part's watchers run in this process and timestamp what they read, and should not share it
 * with a heap that large (after parts 1–3, the bare p99 was 443–610 ms; in a process of its own, 37–50 ms).
 */
async function throughputParts(): Promise<void> {
  const messages = generateShop({ events, seed: 1 });
  console.log(`stream bench: ${messages.length} events (BENCH_EVENTS=${events}), 4 partitions, median of ${runs} runs (BENCH_RUNS), brokers ${brokers.join(',')}`);
  const results: ThroughputRun[] = [];
  for (let run = 1; run <= runs; run += 1) results.push(await throughputRun(messages, run));
  /** The run whose `by` is the median: its figure and reference are printed together, as measured in one run. */
  const medianRun = (by: (result: ThroughputRun) => number): ThroughputRun => [...results].sort((a, b) => by(a) - by(b))[Math.floor(results.length / 2)]!;
  const median = `median of ${runs}`;
  let at = medianRun((result) => result.ours / result.perf);
  printFigure({ name: `stream end-to-end (5 transformations, exactly-once), ${median}`, ours: at.ours, reference: at.perf, referenceName: 'Kafka ConsumerPerformance (fetch.nMsg.sec)', unit: 'events/s', kind: 'rate' });
  at = medianRun((result) => result.ours / result.bare);
  printFigure({ name: `stream end-to-end vs bare kafkajs eachBatch loop, ${median}`, ours: at.ours, reference: at.bare, referenceName: 'bare kafkajs consume', unit: 'events/s', kind: 'rate' });
  at = medianRun((result) => result.ours / result.floor);
  printFigure({ name: `stream end-to-end vs the same Kafka I/O done bare (${at.recordsPerEvent.toFixed(2)} records written per event, transactional), ${median}`, ours: at.ours, reference: at.floor, referenceName: 'bare kafkajs read → transactional write', unit: 'events/s', kind: 'rate', goal: '≥ 0.8×' });
  at = medianRun((result) => result.ours / result.designFloor);
  printFigure({ name: `stream end-to-end vs the Kafka I/O of its design done bare (and the second read of every input, for the shared tables and watermark), ${median}`, ours: at.ours, reference: at.designFloor, referenceName: 'bare kafkajs read → transactional write, with a second bare read', unit: 'events/s', kind: 'rate' });
  at = medianRun((result) => result.designFloor / result.floor);
  console.log(`  with no processing at all, the design's I/O reaches ${(at.designFloor / at.floor).toFixed(2)}× of the bare read → transactional write (${median}): the ceiling of the goal's ratio`);
  at = medianRun((result) => result.recordsPerEvent);
  console.log(`records written per input event: ${at.recordsPerEvent.toFixed(2)} (${median}; goal ≤ 2.0)`);
  at = medianRun((result) => result.metrics.rssBytes / result.keys);
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const { metrics, keys } = at;
  console.log(`resident memory of the job at the end: ${mib(metrics.rssBytes)} MiB with state ${JSON.stringify(metrics.state)} → ${(metrics.rssBytes / keys).toFixed(0)} bytes per key (source keys + aggregate keys = ${keys}; ${median}; goal ≤ 600)`);
  console.log(`  of which V8 heap in use ${mib(metrics.heapUsedBytes)} MiB (${(metrics.heapUsedBytes / keys).toFixed(0)} bytes per key), heap reserved ${mib(metrics.heapTotalBytes)} MiB, Buffers outside the heap ${mib(metrics.externalBytes)} MiB`);
  console.log(`BENCH ${JSON.stringify({ name: 'stream resident memory', rssBytes: metrics.rssBytes, heapUsedBytes: metrics.heapUsedBytes, heapTotalBytes: metrics.heapTotalBytes, externalBytes: metrics.externalBytes, keys, state: metrics.state })}`);
  at = medianRun((result) => result.pair / result.ours);
  printFigure({ name: `two instances in one group, ${median}`, ours: at.pair, reference: at.ours, referenceName: 'one instance', unit: 'events/s', kind: 'rate', goal: '≥ 1.4×' });
  console.log(results.every((result) => result.pairEqual) ? `two instances: outputs equal to one instance's in every run` : `two instances: outputs DIFFER from one instance's in run(s) ${results.flatMap((result, index) => (result.pairEqual ? [] : [index + 1])).join(', ')}`);
}

await throughputParts();

for (const rate of rates) {
  const lat = await latency(generateShop({ events: Math.max(rate * latencySeconds * 1.6, 20_000), seed: 2 }), rate);
  printFigure({ name: `event-to-output latency p50 at ${rate} events/s`, ours: percentile(lat.ours, 50), reference: percentile(lat.bare, 50), referenceName: 'bare produce→consume p50', unit: 'ms', kind: 'time' });
  printFigure({ name: `event-to-output latency p99 at ${rate} events/s`, ours: percentile(lat.ours, 99), reference: percentile(lat.bare, 99), referenceName: 'bare produce→consume p99', unit: 'ms', kind: 'time' });
  const spread = (values: number[]) => [50, 90, 95, 99, 99.9, 100].map((p) => `p${p} ${percentile(values, p)}`).join(', ');
  console.log(`latency at ${rate}/s, in ms: ours ${spread(lat.ours)}; bare ${spread(lat.bare)}`);
  console.log(`latency at ${rate}/s for ${latencySeconds} s: ${lat.ours.length} of the ${lat.sent} orders sent reached the output${lat.ours.length >= lat.sent ? ' (every one)' : ` (${lat.sent - lat.ours.length} did not within 5 s of the end)`}, ${lat.bare.length} the bare consumer; goal p99 ≤ 250 ms`);
}
