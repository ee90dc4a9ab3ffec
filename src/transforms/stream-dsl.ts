/**
 * The streaming half of a transformation, as data: a typed, declarative operator pipeline that
 * `streaming/` interprets (src/ never imports the runner — DESIGN.md section 3). A pipeline says
 * *what* to compute; the runner decides how (tasks, state stores, changelogs, transactions).
 *
 * Every pipeline reads the orders stream and sees it through the same source operator: the
 * orders topic folded into one `OrderView` per order (placed → status changes → delete), after
 * dedupe by event id. When an order's view changes, the runner recomputes what the order
 * contributes and emits the difference — so a cancellation or delete *retracts* what the order
 * added earlier, with no special code in the pipelines (a KTable aggregate with a subtractor).
 *
 * The steps, in order:
 *   source('orders') → dedupe by event id (bounded by time) → join tables (latest | as of event time)
 *   → filter → map (one row per order, upserted by key)                           [kind 'perOrder']
 *   → filter → flatMap (contributions per output key) → [tumbling day window] → aggregate  [kind 'aggregate']
 *
 * Functions given here must be pure and deterministic: the runner calls them again with the same
 * view to find what an order contributed before (instead of storing every emitted row).
 */
import type { Customer, FxRate, Order, OrderStatus, Product } from '../domain/entities.ts';

/** The tables a pipeline can join, each built from its entity topic (keyed by `keyOf`). */
export interface Tables {
  customers: Customer;
  products: Product;
  fxRates: FxRate;
}
export type TableName = keyof Tables;

/**
 * `latest`: the row as it stood when the order was processed, in arrival order (KStream-KTable).
 * `asOfEventTime`: the newest version whose event time is at or before the order's event time.
 */
export type LookupMode = 'latest' | 'asOfEventTime';

/** Table lookups bound to one order's processing point; the mode comes from the pipeline's `joins`. */
export interface TableLookup {
  get<T extends TableName>(table: T, key: string): Tables[T] | undefined;
}

/** One order as the source folds it; a deleted order has no view. */
export interface OrderView {
  order: Order;
  status: OrderStatus;
  /** Event id of the OrderPlaced event the view is built from. */
  placedEventId: string;
  /** When that OrderPlaced event arrived (ISO UTC): the point table lookups are pinned to. */
  placedArrival: string;
}

/** A value as it leaves a runner: decimals as strings at the contract scale, integers as numbers. */
export type OutputValue = string | number | null;
export type OutputRow = Record<string, OutputValue>;

export interface SourceSteps {
  source: 'orders';
  /** Events whose id was seen within `retainMs` (event time, behind the watermark) are dropped as redeliveries. */
  dedupe: { by: 'eventId'; retainMs: number };
  /** The tables the pipeline reads and how it looks them up. */
  joins: Partial<Record<TableName, LookupMode>>;
  /** Orders the pipeline considers at all (others contribute nothing). */
  filter: (view: OrderView) => boolean;
}

/** One output row per order, upserted by the contract key; `null` removes the row (tombstone). */
export interface PerOrderPipeline extends SourceSteps {
  kind: 'perOrder';
  map: (view: OrderView, tables: TableLookup) => OutputRow | null;
}

/** What one order adds to one output key. `key` holds the contract key columns. */
export interface Contribution {
  key: OutputRow;
  values: OutputRow;
}

export type Aggregation =
  /** How many orders contribute to the key. */
  | { op: 'count' }
  /** Exact sum: integers, or decimals at `scale` summed as scaled bigints. NULL counts as 0. */
  | { op: 'sum'; field: string; scale: number | 'integer' }
  /** Smallest / largest non-null value (ISO timestamps and dates compare as strings); NULL when none. */
  | { op: 'min' | 'max'; field: string }
  /** The value of the contribution whose order was placed last (arrival time, then event id). */
  | { op: 'latest'; field: string };

export interface DayWindow {
  /** Tumbling windows of one business day in `timeZone` (23/25 h on DST days). */
  kind: 'tumblingDay';
  timeZone: string;
  /** A window is final once the watermark passes its end plus this; later changes to it are late. */
  graceMs: number;
  /** The instant (ISO) that places an order in a window. */
  eventTime: (view: OrderView) => string;
}

export interface AggregatePipeline extends SourceSteps {
  kind: 'aggregate';
  flatMap: (view: OrderView, tables: TableLookup) => Contribution[];
  window: DayWindow | null;
  /** Output column → how it is computed from the contributions to a key. Key columns come from the key. */
  aggregations: Record<string, Aggregation>;
}

export type StreamPipeline = PerOrderPipeline | AggregatePipeline;

// Builders: they only fill in defaults, so a pipeline reads as the steps it takes.

const DAY_MS = 24 * 3_600_000;
export const DEFAULT_DEDUPE_RETAIN_MS = 7 * DAY_MS;

export function fromOrders(options: { joins?: SourceSteps['joins']; dedupeRetainMs?: number; filter?: SourceSteps['filter'] } = {}): SourceSteps {
  return {
    source: 'orders',
    dedupe: { by: 'eventId', retainMs: options.dedupeRetainMs ?? DEFAULT_DEDUPE_RETAIN_MS },
    joins: options.joins ?? {},
    filter: options.filter ?? (() => true),
  };
}

export function upsertPerOrder(source: SourceSteps, map: PerOrderPipeline['map']): PerOrderPipeline {
  return { ...source, kind: 'perOrder', map };
}

export function aggregateBy(
  source: SourceSteps,
  steps: { flatMap: AggregatePipeline['flatMap']; window?: DayWindow; aggregations: Record<string, Aggregation> },
): AggregatePipeline {
  return { ...source, kind: 'aggregate', flatMap: steps.flatMap, window: steps.window ?? null, aggregations: steps.aggregations };
}

export function tumblingDay(timeZone: string, graceMs: number, eventTime: DayWindow['eventTime']): DayWindow {
  return { kind: 'tumblingDay', timeZone, graceMs, eventTime };
}

export const count = (): Aggregation => ({ op: 'count' });
export const sumMoney = (field: string, scale = 2): Aggregation => ({ op: 'sum', field, scale });
export const sumInteger = (field: string): Aggregation => ({ op: 'sum', field, scale: 'integer' });
export const min = (field: string): Aggregation => ({ op: 'min', field });
export const max = (field: string): Aggregation => ({ op: 'max', field });
export const latest = (field: string): Aggregation => ({ op: 'latest', field });
