/**
 * The contract of a business transformation: what it outputs (columns, key, comparison rules), its
 * time semantics, and its two implementations side by side — `batch` (the legacy SQL, as a knex
 * query pushed down to the database) and `stream` (the operator pipeline). Runners know only this
 * contract; transformations know nothing of runners (DESIGN.md section 7).
 */
import type { Knex } from 'knex';
import type { Engine } from '../db.ts';
import type { StreamPipeline } from '../pipeline/dsl.ts';

export type ColumnType = 'string' | 'integer' | 'decimal' | 'date' | 'timestamp';

/** How two values of a column are compared. Unset: exact equality, NULL equals only NULL. */
export interface ColumnRule {
  /** Equal when |a − b| ≤ abs. */
  abs?: number;
  /** Equal when |a − b| ≤ rel × max(|a|, |b|). */
  rel?: number;
  /** Timestamps are truncated to this before comparing. */
  precision?: 'ms' | 's' | 'min';
  /** When false, NULL never equals NULL (default true: NULL equals NULL only). */
  nullEqualsNull?: boolean;
  trim?: boolean;
  caseInsensitive?: boolean;
}

export interface Column {
  name: string;
  type: ColumnType;
  /** Decimals after the point, for `decimal`. */
  scale?: number;
  nullable?: boolean;
  rule?: ColumnRule;
  description?: string;
}

export interface TimeSemantics {
  /** The input field whose value is the event time (`placedAt`). */
  eventTimeField: string;
  /** Tumbling windows of one business day in `timeZone`, or none (a running/current-state output). */
  window: 'day' | 'none';
  /** How long after a window ends late events are still counted. */
  graceMs: number;
  timeZone: string;
}

/** What the batch runner hands a transformation's SQL. */
export interface BatchContext {
  knex: Knex;
  engine: Engine;
  /** Business date "YYYY-MM-DD" being computed (dated outputs), in `time.timeZone`. */
  businessDate: string;
  /** Start and end of that business day as UTC instants (23/25 h on DST days). */
  dayStart: Date;
  dayEnd: Date;
  /** Rows that arrived after this instant are not visible to the run. */
  cutoff: Date;
}

export interface TransformContract {
  name: string;
  description: string;
  columns: Column[];
  /** Output key columns (composite allowed). */
  key: string[];
  /** The output column holding the business date when the output is partitioned by day. */
  dateColumn?: string;
  time: TimeSemantics;
}

export interface Transform extends TransformContract {
  /** The legacy SQL: a SELECT producing exactly `columns`, run inside the database. */
  batch(ctx: BatchContext): Knex.QueryBuilder | Knex.Raw;
  /** The streaming implementation: an operator pipeline the streaming runner interprets (stream-dsl.ts). */
  stream: StreamPipeline;
}

export function defineTransform<T extends Transform>(transform: T): T {
  return transform;
}
