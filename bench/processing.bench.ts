/**
 * Our processing alone (issue #15 goal 3: ≥ 100k events/s, ≤ 10 µs per event): the BENCH_EVENTS
 * (default 1M) generated shop events, partitioned over 4 partitions as kafkajs' default partitioner
 * would, fed in decoded batches of BENCH_BATCH (default 2000) messages straight to the streaming
 * tasks — every event to SharedState (the process-wide tables and watermarks, as the reader does), a
 * table entity's batches through the dead-letter check its owning task does, the orders' batches to
 * their SourceTask, each batch's partials to the AggregateTask of their partition — all five shop
 * transformations, in process, no Kafka. The reference, measured in the same run over the same
 * messages, is the floor any processing of them pays: the value's JSON.parse and one Map set per key.
 * Median of BENCH_RUNS (default 3) runs, each from empty state; the phases' shares are printed too.
 */
import { Partitioners } from 'kafkajs';
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { shop, shopTransforms } from '../src/domains/shop/index.ts';
import { decode } from '../src/model/codec.ts';
import { AggregateTask } from '../streaming/tasks/aggregate-task.ts';
import { TopicNames, type OutRecord } from '../streaming/tasks/model.ts';
import { SourceTask } from '../streaming/tasks/source-task.ts';
import { SharedState } from '../streaming/tasks/tables.ts';
import { generateShop } from '../test/support/generate.ts';
import type { TestMessage } from '../test/support/events.ts';
import { printFigure } from './report.ts';

const events = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const batchSize = Number(process.env.BENCH_BATCH ?? 2000);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const PARTITIONS = 4;
const topics = new TopicNames('bench', 'g');

type Offset = TestMessage & { offset: string };
interface Batch {
  entity: string;
  topic: string;
  partition: number;
  messages: Offset[];
  /** Index (in arrival order) of the batch's last message: the reader has read every message up to it before the batch is processed. */
  upTo: number;
}

/** The input as kafkajs would hand it over: per topic and partition, in arrival order, in batches. */
function batchesOf(messages: TestMessage[]): Batch[] {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  const open = new Map<string, Batch>();
  const batches: Batch[] = [];
  const offsets = new Map<string, number>();
  for (const [index, message] of messages.entries()) {
    const topic = `bench.${shop.entity(message.entity)!.topic}`;
    const partition = partitioner({ topic, partitionMetadata, message });
    const id = `${topic}:${partition}`;
    const offset = offsets.get(id) ?? 0;
    offsets.set(id, offset + 1);
    let batch = open.get(id);
    if (!batch) open.set(id, (batch = { entity: message.entity, topic, partition, messages: [], upTo: index }));
    batch.messages.push({ ...message, offset: String(offset) });
    batch.upTo = index;
    if (batch.messages.length === batchSize) {
      batches.push(batch);
      open.delete(id);
    }
  }
  batches.push(...open.values());
  return batches;
}

const toRaw = (record: OutRecord) => ({ key: Buffer.from(record.key), value: record.value === null ? null : Buffer.from(record.value), timestamp: '0' });

interface Run {
  seconds: number;
  /** CPU time the process spent meanwhile (every thread: the collector's too): on a shared machine, the figure the load moves least. */
  cpuSeconds: number;
  phases: Record<'shared' | 'tables' | 'source' | 'aggregate', number>;
  /** Records the tasks returned, per kind: what the job would write. */
  records: Record<'outputs' | 'changelog' | 'partials' | 'other', number>;
  /** Heap the state holds once the run is over (after a full GC), and its keys. */
  stateBytes: number;
  keys: number;
  /** Restoring fresh source tasks as the runner does (their input read again, with the late decisions their changelog kept), and the keys restored. */
  restoreSeconds: number;
  restoredKeys: number;
}

/** One run from empty state: every batch as the runner would process it. */
function ours(messages: TestMessage[], batches: Batch[]): Run {
  const shared = new SharedState(shop, shopTransforms);
  const sources = new Map<number, SourceTask>();
  const aggregates = new Map<number, AggregateTask>();
  const phases = { shared: 0, tables: 0, source: 0, aggregate: 0 };
  const records = { outputs: 0, changelog: 0, partials: 0, other: 0 };
  // Per orders partition, the changelog as compaction leaves it: the last record per key.
  const changelogs = new Map<number, Map<string, string | null>>();
  const count = (out: OutRecord[]) => {
    for (const record of out) {
      if (record.topic === topics.repartition) records.partials += 1;
      else if (record.topic.startsWith('bench.out.')) records.outputs += 1;
      else if (record.topic.endsWith('-changelog')) {
        records.changelog += 1;
        let changelog = changelogs.get(record.partition!);
        if (!changelog) changelogs.set(record.partition!, (changelog = new Map()));
        changelog.set(record.key, record.value);
      } else records.other += 1;
    }
  };
  const heapBefore = heapUsed();
  const timed = <T>(phase: keyof typeof phases, work: () => T): T => {
    const start = process.hrtime.bigint();
    const result = work();
    phases[phase] += Number(process.hrtime.bigint() - start) / 1e9;
    return result;
  };
  let observed = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const batch of batches) {
    const entity = shop.entity(batch.entity)!;
    // The runner's reader catches up with every input topic before a source batch (tables pinned to
    // arrival need every version that arrived before): here, every message up to the batch's last.
    timed('shared', () => {
      for (; observed <= batch.upTo; observed += 1) shared.observe(shop.entity(messages[observed]!.entity)!, messages[observed]!);
    });
    if (entity.name !== 'orders') {
      records.other += timed('tables', () => batch.messages.filter((message) => !decode(shop, entity, message).ok).length);
      continue;
    }
    let task = sources.get(batch.partition);
    if (!task) {
      sources.set(batch.partition, (task = new SourceTask(shop, entity, shopTransforms, shared.env, topics, PARTITIONS)));
      // The job's inputs keep every event (retention.ms -1): the input is the task's changelog.
      if (task.decideStateIn(0n, true) !== 'input') throw new Error('a fresh task on an input that keeps everything keeps its state in it');
    }
    const sourceTask = task;
    const out = timed('source', () => sourceTask.process(batch.topic, batch.partition, batch.messages).records);
    count(out);
    const byPartition = new Map<number, OutRecord[]>();
    for (const record of out) {
      if (record.topic !== topics.repartition) continue;
      const partials = byPartition.get(record.partition!);
      if (partials) partials.push(record);
      else byPartition.set(record.partition!, [record]);
    }
    for (const [partition, partials] of byPartition) {
      let aggregate = aggregates.get(partition);
      if (!aggregate) aggregates.set(partition, (aggregate = new AggregateTask(shopTransforms, topics)));
      const aggregateTask = aggregate;
      // The partials' decoding (Buffer → JSON) is stage two's own work, as in the runner.
      const raw = partials.map(toRaw);
      count(timed('aggregate', () => aggregateTask.process(raw).records));
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  // A restart: fresh source tasks restored as the runner restores them (the tables are caught up, as
  // the runner has them before it restores): the changelog's marker and late decisions, then the
  // task's input read again up to where it stopped. Each must hold the very partials it held.
  const restoreStart = process.hrtime.bigint();
  let restoredKeys = 0;
  for (const [partition, changelog] of changelogs) {
    const restored = new SourceTask(shop, shop.entity('orders')!, shopTransforms, shared.env, topics, PARTITIONS);
    for (const [key, value] of changelog) restored.restore(key, value);
    if (restored.decideStateIn(1n, true) !== 'input') throw new Error(`partition ${partition}: its changelog has no marker`);
    for (const batch of batches) if (batch.entity === 'orders' && batch.partition === partition) for (const message of batch.messages) restored.replay(message);
    restored.finishReplay();
    restoredKeys += restored.size.keys;
    if (JSON.stringify(restored.snapshot(partition)) !== JSON.stringify(sources.get(partition)!.snapshot(partition))) throw new Error(`partition ${partition} restored to other partials`);
  }
  const restoreSeconds = Number(process.hrtime.bigint() - restoreStart) / 1e9;
  changelogs.clear();
  let keys = 0;
  // Counted as the stream bench counts them: source keys (stage one) + output keys (stage two).
  for (const task of sources.values()) keys += task.size.keys;
  for (const task of aggregates.values()) keys += task.size.keys;
  // Read while the tasks are still referenced: what their state (and SharedState's tables) holds.
  const stateBytes = heapUsed() - heapBefore;
  if (sources.size === 0 || shared.size.windows === undefined) throw new Error('nothing processed');
  return { seconds, cpuSeconds, phases, records, stateBytes, keys, restoreSeconds, restoredKeys };
}

/** The floor: each value parsed once and one Map set per key — what any processing of these messages costs. */
function floor(batches: Batch[]): { seconds: number; cpuSeconds: number } {
  const state = new Map<string, unknown>();
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (const batch of batches) for (const message of batch.messages) state.set(message.key.toString(), message.value === null ? null : JSON.parse(message.value.toString('utf8')));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  if (state.size === 0) throw new Error('no keys');
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
function heapUsed(): number {
  collect();
  return process.memoryUsage().heapUsed;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const messages = generateShop({ events, seed: 1 });
const batches = batchesOf(messages);
console.log(`processing bench: ${messages.length} events (BENCH_EVENTS=${events}), ${PARTITIONS} partitions, batches of ≤ ${batchSize}, ${runs} runs, load average ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
const results: Run[] = [];
const floors: { seconds: number; cpuSeconds: number }[] = [];
for (let run = 0; run < runs; run += 1) {
  floors.push(floor(batches));
  const result = ours(messages, batches);
  results.push(result);
  const phases = Object.entries(result.phases).map(([phase, seconds]) => `${phase} ${((seconds / result.seconds) * 100).toFixed(0)} %`);
  const perRecord = Object.entries(result.records).map(([kind, records]) => `${kind} ${(records / messages.length).toFixed(3)}`);
  const written = Object.values(result.records).reduce((total, records) => total + records, 0);
  const perEvent = (seconds: number) => `${((seconds / messages.length) * 1e6).toFixed(2)} µs`;
  console.log(`run ${run + 1}: ${(messages.length / result.seconds).toFixed(0)} events/s (${phases.join(', ')}), floor ${(messages.length / floors[run]!.seconds).toFixed(0)} events/s, load average ${loadavg()[0]!.toFixed(2)}`);
  console.log(`  CPU time per event: ours ${perEvent(result.cpuSeconds)}, floor ${perEvent(floors[run]!.cpuSeconds)} (wall: ${perEvent(result.seconds)}, ${perEvent(floors[run]!.seconds)})`);
  console.log(`  ${(written / messages.length).toFixed(3)} records per input event (${perRecord.join(', ')}); state ${(result.stateBytes / 2 ** 20).toFixed(0)} MiB of heap for ${result.keys} keys → ${(result.stateBytes / result.keys).toFixed(0)} bytes per key`);
  console.log(`  restore of ${result.restoredKeys} source keys by reading their ${events} events' input again (the input topic as changelog, late decisions from the changelog): ${result.restoreSeconds.toFixed(1)} s, in process (the Kafka read of the input adds to it)`);
}
const oursSeconds = median(results.map((result) => result.seconds));
const floorSeconds = median(floors.map((floor) => floor.seconds));
printFigure({ name: 'our processing alone, in process (5 shop transformations)', ours: messages.length / oursSeconds, reference: messages.length / floorSeconds, referenceName: 'JSON.parse + Map set per key', unit: 'events/s', kind: 'rate', goal: '≥ 100,000 events/s' });
printFigure({ name: 'our processing alone, per event', ours: (oursSeconds / messages.length) * 1e6, reference: (floorSeconds / messages.length) * 1e6, referenceName: 'JSON.parse + Map set per key', unit: 'µs/event', kind: 'time', goal: '≤ 10 µs' });
