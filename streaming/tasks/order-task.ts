/**
 * Stage one of the topology, one task per partition of the orders topic: dead-letters bad events,
 * dedupes by event id, folds each order's events into its state, and recomputes what the order
 * contributes to every transformation. Per-order outputs (orders_enriched, order_status_current) are
 * upserted straight to their output topics; aggregate contributions go to the repartition topic,
 * keyed by output key, where stage two (aggregate-task.ts) sums them. A change to a contribution in a
 * day window that is already final (watermark past end + grace) is late: it is not applied, and a
 * record with the reason goes to `<prefix>.late`. Pure: no Kafka here; the runner sends what
 * `process` returns in one transaction with the input offsets.
 */
import type { OrderView, StreamPipeline, AggregatePipeline } from '../../src/transforms/stream-dsl.ts';
import { EventIdWindow, type EventIds } from '../operators/dedupe.ts';
import { foldOrderEvent, isEmptyState, viewOf, type OrderEvent, type OrderState } from '../operators/order-fold.ts';
import { decode, type RawMessage } from './codec.ts';
import { LATE_HEADERS, deadLetter, outputKey, outputValue, type OutRecord, type SourceCoordinates, type StreamTransform, type TopicNames } from './model.ts';
import type { SharedState } from './tables.ts';

export interface TaskCounters {
  processed: number;
  duplicates: number;
  deadLetters: number;
  late: number;
}

/**
 * A repartition record: key `[transform, outputKey, orderId]`, value `{ v: values, s: stamp }` or a
 * tombstone to retract. The partition is chosen from `[transform, outputKey]` only, so every
 * contribution to one output key meets in one partition; the order id in the key lets the topic be
 * compacted, so it doubles as the aggregate stage's changelog (Kafka Streams' source-topic changelog).
 */
export interface RepartitionValue {
  v: Record<string, string | number | null>;
  /** Ordering stamp for `latest`. */
  s: string;
}

export function repartitionKey(transform: string, outputKeyJson: string, orderId: string): string {
  return `[${JSON.stringify(transform)},${outputKeyJson},${JSON.stringify(orderId)}]`;
}

/** The partition of an output key: FNV-1a of `transform|outputKey`, the same in every process. */
export function repartitionPartition(transform: string, outputKeyJson: string, partitions: number): number {
  let hash = 0x811c9dc5;
  const text = `${transform}|${outputKeyJson}`;
  for (let index = 0; index < text.length; index += 1) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return (hash >>> 0) % partitions;
}

const ORDER_PREFIX = 'o:';

const idCount = (state: { ids?: EventIds | undefined } | undefined): number => (state?.ids ? Object.keys(state.ids).length : 0);

export class OrderTask {
  /** Per order: its state and the ids of its recent events (the dedupe store); one changelog record each. */
  private readonly orders = new Map<string, OrderState>();
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

  process(topic: string, partition: number, messages: (RawMessage & { offset: string })[]): { records: OutRecord[]; counters: TaskCounters } {
    const counters: TaskCounters = { processed: 0, duplicates: 0, deadLetters: 0, late: 0 };
    const keyed = new Map<string, OutRecord>(); // outputs and changelog: the last value per key wins
    const ordered: OutRecord[] = []; // dead letters and late records, in input order
    const changelog = (key: string, value: string | null) => keyed.set(`c\u0000${key}`, { topic: this.topics.ordersChangelog, partition, key, value });

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
          const late = this.contribute(transform, pipeline, orderId, after, oldView, newView, arrivalMs, keyed);
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
    return { records: [...ordered, ...keyed.values()], counters };
  }

  get size(): { orders: number; eventIds: number } {
    return { orders: this.orders.size, eventIds: this.eventIdCount };
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
    const oldKey = oldRow && outputKey(transform, oldRow);
    const newValue = newRow && outputValue(transform, newRow);
    if (oldRow && newRow && newValue === outputValue(transform, oldRow)) return;
    if (oldKey !== null && (newRow === null || outputKey(transform, newRow) !== oldKey)) keyed.set(`${topic}\u0000${oldKey}`, { topic, key: oldKey, value: null });
    if (newRow && newValue !== null) {
      const key = outputKey(transform, newRow);
      keyed.set(`${topic}\u0000${key}`, { topic, key, value: newValue });
    }
  }

  private contributionsOf(transform: StreamTransform, pipeline: AggregatePipeline, view: OrderView | null): Map<string, string> {
    const result = new Map<string, string>();
    if (!view || !pipeline.filter(view)) return result;
    for (const contribution of pipeline.flatMap(view, this.shared.lookupFor(pipeline, view))) {
      result.set(outputKey(transform, contribution.key), JSON.stringify(contribution.values));
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
    keyed: Map<string, OutRecord>,
  ): { reason: string; window: string } | undefined {
    const frozen = state.frozen?.[transform.name];
    const applied = frozen !== undefined ? frozen : oldView;
    const before = this.contributionsOf(transform, pipeline, applied);
    const after = this.contributionsOf(transform, pipeline, newView);
    const changed = before.size !== after.size || [...after].some(([key, values]) => before.get(key) !== values);
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
    const stamp = newView ? `${newView.placedArrival}|${newView.placedEventId}` : '';
    const send = (key: string, values: string | null) => {
      const value = values === null ? null : `{"v":${values},"s":${JSON.stringify(stamp)}}`;
      keyed.set(`r\u0000${transform.name}\u0000${key}\u0000${orderId}`, {
        topic: this.topics.repartition,
        partition: repartitionPartition(transform.name, key, this.repartitionPartitions),
        key: repartitionKey(transform.name, key, orderId),
        value,
      });
    };
    for (const [key, values] of after) if (before.get(key) !== values) send(key, values);
    for (const key of before.keys()) if (!after.has(key)) send(key, null);
    return undefined;
  }
}
