/**
 * Stage one of the topology, one task per partition of a source entity's topic (an entity some
 * pipeline reads `from`): dead-letters bad events, then hands each event to the source processor
 * (src/pipeline/processor.ts: dedupe, fold per key, per-key output rows, contributions set into this
 * partition's own aggregate of each output key, late changes). Per-key outputs are upserted straight
 * to their output topics; once per batch the changed output keys' partial aggregates go to the
 * partials topic, where stage two (aggregate-task.ts) combines the partitions' partials — a batch
 * sends one record per output key it touched, not one per source row. Late changes go to
 * `<prefix>.late` with the reason.
 *
 * Where its state is kept (Kafka Streams' source-topic changelog): an input topic that keeps every
 * event is the changelog of what is folded from it, so a task whose input keeps everything writes no
 * state records; restored, it reads its input again up to the committed offset. What a second reading
 * could not give is the late decisions, taken against a watermark that has moved on since: those are
 * the records of its changelog partition (one per late delivery, by offset), with a marker that says the
 * state lives in the input. An input with a finite retention loses events, so there each key's state
 * is one record of the changelog, as before. A task keeps the way it started with (`stateIn`).
 * Pure: no Kafka here; the runner sends what `process` returns in one transaction with the input offsets.
 */
import type { DomainModel, EntityModel } from '../../src/model/domain.ts';
import { decode, type RawMessage } from '../../src/model/codec.ts';
import { FoldedAggregate } from '../../src/pipeline/folded-aggregate.ts';
import { SourceProcessor, splitAggregateId, type ProcessorEnv } from '../../src/pipeline/processor.ts';
import { encodeKey } from '../../src/model/domain.ts';
import { LATE_HEADERS, deadLetter, outputValue, type OutRecord, type SourceCoordinates, type StreamTransform, type TopicNames } from './model.ts';

export interface TaskCounters {
  processed: number;
  duplicates: number;
  deadLetters: number;
  late: number;
}

/**
 * A partials record: key `[transform, outputKey, sourcePartition]`, value the partition's
 * PartialAggregate of that key, or a tombstone once none of the partition's rows contributes. The
 * partition is chosen from `[transform, outputKey]` only, so every partial of one output key meets in
 * one partition; the source partition in the key lets the topic be compacted, so it doubles as the
 * aggregate stage's changelog (Kafka Streams' source-topic changelog). A partial is *set*, never
 * added: reading one twice changes nothing.
 */
export function repartitionKey(transform: string, outputKeyJson: string, sourcePartition: number): string {
  return `[${JSON.stringify(transform)},${outputKeyJson},${sourcePartition}]`;
}

/** The partition of an output key: FNV-1a of `transform|outputKey`, the same in every process. */
export function repartitionPartition(transform: string, outputKeyJson: string, partitions: number): number {
  let hash = 0x811c9dc5;
  const text = `${transform}|${outputKeyJson}`;
  for (let index = 0; index < text.length; index += 1) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return (hash >>> 0) % partitions;
}

/** Every 64 batches the processor's sweep runs (it walks every key). */
const SWEEP_EVERY = 64;

/**
 * Keys of the changelog records that are not a key's state: they start with a NUL, which no encoded
 * entity key does (a single key is a field's text, a composite one a JSON array).
 */
const MARKER_KEY = '\u0000state-in-input';
const LATE_KEY_PREFIX = '\u0000late@';
const NOTHING_LATE: ReadonlySet<string> = new Set();

/**
 * `states`: each key's state is a changelog record. `input`: the input topic is the changelog, and
 * the changelog partition holds only the late decisions and the marker.
 */
export type StateIn = 'states' | 'input';

export class SourceTask {
  readonly processor: SourceProcessor<FoldedAggregate>;
  private sweepCountdown = 0;
  private readonly outputTopics = new Map<StreamTransform, string>();
  /** Set by the runner once the changelog is read (decideStateIn), before the first batch. */
  stateIn: StateIn = 'states';
  /** What the changelog partition held: key states, the marker, late decisions per input offset. */
  private readonly restored = { states: 0, marker: false, lateAt: new Map<string, Set<string>>() };
  private markerWritten = false;
  /** Keys changed by `replay` and not yet compacted. */
  private replayed = new Set<string>();

  constructor(
    private readonly domain: DomainModel,
    readonly entity: EntityModel,
    transforms: readonly StreamTransform[],
    env: ProcessorEnv,
    private readonly topics: TopicNames,
    /** Partitions of the partials topic. */
    private readonly repartitionPartitions: number,
  ) {
    // The job needs each output key's partial, not who contributed what (the comparator does): folded aggregates.
    this.processor = new SourceProcessor(entity, transforms.filter((transform) => transform.stream.source === entity.name), env, { aggregate: (aggregations) => new FoldedAggregate(aggregations) });
  }

  /** Replays one changelog record into the state (or, for a record that is not a key's state, into what the task knows). */
  restore(key: string, value: string | null): void {
    if (key === MARKER_KEY) {
      this.restored.marker = value !== null;
    } else if (key.startsWith(LATE_KEY_PREFIX)) {
      if (value !== null) this.restored.lateAt.set(key.slice(LATE_KEY_PREFIX.length), new Set(JSON.parse(value) as string[]));
    } else {
      this.restored.states += 1;
      this.processor.restore(key, value);
    }
  }

  /**
   * Where this task's state is, from what its changelog partition held: `input` when it was kept there
   * (the marker) or, for a task that never committed, when the input keeps every event; `states` when
   * the changelog holds states or a task that committed kept its state there. `refused` when the state
   * is in the input but the input no longer keeps every event: restoring would miss what it lost.
   */
  decideStateIn(committedOffset: bigint, inputKeepsEverything: boolean): StateIn | 'refused' {
    if (this.restored.states > 0) this.stateIn = 'states';
    else if (this.restored.marker) this.stateIn = 'input';
    else this.stateIn = committedOffset === 0n && inputKeepsEverything ? 'input' : 'states';
    this.markerWritten = this.restored.marker;
    return this.stateIn === 'input' && this.restored.marker && !inputKeepsEverything ? 'refused' : this.stateIn;
  }

  /**
   * Reads one already committed input message again, into the state (stateIn `input`): as `process`
   * did, with the late decisions it took, and nothing sent.
   */
  replay(message: RawMessage & { offset: string }): void {
    const decoded = decode(this.domain, this.entity, message);
    if (!decoded.ok) return; // dead-lettered the first time
    const { event, eventType, arrival, arrivalMs } = decoded;
    const key = encodeKey(this.entity, event.payload);
    this.processor.process(key, eventType, event, arrival, arrivalMs, this.restored.lateAt.get(message.offset) ?? NOTHING_LATE);
    this.replayed.add(key);
    // Kept in their compact form as the reading goes: a million states as objects would not fit.
    if (this.replayed.size >= 10_000) this.compactReplayed();
  }

  /** After `replay`: the state is what the committed batches left; nothing it touched is to be sent. */
  finishReplay(): void {
    this.compactReplayed();
    this.processor.takeTouched();
    this.restored.lateAt.clear();
  }

  private compactReplayed(): void {
    for (const key of this.replayed) this.processor.compact(key);
    this.replayed = new Set();
  }

  /** After the changelog is restored: the contributions, recomputed from the states (needs the tables caught up). */
  finishRestore(): void {
    this.processor.finishRestore();
  }

  process(topic: string, partition: number, messages: (RawMessage & { offset: string })[]): { records: OutRecord[]; counters: TaskCounters } {
    const counters: TaskCounters = { processed: 0, duplicates: 0, deadLetters: 0, late: 0 };
    const keyed = new Map<string, OutRecord>(); // outputs and changelog: the last value per key wins
    const ordered: OutRecord[] = []; // dead letters and late records, in input order
    const changelogTopic = this.topics.changelog(this.entity);
    const changelog = (key: string, value: string | null) => keyed.set(`c\u0000${key}`, { topic: changelogTopic, partition, key, value });
    // A key's changelog record holds its state after the batch's last event on it: serialised once per
    // key and batch (below), not once per event; the record keeps the place of the key's first event.
    // With the state in the input there is no record, but the key's state is compacted all the same.
    const changed = new Map<string, OutRecord | undefined>();

    for (const message of messages) {
      counters.processed += 1;
      const decoded = decode(this.domain, this.entity, message);
      if (!decoded.ok) {
        counters.deadLetters += 1;
        const source: SourceCoordinates = { topic, partition, offset: message.offset };
        ordered.push(deadLetter(this.topics, source, message, decoded.reason));
        continue;
      }
      const { event, eventType, arrival, arrivalMs } = decoded;
      const key = encodeKey(this.entity, event.payload);
      const result = this.processor.process(key, eventType, event, arrival, arrivalMs);
      if (result.duplicate) {
        counters.duplicates += 1;
        continue;
      }
      for (const { transform, oldKey, newKey, row } of result.rows) {
        const output = this.outputTopic(transform);
        if (oldKey !== null && oldKey !== newKey) keyed.set(`${output}\u0000${oldKey}`, { topic: output, key: oldKey, value: null });
        if (row && newKey !== null) keyed.set(`${output}\u0000${newKey}`, { topic: output, key: newKey, value: outputValue(transform, row) });
      }
      if (result.late.length > 0 && this.stateIn === 'input') {
        // The decision a second reading of the input could not take again (the watermark moves on).
        changelog(`${LATE_KEY_PREFIX}${message.offset}`, JSON.stringify(result.late.map((late) => late.transform.name)));
      }
      for (const late of result.late) {
        counters.late += 1;
        ordered.push({
          topic: this.topics.late,
          key,
          value: message.value?.toString('utf8') ?? null,
          headers: {
            [LATE_HEADERS.reason]: late.reason,
            [LATE_HEADERS.transform]: late.transform.name,
            [LATE_HEADERS.window]: late.window,
            [LATE_HEADERS.topic]: topic,
            [LATE_HEADERS.partition]: String(partition),
            [LATE_HEADERS.offset]: message.offset,
          },
        });
      }
      if (!changed.has(key)) {
        const record: OutRecord | undefined = this.stateIn === 'states' ? { topic: changelogTopic, partition, key, value: null } : undefined;
        changed.set(key, record);
        if (record) keyed.set(`c\u0000${key}`, record);
      }
    }
    if (this.stateIn === 'input' && !this.markerWritten) {
      changelog(MARKER_KEY, JSON.stringify({ stateIn: 'input' }));
      this.markerWritten = true; // a failed batch drops the task: restored, it writes the marker again
    }
    // Before the sweep, which prunes states: the record is the state the batch left, and the processor
    // keeps that JSON rather than the objects from now on.
    for (const [key, record] of changed) {
      const state = this.processor.compact(key) ?? null;
      if (record) record.value = state;
    }
    this.sweepCountdown = (this.sweepCountdown + 1) % SWEEP_EVERY;
    if (this.sweepCountdown === 0) for (const key of this.processor.sweep()) if (this.stateIn === 'states') changelog(key, null);
    const records = ordered;
    for (const record of keyed.values()) records.push(record);
    this.partials(this.processor.takeTouched(), partition, records);
    return { records, counters };
  }

  /** Every output key's partial record, as `process` would send it: what the partials topic holds for this partition. */
  snapshot(partition: number): OutRecord[] {
    return this.partials(this.processor.aggregates.keys(), partition, []);
  }

  get size(): SourceProcessor['size'] {
    return this.processor.size;
  }

  /** The output topic of a per-key transformation (named once, not per record). */
  private outputTopic(transform: StreamTransform): string {
    let topic = this.outputTopics.get(transform);
    if (topic === undefined) this.outputTopics.set(transform, (topic = this.topics.output(transform.name)));
    return topic;
  }

  /** Adds to `records` the partials records of the touched keys: their new partial, or a tombstone when no row of the partition contributes any more. */
  private partials(touched: Iterable<string>, partition: number, records: OutRecord[]): OutRecord[] {
    for (const id of touched) {
      const [name, keyJson] = splitAggregateId(id);
      const aggregate = this.processor.aggregates.get(id);
      records.push({
        topic: this.topics.repartition,
        partition: repartitionPartition(name, keyJson, this.repartitionPartitions),
        key: repartitionKey(name, keyJson, partition),
        value: aggregate ? JSON.stringify(aggregate.partial()) : null,
      });
    }
    return records;
  }
}
