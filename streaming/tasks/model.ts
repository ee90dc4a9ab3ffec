/**
 * Names and shapes the streaming tasks share: the topics a run uses (inputs, outputs, internal
 * partials/changelog/metrics topics, dead letters, late events), what a transformation looks like
 * to the runner, and the records a task hands its transaction.
 */
import { topicOf } from '../../src/model/codec.ts';
import type { EntityModel } from '../../src/model/domain.ts';
import type { OutputRow } from '../../src/pipeline/dsl.ts';
import type { PipelineTransform } from '../../src/pipeline/processor.ts';

export { outputKey, sameOutput } from '../../src/pipeline/processor.ts';

/** The part of a Transform the streaming runner needs (it never sees the batch half). */
export type StreamTransform = PipelineTransform;

export interface OutRecord {
  topic: string;
  /** Set for changelog records: a task's changelog partition is its input partition, whatever the key hashes to. */
  partition?: number;
  key: string;
  value: string | null;
  headers?: Record<string, string>;
}

export const DLQ_HEADERS = {
  reason: 'dualrun-dlq-reason',
  topic: 'dualrun-source-topic',
  partition: 'dualrun-source-partition',
  offset: 'dualrun-source-offset',
} as const;
export const LATE_HEADERS = { ...DLQ_HEADERS, reason: 'dualrun-late-reason', transform: 'dualrun-transform', window: 'dualrun-window' } as const;

export class TopicNames {
  constructor(
    readonly prefix: string,
    readonly group: string,
  ) {}
  input(entity: EntityModel): string {
    return topicOf(entity, this.prefix);
  }
  output(transform: string): string {
    return `${this.prefix}.out.${transform}`;
  }
  deadLetter(sourceTopic: string): string {
    return `${sourceTopic}.dlq`;
  }
  get late(): string {
    return `${this.prefix}.late`;
  }
  private internal(name: string): string {
    return `${this.prefix}.stream-${this.group}.${name}`;
  }
  /** Stage one → stage two: per (transformation, output key, source partition), that partition's partial aggregate. */
  get repartition(): string {
    return this.internal('partials');
  }
  /** The repartition topic of dualrun 0.1, one contribution per source row: a group that has one must start over. */
  get perRowRepartition(): string {
    return this.internal('repartition');
  }
  /** A source entity's state store: one record per key (its state and recent event ids). */
  changelog(entity: EntityModel): string {
    return this.internal(`${entity.topic}-changelog`);
  }
  get metrics(): string {
    return this.internal('metrics');
  }
}

const valuePrefixes = new WeakMap<StreamTransform, string[]>();

/**
 * The output message value: every contract column, in contract order — the JSON of an object of the
 * columns, written directly (no ordered copy of the row per record: this runs for every output record).
 */
export function outputValue(transform: StreamTransform, row: OutputRow): string {
  let prefixes = valuePrefixes.get(transform);
  if (!prefixes) {
    prefixes = transform.columns.map((column, index) => `${index === 0 ? '{' : ','}${JSON.stringify(column.name)}:`);
    valuePrefixes.set(transform, prefixes);
  }
  let json = '';
  transform.columns.forEach((column, index) => {
    json += prefixes[index]! + JSON.stringify(row[column.name] ?? null);
  });
  return transform.columns.length === 0 ? '{}' : `${json}}`;
}

export interface SourceCoordinates {
  topic: string;
  partition: number;
  offset: string;
}

export function deadLetter(topics: TopicNames, source: SourceCoordinates, message: { key: Buffer | null; value: Buffer | null }, reason: string): OutRecord {
  return {
    topic: topics.deadLetter(source.topic),
    key: message.key?.toString() ?? '',
    value: message.value?.toString('utf8') ?? null,
    headers: { [DLQ_HEADERS.reason]: reason, [DLQ_HEADERS.topic]: source.topic, [DLQ_HEADERS.partition]: String(source.partition), [DLQ_HEADERS.offset]: source.offset },
  };
}
