/**
 * The streaming half of a transformation, as data: a typed, declarative operator pipeline over a
 * domain's entities, which `streaming/` runs on Kafka and the comparator re-runs to predict what each
 * side should hold (src/ never imports the runner — DESIGN.md section 3). A pipeline says *what* to
 * compute; the runner decides how (tasks, state stores, changelogs, transactions).
 *
 *   domain.from('<entity>')   that entity's events, deduplicated by event id (bounded by time) and
 *                             folded per key (src/model/fold.ts) into one view per row
 *     → joins                 any other entity of the domain as a versioned table, looked up `latest`
 *                             (as it stood when the row's upsert was processed) or `asOfEventTime`
 *     → filter
 *     → upsertPerKey(map)     one output row per source row, upserted by the contract key; null removes it
 *     → aggregateBy(flatMap → [window] → aggregations)   contributions per output key, retracted and
 *                             replaced whenever the source row changes (a KTable aggregate with a subtractor)
 *
 * Functions given here must be pure and deterministic (DESIGN.md, "How a pipeline's facts can be found
 * again"): the runner calls them again with the same view to find what a row contributed before, and the
 * comparator calls them with table lookups and calendars of its own to predict each side.
 */
import type { DomainModel, KeyOf, ViewOf } from '../model/domain.ts';

/**
 * `latest`: the row as it stood when the source row's upsert was processed, in arrival order (KStream-KTable).
 * `asOfEventTime`: the newest version whose event time is at or before the source row's event time.
 */
export type LookupMode = 'latest' | 'asOfEventTime';

/** What a table lookup can return for each joined entity: its view, named by its key. */
export type JoinedTables = Record<string, { view: unknown; key: unknown }>;

/** Table lookups bound to one source row's pin; the mode comes from the pipeline's `joins`. */
export interface TableLookup<T extends JoinedTables = JoinedTables> {
  get<N extends keyof T & string>(entity: N, key: T[N]['key']): T[N]['view'] | undefined;
}

/** What a pipeline function is handed beside the view. */
export interface PipelineContext<T extends JoinedTables = JoinedTables> {
  tables: TableLookup<T>;
  /** The business day ("YYYY-MM-DD" in the domain's time zone) of an instant. Use it for every day a pipeline computes. */
  dayOf(instant: string): string;
  /** The upsert the view comes from: its event id and arrival (ISO UTC), where the lookups are pinned. */
  pin: { eventId: string; arrival: string };
}

/** A value as it leaves a runner: decimals as strings at the contract scale, integers as numbers. */
export type OutputValue = string | number | boolean | null;
export type OutputRow = Record<string, OutputValue>;

/** What one source row adds to one output key. `key` holds the contract key columns. */
export interface Contribution {
  key: OutputRow;
  values: OutputRow;
}

export type Aggregation =
  /** How many source rows contribute to the key. */
  | { op: 'count' }
  /** Exact sum: integers, or decimals at `scale` summed as scaled bigints. NULL counts as 0. */
  | { op: 'sum'; field: string; scale: number | 'integer' }
  /** Exact mean of the non-NULL values at `scale` (half away from zero); NULL when there are none. */
  | { op: 'avg'; field: string; scale: number }
  /** Smallest / largest non-null value (ISO timestamps and dates compare as strings); NULL when none. */
  | { op: 'min' | 'max'; field: string }
  /** The value of the contribution whose source row was upserted last (arrival time, then event id). */
  | { op: 'latest'; field: string };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the erased form runners hold
export interface WindowSpec<V = any> {
  /**
   * 'businessDay': one local calendar day in the domain's time zone (23 or 25 hours on DST days).
   * A number: a fixed length in milliseconds, aligned to the Unix epoch (so hour windows are local hours
   * wherever the zone's UTC offset is a whole number of hours).
   */
  size: 'businessDay' | number;
  /** A window is final once the watermark passes its end plus this; later changes to it are late. */
  graceMs: number;
  /** The instant (ISO) that places a source row in a window. */
  eventTime: (view: V) => string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the erased form runners hold
export interface SourceSteps<V = any> {
  domain: DomainModel;
  /** The entity whose events feed the pipeline. */
  source: string;
  /** Events whose id was seen within `retainMs` of arrival are dropped as redeliveries. */
  dedupe: { by: 'eventId'; retainMs: number };
  /** The tables the pipeline reads and how it looks them up. */
  joins: Readonly<Record<string, LookupMode>>;
  /** Source rows the pipeline considers at all (others contribute nothing). */
  filter: (view: V) => boolean;
}

/** One output row per source row, upserted by the contract key; `null` removes the row (tombstone). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the erased form runners hold
export interface PerKeyPipeline<V = any, T extends JoinedTables = JoinedTables> extends SourceSteps<V> {
  kind: 'perKey';
  map: (view: V, ctx: PipelineContext<T>) => OutputRow | null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the erased form runners hold
export interface AggregatePipeline<V = any, T extends JoinedTables = JoinedTables> extends SourceSteps<V> {
  kind: 'aggregate';
  flatMap: (view: V, ctx: PipelineContext<T>) => Contribution[];
  window: WindowSpec<V> | null;
  /** Output column → how it is computed from the contributions to a key. Key columns come from the key. */
  aggregations: Record<string, Aggregation>;
}

/** A pipeline with its view type erased: what runners and the comparator hold. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StreamPipeline = PerKeyPipeline<any, any> | AggregatePipeline<any, any>;

/** A typed source: a pipeline's first steps, waiting for upsertPerKey or aggregateBy. */
export interface Source<V, T extends JoinedTables> extends SourceSteps<V> {
  /** Phantom: the joined tables' types. */
  readonly tablesType?: T;
}

type EntitiesOf<I> = I extends { entities: infer E } ? E : never;
/** The lookups a `joins` declaration allows, typed from the domain. */
export type TablesOf<I, J> = { [N in keyof J & string]: N extends keyof EntitiesOf<I> ? { view: ViewOf<EntitiesOf<I>[N]>; key: KeyOf<EntitiesOf<I>[N]> } : never };

const DAY_MS = 24 * 3_600_000;
export const DEFAULT_DEDUPE_RETAIN_MS = 7 * DAY_MS;

export interface FromOptions<V, J> {
  joins?: J;
  dedupeRetainMs?: number;
  filter?: (view: V) => boolean;
}

/** The source steps of `entity`, checked against the domain (used by `domain.from`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the erased form runners hold
export function sourceOf(domain: DomainModel, entity: string, options: FromOptions<any, Record<string, LookupMode>> = {}): SourceSteps {
  return {
    domain,
    source: entity,
    dedupe: { by: 'eventId', retainMs: options.dedupeRetainMs ?? DEFAULT_DEDUPE_RETAIN_MS },
    joins: options.joins ?? {},
    filter: options.filter ?? (() => true),
  };
}

// Builders: they only fill in defaults, so a pipeline reads as the steps it takes.

export function upsertPerKey<V, T extends JoinedTables>(source: Source<V, T>, map: (view: V, ctx: PipelineContext<T>) => OutputRow | null): PerKeyPipeline<V, T> {
  return { ...source, kind: 'perKey', map };
}

export function aggregateBy<V, T extends JoinedTables>(
  source: Source<V, T>,
  steps: { flatMap: (view: V, ctx: PipelineContext<T>) => Contribution[]; window?: WindowSpec<V>; aggregations: Record<string, Aggregation> },
): AggregatePipeline<V, T> {
  return { ...source, kind: 'aggregate', flatMap: steps.flatMap, window: steps.window ?? null, aggregations: steps.aggregations };
}

export const count = (): Aggregation => ({ op: 'count' });
export const sumDecimal = (field: string, scale = 2): Aggregation => ({ op: 'sum', field, scale });
export const sumInteger = (field: string): Aggregation => ({ op: 'sum', field, scale: 'integer' });
export const avg = (field: string, scale = 2): Aggregation => ({ op: 'avg', field, scale });
export const min = (field: string): Aggregation => ({ op: 'min', field });
export const max = (field: string): Aggregation => ({ op: 'max', field });
export const latest = (field: string): Aggregation => ({ op: 'latest', field });

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
