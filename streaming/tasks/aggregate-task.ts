/**
 * Stage two of the topology, one task per partition of the repartition topic: every contribution to
 * an output key lands here (the key decides the partition), is *set* per order into that key's
 * KeyAggregate, and the key's new row is upserted to `<prefix>.out.<name>` — a tombstone when no order
 * contributes any more. The compacted repartition topic is its changelog: a restored task replays its
 * partition from the beginning (setting a contribution twice changes nothing, so reading past the
 * committed offset is harmless). Pure: the runner sends `process`'s records in one transaction with
 * the repartition offsets.
 */
import type { AggregatePipeline } from '../../src/transforms/stream-dsl.ts';
import { KeyAggregate, type StoredContribution } from '../operators/aggregate.ts';
import type { RawMessage } from './codec.ts';
import { outputValue, type OutRecord, type StreamTransform, type TopicNames } from './model.ts';
import type { RepartitionValue } from './order-task.ts';

export class AggregateTask {
  private readonly aggregates = new Map<string, KeyAggregate>(); // `${transform}\u0000${keyJson}`
  private readonly byName: Map<string, StreamTransform & { stream: AggregatePipeline }>;

  constructor(
    transforms: readonly StreamTransform[],
    private readonly topics: TopicNames,
  ) {
    this.byName = new Map(transforms.filter((t): t is StreamTransform & { stream: AggregatePipeline } => t.stream.kind === 'aggregate').map((t) => [t.name, t]));
  }

  /** Replays one repartition record into the state (no output). */
  restore(message: RawMessage): void {
    this.read(message);
  }

  process(messages: RawMessage[]): { records: OutRecord[]; processed: number } {
    const dirty = new Set<string>();
    for (const message of messages) {
      const id = this.read(message);
      if (id !== undefined) dirty.add(id);
    }
    const records: OutRecord[] = [];
    for (const id of dirty) {
      const [name, keyJson] = id.split('\u0000') as [string, string];
      const transform = this.byName.get(name)!;
      const aggregate = this.aggregates.get(id);
      const topic = this.topics.output(name);
      if (!aggregate || aggregate.isEmpty) {
        this.aggregates.delete(id);
        records.push({ topic, key: keyJson, value: null });
        continue;
      }
      const keyValues = JSON.parse(keyJson) as (string | number | null)[];
      const row = { ...Object.fromEntries(transform.key.map((column, index) => [column, keyValues[index] ?? null])), ...aggregate.row() };
      records.push({ topic, key: keyJson, value: outputValue(transform, row) });
    }
    return { records, processed: messages.length };
  }

  /** Applies one repartition record; returns the id of the aggregate it touched. */
  private read(message: RawMessage): string | undefined {
    const [transform, key, orderId] = JSON.parse(message.key!.toString()) as [string, unknown[], string];
    if (!this.byName.has(transform)) return undefined; // a transformation not run by this job
    const keyJson = JSON.stringify(key);
    const value = message.value === null ? null : (JSON.parse(message.value.toString()) as RepartitionValue);
    this.apply(transform, keyJson, orderId, value === null ? null : { values: value.v, stamp: value.s });
    return `${transform}\u0000${keyJson}`;
  }

  get size(): { keys: number; contributions: number } {
    let contributions = 0;
    for (const aggregate of this.aggregates.values()) contributions += aggregate.entries.size;
    return { keys: this.aggregates.size, contributions };
  }

  private apply(transform: string, keyJson: string, orderId: string, contribution: StoredContribution | null): void {
    const definition = this.byName.get(transform);
    if (!definition) return;
    const id = `${transform}\u0000${keyJson}`;
    let aggregate = this.aggregates.get(id);
    if (!aggregate) {
      if (!contribution) return;
      aggregate = new KeyAggregate(definition.stream.aggregations);
      this.aggregates.set(id, aggregate);
    }
    aggregate.apply(orderId, contribution);
    if (aggregate.isEmpty) this.aggregates.delete(id);
  }
}
