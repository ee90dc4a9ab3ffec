/**
 * Stage two of the topology, one task per partition of the repartition topic: every contribution to
 * an output key lands here (the key decides the partition), is *set* per order into that key's
 * KeyAggregate, and the key's new row is upserted to `<prefix>.out.<name>` — a tombstone when no order
 * contributes any more. Its changelog holds each (transformation, key, order) contribution, so a
 * restored task rebuilds the same aggregates. Pure: the runner sends `process`'s records in one
 * transaction with the repartition offsets.
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
    transforms: StreamTransform[],
    private readonly topics: TopicNames,
  ) {
    this.byName = new Map(transforms.filter((t): t is StreamTransform & { stream: AggregatePipeline } => t.stream.kind === 'aggregate').map((t) => [t.name, t]));
  }

  restore(key: string, value: string | null): void {
    const [transform, keyJson, orderId] = JSON.parse(key) as [string, string, string];
    this.apply(transform, keyJson, orderId, value === null ? null : (JSON.parse(value) as StoredContribution));
  }

  process(messages: RawMessage[]): { records: OutRecord[]; processed: number } {
    const dirty = new Set<string>();
    const changelog = new Map<string, OutRecord>();
    for (const message of messages) {
      const [transform, key] = JSON.parse(message.key!.toString()) as [string, unknown[]];
      const keyJson = JSON.stringify(key);
      const { o: orderId, v: values, s: stamp } = JSON.parse(message.value!.toString()) as RepartitionValue;
      const contribution = values === null ? null : { values, stamp };
      if (!this.byName.has(transform)) continue; // a transformation not run by this job
      this.apply(transform, keyJson, orderId, contribution);
      dirty.add(`${transform}\u0000${keyJson}`);
      const changelogKey = JSON.stringify([transform, keyJson, orderId]);
      changelog.set(changelogKey, { topic: this.topics.aggregatesChangelog, key: changelogKey, value: contribution && JSON.stringify(contribution) });
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
    records.push(...changelog.values());
    return { records, processed: messages.length };
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
