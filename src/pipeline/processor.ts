/**
 * The source operator every pipeline of one source entity shares, and what it makes of each event:
 * dedupe by event id, fold per key (src/model/fold.ts), then per transformation either the output row
 * of the key (upsertPerKey) or the change in what the key contributes to each output key (aggregateBy),
 * set into this processor's own aggregate per output key. A change to a contribution in a window that
 * is already final (watermark past end + grace) is late: it is not applied, the view that was applied
 * is kept ("frozen") for that transformation, and the change is reported with the reason.
 *
 * Pure and in memory: the streaming job runs one per partition of a source topic and turns what it
 * returns into Kafka records in one transaction; the comparator runs one over a scenario's events to
 * predict what the stream should hold. Table lookups, calendars and the watermark come from `env`.
 */
import type { EntityModel, EventTypeModel, Row } from '../model/domain.ts';
import type { DomainEvent } from '../model/events.ts';
import { applyEvent, viewOf, type EntityState, type Pin } from '../model/fold.ts';
import { KeyAggregate, type RowAggregate, type StoredContribution } from './aggregate.ts';
import { EventIdWindow, type EventIds } from './dedupe.ts';
import type { AggregatePipeline, OutputRow, PerKeyPipeline, PipelineContext, StreamPipeline } from './dsl.ts';
import { decodeState, encodeState } from './state-codec.ts';
import type { WindowCloser } from './windows.ts';

/** The part of a Transform a pipeline runner needs (never the batch half). */
export interface PipelineTransform {
  name: string;
  key: readonly string[];
  columns: readonly { name: string }[];
  stream: StreamPipeline;
}

/** A view with the pin its lookups are pinned to: what a transformation's contributions are computed from. */
export interface AppliedView {
  row: Row;
  pin: Pin;
}

export interface InstanceState extends EntityState {
  /**
   * Per windowed transformation: the view whose contributions the aggregates still hold, when it
   * differs from the current view because a change came after the window had closed (late).
   */
  frozen?: Record<string, AppliedView | null>;
  /** The ids of this key's events that a redelivery could still repeat (dedupe.ts); they outlive a delete. */
  ids?: EventIds;
}

export interface ProcessorEnv {
  /** The context a pipeline function gets for a view: table lookups pinned to `pin`, the calendar. */
  context(pipeline: StreamPipeline, view: AppliedView): PipelineContext;
  /** The watermark of a windowed pipeline. */
  closer(pipeline: AggregatePipeline): WindowCloser;
}

export interface ProcessorOptions<A extends RowAggregate = KeyAggregate> {
  /**
   * What each output key's aggregate is: KeyAggregate (the default) keeps every source row's
   * contribution, which the comparator reads; the streaming job folds them in (FoldedAggregate).
   */
  aggregate?: (aggregations: AggregatePipeline['aggregations']) => A;
  /** false: every delivery is applied, redeliveries too (the comparator's "no dedupe" hypothesis). */
  dedupe?: boolean;
  /** false: nothing is late (windows never close; the comparator's views without late drops). */
  lateDrops?: boolean;
}

/** An upsertPerKey output change: the old row's key (to tombstone when it moved), the new row. */
export interface RowChange {
  transform: PipelineTransform;
  oldKey: string | null;
  newKey: string | null;
  row: OutputRow | null;
}

export interface LateChange {
  transform: PipelineTransform;
  window: string;
  reason: string;
}

export type Processed = { duplicate: true } | { duplicate: false; rows: RowChange[]; late: LateChange[] };

/** The output message key: JSON array of the key columns in contract order (pinned convention). */
export function outputKey(transform: Pick<PipelineTransform, 'key'>, row: OutputRow): string {
  // The JSON of the array, written directly: no array per call (this runs several times per event).
  let json = '[';
  for (let index = 0; index < transform.key.length; index += 1) json += (index === 0 ? '' : ',') + JSON.stringify(row[transform.key[index]!] ?? null);
  return `${json}]`;
}

/** Whether two rows hold the same value in every contract column. */
export function sameOutput(transform: Pick<PipelineTransform, 'columns'>, a: OutputRow, b: OutputRow): boolean {
  return transform.columns.every((column) => (a[column.name] ?? null) === (b[column.name] ?? null));
}

/** An aggregate's id: transformation and output key. */
export const aggregateId = (transform: string, keyJson: string): string => `${transform}\u0000${keyJson}`;
export function splitAggregateId(id: string): [transform: string, keyJson: string] {
  const separator = id.indexOf('\u0000');
  return [id.slice(0, separator), id.slice(separator + 1)];
}

/** A source row's contributions to one transformation: output key → its values. */
type Contributions = Map<string, OutputRow>;
/** What a view that is absent or filtered out contributes (never written to). */
const NONE: Contributions = new Map();

/** Whether two contributions hold the same values (what their JSON would say, without writing it). */
function sameValues(a: OutputRow, b: OutputRow): boolean {
  let fields = 0;
  for (const name in a) {
    fields += 1;
    const value = a[name];
    const other = b[name];
    if (value !== other && !(value !== value && other !== other)) return false;
  }
  for (const _name in b) fields -= 1;
  return fields === 0;
}

function idCount(state: { ids?: EventIds | undefined } | undefined): number {
  let count = 0;
  if (state?.ids) for (const _id in state.ids) count += 1;
  return count;
}

const DUPLICATE: Processed = { duplicate: true };

/**
 * A key's state as the processor keeps it: the object while a batch works on it, its text (the
 * changelog record's value, state-codec.ts) once `compact` has been called — a fraction of the memory
 * of the objects (the stream job keeps a state per order it ever saw), parsed again when its next
 * event comes.
 */
type StoredState = InstanceState | string;

/** The span of first-delivery times an expiry bucket holds (see `expiring`). */
const EXPIRY_BUCKET_MS = 3_600_000;

const appliedOf = (state: EntityState | undefined): AppliedView | null => {
  const row = viewOf(state);
  return row && state?.pin ? { row, pin: state.pin } : null;
};

export class SourceProcessor<A extends RowAggregate = KeyAggregate> {
  /** Per source key: its state and the ids of its recent events (the dedupe store). */
  private readonly instances = new Map<string, StoredState>();
  /**
   * The keys holding an event id first delivered in each hour (bucket number → keys, a key once per
   * id): where `sweep` finds the ids that may have expired without reading every state.
   */
  private readonly expiring = new Map<number, string[]>();
  /** Per aggregate output key (aggregateId): the contributions of this processor's source rows. */
  readonly aggregates = new Map<string, A>();
  /** Aggregate ids whose contributions changed since `takeTouched` was last called. */
  private touched = new Set<string>();
  private readonly dedupe: EventIdWindow;
  private readonly stamped = new Set<string>();
  private readonly newAggregate: (aggregations: AggregatePipeline['aggregations']) => A;
  private newestArrivalMs = 0;
  private eventIdCount = 0;

  constructor(
    readonly entity: EntityModel,
    readonly transforms: readonly PipelineTransform[],
    private readonly env: ProcessorEnv,
    private readonly options: ProcessorOptions<A> = {},
  ) {
    this.newAggregate = options.aggregate ?? ((aggregations) => new KeyAggregate(aggregations) as unknown as A);
    this.dedupe = new EventIdWindow(Math.max(0, ...transforms.map((transform) => transform.stream.dedupe.retainMs)));
    // Only contributions of transformations with a `latest` aggregation keep a stamp (it is most of a contribution's memory).
    for (const { name, stream } of transforms) if (stream.kind === 'aggregate' && Object.values(stream.aggregations).some((aggregation) => aggregation.op === 'latest')) this.stamped.add(name);
  }

  private parsed(stored: StoredState | undefined): InstanceState | undefined {
    return typeof stored === 'string' ? decodeState(this.entity, stored) : stored;
  }

  /** Replays one stored state (from a changelog: the object, or its JSON, kept as it is) into the processor. */
  restore(key: string, stored: InstanceState | string | null): void {
    const previous = this.instances.get(key);
    if (previous !== undefined) this.eventIdCount -= idCount(this.parsed(previous));
    if (stored === null) {
      this.instances.delete(key);
      return;
    }
    const state = this.parsed(stored)!;
    this.instances.set(key, stored);
    this.eventIdCount += idCount(state);
    for (const firstArrivalMs of Object.values(state.ids ?? {})) {
      this.newestArrivalMs = Math.max(this.newestArrivalMs, firstArrivalMs);
      this.expiresWith(key, firstArrivalMs);
    }
  }

  /** The state of a key (a copy when it is kept compacted). */
  state(key: string): InstanceState | undefined {
    return this.parsed(this.instances.get(key));
  }

  /** Keeps a key's state as its JSON from now on, and returns that JSON (undefined: no state). */
  compact(key: string): string | undefined {
    const stored = this.instances.get(key);
    if (stored === undefined || typeof stored === 'string') return stored;
    const json = encodeState(this.entity, stored);
    this.instances.set(key, json);
    return json;
  }

  /**
   * After the states are restored: sets what every key contributes (its view, or the frozen one a late
   * change left applied) into the aggregates — contributions are a pure function of the states. Needs
   * the tables caught up, like `process`.
   */
  finishRestore(): void {
    this.aggregates.clear();
    for (const [key, stored] of this.instances) {
      const state = this.parsed(stored)!;
      const current = appliedOf(state);
      for (const transform of this.transforms) {
        const pipeline = transform.stream;
        if (pipeline.kind !== 'aggregate') continue;
        const frozen = state.frozen?.[transform.name];
        const applied = frozen !== undefined ? frozen : current;
        const stamp = this.stampOf(transform, applied);
        for (const [outputKeyJson, values] of this.contributionMap(transform, pipeline, applied)) this.setContribution(transform, outputKeyJson, key, null, { values, stamp });
      }
    }
    this.touched.clear();
  }

  /**
   * Applies one delivery of an event of this entity, keyed `key` (the encoded entity key). `lateFor`:
   * the transformations this delivery was late for when it was first processed, to rebuild state from
   * the input with the decisions that were taken rather than the watermark of now (which has moved on).
   */
  process(key: string, eventType: EventTypeModel, event: DomainEvent, arrival: string, arrivalMs: number, lateFor?: ReadonlySet<string>): Processed {
    if (arrivalMs > this.newestArrivalMs) this.newestArrivalMs = arrivalMs;
    const before = this.parsed(this.instances.get(key));
    if (this.options.dedupe !== false && this.dedupe.isDuplicate(before?.ids, event.eventId, arrivalMs)) return DUPLICATE;
    // applyEvent gives a new object (never one of `before`'s), so it is ours to add to.
    const after: InstanceState = applyEvent(eventType, before, event, arrival) ?? {};
    if (before?.frozen) after.frozen = before.frozen;
    after.ids = this.dedupe.remember(before?.ids, event.eventId, arrivalMs, this.newestArrivalMs);
    this.expiresWith(key, arrivalMs);
    this.eventIdCount += idCount(after) - idCount(before);
    const oldView = appliedOf(before);
    const newView = appliedOf(after);
    const rows: RowChange[] = [];
    const late: LateChange[] = [];
    for (const transform of this.transforms) {
      const pipeline = transform.stream;
      if (pipeline.kind === 'perKey') {
        const change = this.rowChange(transform, pipeline, oldView, newView);
        if (change) rows.push(change);
      } else {
        const lateChange = this.contribute(transform, pipeline, key, after, oldView, newView, arrivalMs, lateFor);
        if (lateChange) late.push(lateChange);
      }
    }
    // A deleted key keeps its state while its event ids can still catch a redelivery (sweep drops it).
    this.instances.set(key, after);
    return { duplicate: false, rows, late };
  }

  /** The aggregate ids whose contributions changed since the last call. */
  takeTouched(): Set<string> {
    const touched = this.touched;
    this.touched = new Set();
    return touched;
  }

  /**
   * Forgets expired event ids and drops the keys left with nothing — no row, no pending patch, no live
   * id — returning them (to be tombstoned in a changelog). It walks every key: call it now and then.
   * An expired id left in a stored state is harmless: restored, it can no longer match (expiry is decided
   * at lookup).
   */
  sweep(): string[] {
    const dropped: string[] = [];
    const limit = this.newestArrivalMs - this.dedupe.retainMs;
    // Only the keys of buckets holding an id first delivered before the limit can have one that expired.
    for (const [bucket, keys] of this.expiring) {
      if (bucket * EXPIRY_BUCKET_MS >= limit) continue;
      for (const key of keys) {
        const stored = this.instances.get(key);
        if (stored === undefined) continue;
        const state = this.parsed(stored)!;
        const ids = this.dedupe.live(state.ids, this.newestArrivalMs);
        if (ids === state.ids) continue;
        this.eventIdCount += idCount({ ids }) - idCount(state);
        if (ids === undefined && state.row === undefined && (state.frozen === undefined || Object.keys(state.frozen).length === 0)) {
          this.instances.delete(key);
          dropped.push(key);
          continue;
        }
        if (ids === undefined) delete state.ids;
        else state.ids = ids;
        if (typeof stored === 'string') this.instances.set(key, encodeState(this.entity, state));
      }
      // Every id of a bucket that ended before the limit has expired: its keys are done with.
      if ((bucket + 1) * EXPIRY_BUCKET_MS <= limit) this.expiring.delete(bucket);
    }
    return dropped;
  }

  get size(): { keys: number; eventIds: number; aggregateKeys: number; contributions: number } {
    let contributions = 0;
    for (const aggregate of this.aggregates.values()) contributions += aggregate.rows;
    return { keys: this.instances.size, eventIds: this.eventIdCount, aggregateKeys: this.aggregates.size, contributions };
  }

  private expiresWith(key: string, firstArrivalMs: number): void {
    const bucket = Math.floor(firstArrivalMs / EXPIRY_BUCKET_MS);
    const keys = this.expiring.get(bucket);
    if (keys) keys.push(key);
    else this.expiring.set(bucket, [key]);
  }

  /** What a view contributes to one aggregate transformation (empty when filtered out or absent). */
  contributionsOf(transform: PipelineTransform, pipeline: AggregatePipeline, view: AppliedView | null): Map<string, { values: OutputRow }> {
    const result = new Map<string, { values: OutputRow }>();
    for (const [key, values] of this.contributionMap(transform, pipeline, view)) result.set(key, { values });
    return result;
  }

  /** contributionsOf without a wrapper per contribution: output key → values (NONE when there are none; never written to). */
  private contributionMap(transform: PipelineTransform, pipeline: AggregatePipeline, view: AppliedView | null): Contributions {
    if (!view || !pipeline.filter(view.row)) return NONE;
    const contributions = pipeline.flatMap(view.row, this.env.context(pipeline, view));
    if (contributions.length === 0) return NONE;
    const result: Contributions = new Map();
    for (const contribution of contributions) result.set(outputKey(transform, contribution.key), contribution.values);
    return result;
  }

  /** The output row of a view for one upsertPerKey transformation (null when filtered out or absent). */
  rowOf(pipeline: PerKeyPipeline, view: AppliedView | null): OutputRow | null {
    return view && pipeline.filter(view.row) ? pipeline.map(view.row, this.env.context(pipeline, view)) : null;
  }

  /** The order a `latest` aggregation picks by: the upsert's arrival, then its event id. */
  private stampOf(transform: PipelineTransform, view: AppliedView | null): string {
    return view && this.stamped.has(transform.name) ? `${view.pin.arrival}|${view.pin.eventId}` : '';
  }

  private setContribution(transform: PipelineTransform, outputKeyJson: string, sourceKey: string, previous: StoredContribution | null, next: StoredContribution | null): void {
    const id = aggregateId(transform.name, outputKeyJson);
    this.touched.add(id);
    let aggregate = this.aggregates.get(id);
    if (!aggregate) {
      if (!next) return;
      aggregate = this.newAggregate((transform.stream as AggregatePipeline).aggregations);
      this.aggregates.set(id, aggregate);
    }
    aggregate.set(sourceKey, previous, next);
    if (aggregate.isEmpty) this.aggregates.delete(id);
  }

  private rowChange(transform: PipelineTransform, pipeline: PerKeyPipeline, oldView: AppliedView | null, newView: AppliedView | null): RowChange | undefined {
    const oldRow = this.rowOf(pipeline, oldView);
    const newRow = this.rowOf(pipeline, newView);
    if (oldRow && newRow && sameOutput(transform, oldRow, newRow)) return undefined;
    if (!oldRow && !newRow) return undefined;
    return { transform, oldKey: oldRow && outputKey(transform, oldRow), newKey: newRow && outputKey(transform, newRow), row: newRow };
  }

  /** Applies the change in what the key contributes; returns why it is late instead, when it is. */
  private contribute(transform: PipelineTransform, pipeline: AggregatePipeline, sourceKey: string, state: InstanceState, oldView: AppliedView | null, newView: AppliedView | null, arrivalMs: number, lateFor: ReadonlySet<string> | undefined): LateChange | undefined {
    const frozen = state.frozen?.[transform.name];
    const applied = frozen !== undefined ? frozen : oldView;
    const before = this.contributionMap(transform, pipeline, applied);
    const after = this.contributionMap(transform, pipeline, newView);
    // A new stamp (the row upserted again, or its upsert redelivered after dedupe forgot it) changes
    // what `latest` picks even when the values stay: it is a change like any other.
    const stamp = this.stampOf(transform, newView);
    const appliedStamp = this.stampOf(transform, applied);
    const restamped = stamp !== appliedStamp && after.size > 0;
    let changed = restamped || before.size !== after.size;
    if (!changed) {
      for (const [key, values] of after) {
        const previous = before.get(key);
        if (previous === undefined || !sameValues(previous, values)) {
          changed = true;
          break;
        }
      }
    }
    if (!changed) return undefined;
    if (lateFor !== undefined) {
      if (lateFor.has(transform.name)) {
        state.frozen = { ...state.frozen, [transform.name]: applied && { row: applied.row, pin: applied.pin } };
        return { transform, window: '', reason: 'late when first processed' };
      }
    } else if (pipeline.window && this.options.lateDrops !== false) {
      const closer = this.env.closer(pipeline);
      for (const view of [applied, newView]) {
        if (!view || !pipeline.filter(view.row)) continue;
        const window = closer.calendar.windowOf(Date.parse(pipeline.window.eventTime(view.row)));
        if (closer.isClosedFor(window, arrivalMs)) {
          state.frozen = { ...state.frozen, [transform.name]: applied && { row: applied.row, pin: applied.pin } };
          const closedAt = new Date(closer.closedAt(window)).toISOString();
          return {
            transform,
            window,
            reason: `window ${window} (${closer.calendar.description}) was final: the watermark passed its end + ${pipeline.window.graceMs / 60_000} min grace with an event that arrived at ${closedAt}; this change was not applied`,
          };
        }
      }
    }
    if (state.frozen) {
      const { [transform.name]: _dropped, ...rest } = state.frozen;
      if (Object.keys(rest).length === 0) delete state.frozen;
      else state.frozen = rest;
    }
    for (const [key, values] of after) {
      const previous = before.get(key);
      if (restamped || previous === undefined || !sameValues(previous, values)) this.setContribution(transform, key, sourceKey, previous === undefined ? null : { values: previous, stamp: appliedStamp }, { values, stamp });
    }
    for (const [key, values] of before) if (!after.has(key)) this.setContribution(transform, key, sourceKey, { values, stamp: appliedStamp }, null);
    return undefined;
  }
}
