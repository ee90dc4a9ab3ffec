/**
 * Names and shapes the streaming tasks share: the topics a run uses (inputs, outputs, internal
 * repartition/changelog/metrics topics, dead letters, late events), what a transformation looks like
 * to the runner, and the records a task hands its transaction.
 */
import { topicName, type Entity } from '../../src/domain/events.ts';
import type { Column } from '../../src/transforms/contract.ts';
import type { OutputRow, StreamPipeline } from '../../src/transforms/stream-dsl.ts';

/** The part of a Transform the streaming runner needs (it never sees the batch half). */
export interface StreamTransform {
  name: string;
  key: readonly string[];
  columns: readonly Pick<Column, 'name'>[];
  stream: StreamPipeline;
}

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
  input(entity: Entity): string {
    return topicName(entity, this.prefix);
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
  /** Stage one → stage two: per (transformation, output key, orders partition), that partition's partial aggregate. */
  get repartition(): string {
    return this.internal('partials');
  }
  /** The repartition topic of dualrun 0.1, one contribution per order: a group that has one must start over. */
  get perOrderRepartition(): string {
    return this.internal('repartition');
  }
  get ordersChangelog(): string {
    return this.internal('orders-changelog');
  }
  get metrics(): string {
    return this.internal('metrics');
  }
}

/** The output message key: JSON array of the key columns in contract order (pinned convention). */
export function outputKey(transform: StreamTransform, row: OutputRow): string {
  return JSON.stringify(transform.key.map((column) => row[column] ?? null));
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

/** Whether two rows hold the same value in every contract column (what outputValue would say, without writing it). */
export function sameOutput(transform: StreamTransform, a: OutputRow, b: OutputRow): boolean {
  return transform.columns.every((column) => (a[column.name] ?? null) === (b[column.name] ?? null));
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
