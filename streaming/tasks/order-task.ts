/**
 * Stage one of the topology, one task per partition of the orders topic: dead-letters bad events,
 * dedupes by event id, folds each order's events into its state, and recomputes what the order
 * contributes to every transformation. Per-order outputs (orders_enriched, order_status_current) are
 * upserted straight to their output topics. Aggregate contributions are set into this partition's
 * own aggregate of each output key, and once per batch the changed keys' partial aggregates go to the
 * repartition topic, where stage two (aggregate-task.ts) combines the partitions' partials — a batch
 * sends one record per output key it touched, not one per order. A change to a contribution in a
 * day window that is already final (watermark past end + grace) is late: it is not applied, and a
 * record with the reason goes to `<prefix>.late`. Pure: no Kafka here; the runner sends what
 * `process` returns in one transaction with the input offsets.
 */
import type { OrderView, StreamPipeline, AggregatePipeline } from '../../src/transforms/stream-dsl.ts';
import { KeyAggregate, type StoredContribution } from '../operators/aggregate.ts';
import { EventIdWindow, type EventIds } from '../operators/dedupe.ts';
import { foldOrderEvent, isEmptyState, viewOf, type OrderEvent, type OrderState } from '../operators/order-fold.ts';
import { decode, type RawMessage } from './codec.ts';
import { LATE_HEADERS, deadLetter, outputKey, outputValue, sameOutput, type OutRecord, type SourceCoordinates, type StreamTransform, type TopicNames } from './model.ts';
import type { SharedState } from './tables.ts';

export interface TaskCounters {
  processed: number;
  duplicates: number;
  deadLetters: number;
  late: number;
}

/**
 * A repartition record: key `[transform, outputKey, ordersPartition]`, value the partition's
 * PartialAggregate of that key, or a tombstone once none of the partition's orders contributes. The
 * partition is chosen from `[transform, outputKey]` only, so every partial of one output key meets in
 * one partition; the orders partition in the key lets the topic be compacted, so it doubles as the
 * aggregate stage's changelog (Kafka Streams' source-topic changelog). A partial is *set*, never
 * added: reading one twice changes nothing.
 */
export function repartitionKey(transform: string, outputKeyJson: string, ordersPartition: number): string {
  return `[${JSON.stringify(transform)},${outputKeyJson},${ordersPartition}]`;
}

/** The partition of an output key: FNV-1a of `transform|outputKey`, the same in every process. */
export function repartitionPartition(transform: string, outputKeyJson: string, partitions: number): number {
  let hash = 0x811c9dc5;
  const text = `${transform}|${outputKeyJson}`;
  for (let index = 0; index < text.length; index += 1) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return (hash >>> 0) % partitions;
}

const ORDER_PREFIX = 'o:';

/** An order's contributions to one transformation: output key → the values and their JSON (to compare). */
type Contributions = Map<string, { values: Record<string, string | number | null>; json: string }>;

const aggregateId = (transform: string, keyJson: string) => `${transform}\u0000${keyJson}`;

const idCount = (state: { ids?: EventIds | undefined } | undefined): number => (state?.ids ? Object.keys(state.ids).length : 0);

export class OrderTask {
  /** Per order: its state and the ids of its recent events (the dedupe store); one changelog record each. */
  private readonly orders = new Map<string, OrderState>();
  /** Per aggregate output key (`transform\u0000keyJson`): the contributions of this partition's orders. */
  private readonly aggregates = new Map<string, KeyAggregate>();
  private readonly dedupe: EventIdWindow;
  private newestArrivalMs = 0;
  private eventIdCount = 0;

  constructor(
    private readonly transforms: readonly StreamTransform[],
    private readonly shared: SharedState,
    private readonly topics: TopicNames,
    /** Partitions of the repartition topic. */
    private readonly repartitionPartitions: number,
  ) {
    this.dedupe = new EventIdWindow(Math.max(...transforms.map((transform) => transform.stream.dedupe.retainMs)));
    for (const { name, stream } of transforms) if (stream.kind === 'aggregate' && Object.values(stream.aggregations).some((aggregation) => aggregation.op === 'latest')) this.stamped.add(name);
  }

  /** Transformations with a `latest` aggregation: only their contributions keep a stamp (it is most of a contribution's memory). */
  private readonly stamped = new Set<string>();

  /** The order a `latest` aggregation picks by: the placing event's arrival, then its id. */
  private stampOf(transform: StreamTransform, view: OrderView | null): string {
    return view && this.stamped.has(transform.name) ? `${view.placedArrival}|${view.placedEventId}` : '';
  }

  /** Replays one changelog record into the state. */
  restore(key: string, value: string | null): void {
    if (!key.startsWith(ORDER_PREFIX)) return;
    const orderId = key.slice(ORDER_PREFIX.length);
    this.eventIdCount -= idCount(this.orders.get(orderId));
    if (value === null) {
      this.orders.delete(orderId);
      return;
    }
    const state = JSON.parse(value) as OrderState;
    this.orders.set(orderId, state);
    this.eventIdCount += idCount(state);
    for (const firstArrivalMs of Object.values(state.ids ?? {})) this.newestArrivalMs = Math.max(this.newestArrivalMs, firstArrivalMs);
  }

  /**
   * After the changelog is restored: sets what every order contributes (its view, or the frozen one a
   * late change left applied) into the partition's aggregates — the changelog holds orders, and the
   * contributions are a pure function of them. Needs the tables caught up, like `process`.
   */
  finishRestore(): void {
    this.aggregates.clear();
    for (const [orderId, state] of this.orders) {
      const current = viewOf(state);
      for (const transform of this.transforms) {
        const pipeline = transform.stream;
        if (pipeline.kind !== 'aggregate') continue;
        const frozen = state.frozen?.[transform.name];
        const applied = frozen !== undefined ? frozen : current;
        for (const [key, { values }] of this.contributionsOf(transform, pipeline, applied)) this.setContribution(transform, key, orderId, { values, stamp: this.stampOf(transform, applied) });
      }
    }
  }

  process(topic: string, partition: number, messages: (RawMessage & { offset: string })[]): { records: OutRecord[]; counters: TaskCounters } {
    const counters: TaskCounters = { processed: 0, duplicates: 0, deadLetters: 0, late: 0 };
    const keyed = new Map<string, OutRecord>(); // outputs and changelog: the last value per key wins
    const ordered: OutRecord[] = []; // dead letters and late records, in input order
    const changelog = (key: string, value: string | null) => keyed.set(`c\u0000${key}`, { topic: this.topics.ordersChangelog, partition, key, value });
    const touched = new Set<string>(); // aggregate ids whose partial changed

    for (const message of messages) {
      counters.processed += 1;
      const source: SourceCoordinates = { topic, partition, offset: message.offset };
      const decoded = decode(message, 'orders');
      if (!decoded.ok) {
        counters.deadLetters += 1;
        ordered.push(deadLetter(this.topics, source, message, decoded.reason));
        continue;
      }
      const { event, arrivalMs, arrival } = decoded;
      this.newestArrivalMs = Math.max(this.newestArrivalMs, arrivalMs);
      const orderEvent = event as OrderEvent;
      const orderId = orderEvent.payload.orderId;
      const before = this.orders.get(orderId);
      if (this.dedupe.isDuplicate(before?.ids, event.eventId, arrivalMs)) {
        counters.duplicates += 1;
        continue;
      }
      const after = foldOrderEvent(before, orderEvent, arrival);
      after.ids = this.dedupe.remember(before?.ids, event.eventId, arrivalMs, this.newestArrivalMs);
      this.eventIdCount += idCount(after) - idCount(before);
      const oldView = viewOf(before);
      const newView = viewOf(after);
      for (const transform of this.transforms) {
        const pipeline = transform.stream;
        if (pipeline.kind === 'perOrder') {
          this.upsertPerOrder(transform, pipeline, oldView, newView, keyed);
        } else {
          const late = this.contribute(transform, pipeline, orderId, after, oldView, newView, arrivalMs, touched);
          if (late) {
            counters.late += 1;
            ordered.push({
              topic: this.topics.late,
              key: orderId,
              value: message.value?.toString('utf8') ?? null,
              headers: {
                [LATE_HEADERS.reason]: late.reason,
                [LATE_HEADERS.transform]: transform.name,
                [LATE_HEADERS.window]: late.window,
                [LATE_HEADERS.topic]: topic,
                [LATE_HEADERS.partition]: String(partition),
                [LATE_HEADERS.offset]: message.offset,
              },
            });
          }
        }
      }
      // A deleted order keeps its record while its event ids can still catch a redelivery (the sweep drops it).
      this.orders.set(orderId, after);
      changelog(ORDER_PREFIX + orderId, JSON.stringify(after));
    }
    for (const orderId of this.maybeSweep()) changelog(ORDER_PREFIX + orderId, null);
    return { records: [...ordered, ...keyed.values(), ...this.partials(touched, partition)], counters };
  }

  /** Every output key's partial record, as `process` would send it: what the repartition topic holds for this partition. */
  snapshot(partition: number): OutRecord[] {
    return this.partials(new Set(this.aggregates.keys()), partition);
  }

  /** The repartition records of the touched keys: their new partial, or a tombstone when no order of the partition contributes any more. */
  private partials(touched: Set<string>, partition: number): OutRecord[] {
    const records: OutRecord[] = [];
    for (const id of touched) {
      const separator = id.indexOf('\u0000');
      const [name, keyJson] = [id.slice(0, separator), id.slice(separator + 1)];
      const aggregate = this.aggregates.get(id);
      records.push({
        topic: this.topics.repartition,
        partition: repartitionPartition(name, keyJson, this.repartitionPartitions),
        key: repartitionKey(name, keyJson, partition),
        value: aggregate ? JSON.stringify(aggregate.partial()) : null,
      });
    }
    return records;
  }

  get size(): { orders: number; eventIds: number; aggregateKeys: number; contributions: number } {
    let contributions = 0;
    for (const aggregate of this.aggregates.values()) contributions += aggregate.entries.size;
    return { orders: this.orders.size, eventIds: this.eventIdCount, aggregateKeys: this.aggregates.size, contributions };
  }

  private setContribution(transform: StreamTransform, keyJson: string, orderId: string, contribution: StoredContribution | null): string {
    const id = aggregateId(transform.name, keyJson);
    let aggregate = this.aggregates.get(id);
    if (!aggregate) {
      if (!contribution) return id;
      aggregate = new KeyAggregate((transform.stream as AggregatePipeline).aggregations);
      this.aggregates.set(id, aggregate);
    }
    aggregate.apply(orderId, contribution);
    if (aggregate.isEmpty) this.aggregates.delete(id);
    return id;
  }

  private sweepCountdown = 0;
  /**
   * Every 64 batches (it walks every order): forgets expired event ids in memory, and drops the orders
   * left with nothing — no order and no live id — returning them to be tombstoned. An expired id left in
   * a changelog record is harmless: restored, it can no longer match (expiry is decided at lookup).
   */
  private maybeSweep(): string[] {
    this.sweepCountdown = (this.sweepCountdown + 1) % 64;
    if (this.sweepCountdown !== 0) return [];
    const dropped: string[] = [];
    for (const [orderId, state] of this.orders) {
      const ids = this.dedupe.live(state.ids, this.newestArrivalMs);
      if (ids === state.ids) continue;
      this.eventIdCount += idCount({ ids }) - idCount(state);
      if (ids === undefined && isEmptyState(state)) {
        this.orders.delete(orderId);
        dropped.push(orderId);
      } else if (ids === undefined) {
        delete state.ids;
      } else {
        state.ids = ids;
      }
    }
    return dropped;
  }

  private rowOf(pipeline: Extract<StreamPipeline, { kind: 'perOrder' }>, view: OrderView | null) {
    return view && pipeline.filter(view) ? pipeline.map(view, this.shared.lookupFor(pipeline, view)) : null;
  }

  private upsertPerOrder(transform: StreamTransform, pipeline: Extract<StreamPipeline, { kind: 'perOrder' }>, oldView: OrderView | null, newView: OrderView | null, keyed: Map<string, OutRecord>): void {
    const oldRow = this.rowOf(pipeline, oldView);
    const newRow = this.rowOf(pipeline, newView);
    const topic = this.topics.output(transform.name);
    if (oldRow && newRow && sameOutput(transform, oldRow, newRow)) return;
    const oldKey = oldRow && outputKey(transform, oldRow);
    const newKey = newRow && outputKey(transform, newRow);
    if (oldKey !== null && oldKey !== newKey) keyed.set(`${topic}\u0000${oldKey}`, { topic, key: oldKey, value: null });
    if (newRow && newKey !== null) keyed.set(`${topic}\u0000${newKey}`, { topic, key: newKey, value: outputValue(transform, newRow) });
  }

  private contributionsOf(transform: StreamTransform, pipeline: AggregatePipeline, view: OrderView | null): Contributions {
    const result: Contributions = new Map();
    if (!view || !pipeline.filter(view)) return result;
    for (const contribution of pipeline.flatMap(view, this.shared.lookupFor(pipeline, view))) {
      result.set(outputKey(transform, contribution.key), { values: contribution.values, json: JSON.stringify(contribution.values) });
    }
    return result;
  }

  /** Emits the change in what the order contributes; returns why it is late instead, when it is. */
  private contribute(
    transform: StreamTransform,
    pipeline: AggregatePipeline,
    orderId: string,
    state: OrderState,
    oldView: OrderView | null,
    newView: OrderView | null,
    arrivalMs: number,
    touched: Set<string>,
  ): { reason: string; window: string } | undefined {
    const frozen = state.frozen?.[transform.name];
    const applied = frozen !== undefined ? frozen : oldView;
    const before = this.contributionsOf(transform, pipeline, applied);
    const after = this.contributionsOf(transform, pipeline, newView);
    // A new stamp (the order placed again, or its placing event redelivered after dedupe forgot it) changes
    // what `latest` picks even when the values stay: it is a change like any other.
    const stamp = this.stampOf(transform, newView);
    const restamped = stamp !== this.stampOf(transform, applied) && after.size > 0;
    const changed = restamped || before.size !== after.size || [...after].some(([key, { json }]) => before.get(key)?.json !== json);
    if (!changed) return undefined;
    if (pipeline.window) {
      const closer = this.shared.closerFor(pipeline.window.timeZone, pipeline.window.graceMs);
      for (const view of [applied, newView]) {
        if (!view || !pipeline.filter(view)) continue;
        const day = closer.calendar.dayOf(Date.parse(pipeline.window.eventTime(view)));
        if (closer.isClosedFor(day, arrivalMs)) {
          state.frozen = { ...state.frozen, [transform.name]: applied };
          const closedAt = new Date(closer.closedAt(day)).toISOString();
          return { window: day, reason: `window ${day} (${pipeline.window.timeZone}) was final: the watermark passed its end + ${pipeline.window.graceMs / 60_000} min grace with an event that arrived at ${closedAt}; this change was not applied` };
        }
      }
    }
    if (state.frozen) {
      const { [transform.name]: _dropped, ...rest } = state.frozen;
      state.frozen = rest;
    }
    for (const [key, { values, json }] of after) if (restamped || before.get(key)?.json !== json) touched.add(this.setContribution(transform, key, orderId, { values, stamp }));
    for (const key of before.keys()) if (!after.has(key)) touched.add(this.setContribution(transform, key, orderId, null));
    return undefined;
  }
}
