/**
 * Stage two of the topology, one task per partition of the repartition topic: every partial of an
 * output key lands here (the key decides the partition), one per source partition holding some of its
 * source rows; the key's row combines them and is upserted to `<prefix>.out.<name>` — a tombstone when no
 * partition holds any of its rows any more. The compacted repartition topic is its changelog: a
 * restored task replays its partition from the beginning (setting a partial twice changes nothing, so
 * reading past the committed offset is harmless). Pure: the runner sends `process`'s records in one
 * transaction with the repartition offsets.
 */
import type { RawMessage } from '../../src/model/codec.ts';
import { combinePartials, type PartialAggregate } from '../../src/pipeline/aggregate.ts';
import type { AggregatePipeline } from '../../src/pipeline/dsl.ts';
import { aggregateId, splitAggregateId } from '../../src/pipeline/processor.ts';
import { outputValue, type OutRecord, type StreamTransform, type TopicNames } from './model.ts';

export class AggregateTask {
  /** Per output key (aggregateId): the partial of each source partition. */
  private readonly partials = new Map<string, Map<number, PartialAggregate>>();
  private readonly byName: Map<string, StreamTransform & { stream: AggregatePipeline }>;
  /** Per transformation run here: the length of its name's JSON, where the output key starts in a partials key. */
  private readonly quotedLengths = new Map<string, number>();

  constructor(
    transforms: readonly StreamTransform[],
    private readonly topics: TopicNames,
  ) {
    this.byName = new Map(transforms.filter((t): t is StreamTransform & { stream: AggregatePipeline } => t.stream.kind === 'aggregate').map((t) => [t.name, t]));
    for (const name of this.byName.keys()) this.quotedLengths.set(name, JSON.stringify(name).length);
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
      const [name, keyJson] = splitAggregateId(id);
      const transform = this.byName.get(name)!;
      const partials = this.partials.get(id);
      const topic = this.topics.output(name);
      if (!partials) {
        records.push({ topic, key: keyJson, value: null });
        continue;
      }
      const keyValues = JSON.parse(keyJson) as (string | number | null)[];
      const row = { ...Object.fromEntries(transform.key.map((column, index) => [column, keyValues[index] ?? null])), ...combinePartials(transform.stream.aggregations, partials.values()) };
      records.push({ topic, key: keyJson, value: outputValue(transform, row) });
    }
    return { records, processed: messages.length };
  }

  get size(): { keys: number; partials: number } {
    let partials = 0;
    for (const byPartition of this.partials.values()) partials += byPartition.size;
    return { keys: this.partials.size, partials };
  }

  /** Sets (or with a tombstone, removes) one source partition's partial; returns the id of the key it touched. */
  private read(message: RawMessage): string | undefined {
    const text = message.key!.toString();
    const [transform, , sourcePartition] = JSON.parse(text) as [string, unknown[], number];
    const quotedLength = this.quotedLengths.get(transform);
    if (quotedLength === undefined) return undefined; // a transformation not run by this job
    // The output key's JSON as written (repartitionKey: `[transform,key,partition]`), not parsed and written again.
    const id = aggregateId(transform, text.slice(quotedLength + 2, text.lastIndexOf(',')));
    let byPartition = this.partials.get(id);
    if (message.value === null) {
      byPartition?.delete(sourcePartition);
      if (byPartition?.size === 0) this.partials.delete(id);
      return id;
    }
    if (!byPartition) this.partials.set(id, (byPartition = new Map()));
    byPartition.set(sourcePartition, JSON.parse(message.value.toString()) as PartialAggregate);
    return id;
  }
}
