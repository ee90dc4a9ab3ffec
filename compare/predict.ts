/**
 * What each side should hold for an output key, worked out by running the transformation's own
 * pipeline again over the input events under each side's documented semantics (DESIGN.md, "How a
 * pipeline's facts can be found again") — for any domain, knowing nothing of it:
 *
 *   batch     each source row as it stood at the batch's instant B (a dated output: its date's
 *             cut-off; others: the last run's), first deliveries only, joined to the rows as they stood
 *             at B, nothing late, days in the business time zone;
 *   joins     the same rows, joined as the stream joins them (at the row's upsert, latest or as of
 *             event time);
 *   horizon   every first delivery, whenever it arrived;
 *   redeliver redeliveries the stream's dedupe had forgotten are applied again;
 *   stream    and changes to windows already final are dropped: what the stream does.
 *
 * Between two neighbouring views one semantic changes, so the rows whose contributions differ between
 * them, and the events that make them differ, are that step's cause. Hypotheses vary one more thing: a
 * batch (or stream) cutting days at UTC midnight or by arrival day, a stream that does not deduplicate.
 *
 * A source row whose events all came once, before its B, none late, and whose joined rows did not change
 * between its upsert and B is the same in every view: it is evaluated once (the stream run), which keeps
 * a million-event scenario cheap. Calendar hypotheses re-evaluate only rows whose event time falls on
 * another day in UTC or on the day it arrived.
 */
import { encodeKey, type DomainModel, type EntityModel, type EventTypeModel, type Row } from '../src/model/domain.ts';
import type { Delivery, DomainEvent } from '../src/model/events.ts';
import { applyEvent, viewOf, type EntityState } from '../src/model/fold.ts';
import { KeyAggregate, combinePartials } from '../src/pipeline/aggregate.ts';
import type { AggregatePipeline, OutputRow, PerKeyPipeline, PipelineContext } from '../src/pipeline/dsl.ts';
import { SourceProcessor, aggregateId, outputKey, splitAggregateId, type AppliedView, type PipelineTransform, type ProcessorEnv } from '../src/pipeline/processor.ts';
import { EntityTables, Watermarks, dayOfInstant, eventTimeOfView, joinedEntities, lookupsFor } from '../src/pipeline/tables.ts';
import { BusinessCalendar } from '../src/pipeline/windows.ts';
import { businessDay, cutoffFor } from '../src/time.ts';

export interface PredictOptions {
  /** Dated batch output: business date D is computed once, at D's cut-off, and kept. */
  dated: boolean;
  /** The contract's event-time field, for dated outputs. */
  eventTimeField: string | undefined;
  /** The date column of a contract that windows by day: each row's date is its event time's business day. */
  dayColumn?: string | undefined;
  /** Local time of the nightly cut-off on the day after D (default "02:00"). */
  cutoffTime: string;
  /** The last run's cut-off: what an output swapped by every run last saw (none: everything). */
  watermark: Date | undefined;
  /** The dates the batch ran for, when known (a dated output has no rows for the others). */
  batchDates?: readonly string[];
}

export type ViewName = 'batch' | 'joins' | 'horizon' | 'redeliver' | 'stream' | 'batch_utc' | 'batch_arrival' | 'stream_nodedupe' | 'stream_utc' | 'stream_arrival';
/** The main chain, batch to stream: each step changes one semantic. */
export const CHAIN: readonly ViewName[] = ['batch', 'joins', 'horizon', 'redeliver', 'stream'];

/** One source row (its encoded key) and its deliveries, in arrival order. */
interface Instance {
  key: string;
  deliveries: SourceDelivery[];
}
/** A delivery of a source event, with its type, its arrival in ms, and its place in the input (ties in arrival keep input order). */
type SourceDelivery = Delivery & { eventType: EventTypeModel; arrivalMs: number; seq: number };

/** What a view says about one output key: its row (null: absent) and which source rows it comes from. */
export interface KeyView {
  row: OutputRow | null;
  /** Source key → the contribution (aggregate) or row (per key) it adds, as JSON, to compare views. */
  sources: Map<string, string>;
}

export interface SourceFacts {
  /** The event ids of its first deliveries that arrived after its B (in arrival order). */
  afterB: string[];
  /** Whether it existed at B; if not, the upsert after B that created it (if any did). */
  existedAtB: boolean;
  createdBy: string | undefined;
  /** Its upsert's event id at B and overall. */
  pinAtB: string | undefined;
  pin: string | undefined;
  /** Late-dropped events (stream), and redeliveries the stream applied again that changed something. */
  late: string[];
  reapplied: string[];
  /** Joined rows that changed between its upsert and B: the events, and whether one was deleted. */
  joinEvents: string[];
  joinDeleted: boolean;
}

/** A source row the pipeline puts on another date than the contract's day for it. */
export interface Misdated {
  source: string;
  /** Its upsert's event id, the instant the contract dates it by, and the days that instant falls on. */
  pin: string | undefined;
  instant: string;
  day: string;
  utc: string;
  arrival: string;
  /** The dates the stream run puts it on instead. */
  putOn: string[];
}

export class Predictor {
  readonly source: EntityModel;
  private readonly instances = new Map<string, Instance>();
  private readonly tables: EntityTables;
  private readonly watermarks: Watermarks;
  private readonly utcWatermarks: Watermarks;
  private readonly tableDeliveries = new Map<string, Map<string, { arrivalMs: number; eventTimeMs: number; eventId: string }[]>>();
  private readonly calendar: BusinessCalendar;
  private readonly utc = new BusinessCalendar('UTC');
  /** The stream run over every source row: outputs, and what each source row contributes. */
  private stream!: ViewRun;
  private readonly facts = new Map<string, SourceFacts>();
  private readonly sensitive = new Set<string>();
  private readonly runs = new Map<ViewName, ViewRun>();

  constructor(
    readonly domain: DomainModel,
    readonly transform: PipelineTransform,
    deliveries: readonly Delivery[],
    private readonly options: PredictOptions,
  ) {
    const pipeline = transform.stream;
    this.source = domain.entity(pipeline.source)!;
    this.calendar = new BusinessCalendar(domain.timeZone);
    this.tables = new EntityTables(domain, joinedEntities([pipeline]));
    this.watermarks = new Watermarks(domain.timeZone);
    this.utcWatermarks = new Watermarks('UTC');
    const aggregate = pipeline.kind === 'aggregate' && pipeline.window ? pipeline : undefined;
    const closers = aggregate ? [this.watermarks.closer(aggregate), this.utcWatermarks.closer(aggregate)] : [];
    for (const [seq, delivery] of deliveries.entries()) {
      const eventType = domain.eventType(delivery.event.type);
      if (!eventType) continue;
      const arrivalMs = Date.parse(delivery.arrivalTime);
      const key = encodeKey(eventType.entity, delivery.event.payload);
      if (eventType.entity === this.source) {
        let instance = this.instances.get(key);
        if (!instance) this.instances.set(key, (instance = { key, deliveries: [] }));
        instance.deliveries.push({ ...delivery, eventType, arrivalMs, seq });
        for (const closer of closers) closer.observe(Date.parse(delivery.event.eventTime), arrivalMs);
      } else if (this.tables.wants(eventType.entity) && !delivery.redelivery) {
        this.tables.observe(eventType, key, delivery.event, delivery.arrivalTime, arrivalMs);
        let byKey = this.tableDeliveries.get(eventType.entity.name);
        if (!byKey) this.tableDeliveries.set(eventType.entity.name, (byKey = new Map()));
        let list = byKey.get(key);
        if (!list) byKey.set(key, (list = []));
        list.push({ arrivalMs, eventTimeMs: Date.parse(delivery.event.eventTime), eventId: delivery.event.eventId });
      }
    }
    this.runStream();
  }

  /** The prediction of each view for the output keys asked (JSON keys as outputKey writes them). */
  keys(keys: readonly string[], views: readonly ViewName[]): Map<string, Partial<Record<ViewName, KeyView>>> {
    const result = new Map<string, Partial<Record<ViewName, KeyView>>>(keys.map((key) => [key, {}]));
    for (const view of views) {
      const run = view === 'stream' ? this.stream : this.run(view);
      for (const key of keys) result.get(key)![view] = this.keyView(run, key, view);
    }
    return result;
  }

  factsOf(sourceKey: string): SourceFacts | undefined {
    return this.facts.get(sourceKey);
  }

  /**
   * Where a source row stands in time, for a picture of why it differs: the batch's instant B for it, and
   * its window (windowed pipelines): end, end + grace, and when the stream's watermark closed it.
   */
  timeOf(sourceKey: string): { cutoff: string | undefined; window?: { id: string; end: string; graceEnd: string; closedAt: string | undefined } } {
    const instance = this.instances.get(sourceKey);
    if (!instance) return { cutoff: undefined };
    const b = this.batchInstant(instance, 'business');
    const cutoff = b === undefined || !Number.isFinite(b) ? undefined : new Date(b).toISOString();
    const pipeline = this.transform.stream;
    if (pipeline.kind !== 'aggregate' || !pipeline.window) return { cutoff };
    const state = foldUntil(instance.deliveries.filter((delivery) => !delivery.redelivery), Infinity);
    if (!state?.row) return { cutoff };
    const closer = this.watermarks.closer(pipeline);
    const id = closer.calendar.windowOf(Date.parse(pipeline.window.eventTime(state.row)));
    const { endMs } = closer.calendar.boundsOf(id);
    const closedAt = closer.closedAt(id);
    return { cutoff, window: { id, end: new Date(endMs).toISOString(), graceEnd: new Date(endMs + pipeline.window.graceMs).toISOString(), closedAt: Number.isFinite(closedAt) ? new Date(closedAt).toISOString() : undefined } };
  }

  /**
   * The source rows the stream run puts into, or takes out of, output key `key` against the contract:
   * a contract that windows by day dates each row by its event time's business day, so a source row
   * the pipeline puts on another date is a bug in the pipeline, whatever the two sides hold.
   */
  misdatedAt(key: string): Misdated[] {
    this.misdated ??= this.findMisdated();
    return this.misdated.get(key) ?? [];
  }

  private misdated: Map<string, Misdated[]> | undefined;

  private findMisdated(): Map<string, Misdated[]> {
    const byKey = new Map<string, Misdated[]>();
    const column = this.options.dayColumn;
    const index = column === undefined ? -1 : this.transform.key.indexOf(column);
    if (index < 0) return byKey;
    // Output key → the dates the stream run gives its source rows, per source row.
    const placed = new Map<string, { key: string; date: string }[]>();
    const place = (source: string, key: string, date: unknown) => {
      if (typeof date !== 'string') return;
      let list = placed.get(source);
      if (!list) placed.set(source, (list = []));
      list.push({ key, date: date.slice(0, 10) });
    };
    for (const [key, { source }] of this.stream.perKey) place(source, key, (JSON.parse(key) as unknown[])[index]);
    for (const [id, aggregate] of this.stream.aggregates) {
      const [, key] = splitAggregateId(id);
      const date = (JSON.parse(key) as unknown[])[index];
      for (const source of aggregate.entries.keys()) place(source, key, date);
    }
    for (const [source, places] of placed) {
      const instance = this.instances.get(source);
      if (!instance) continue;
      const day = this.batchDate(instance, 'business');
      const wrong = places.filter((place) => place.date !== day);
      if (day === undefined || wrong.length === 0) continue;
      const misdated: Misdated = { source, pin: this.facts.get(source)?.pin, instant: this.instantOf(instance) ?? '', day, utc: this.batchDate(instance, 'utc')!, arrival: this.batchDate(instance, 'arrival')!, putOn: [...new Set(wrong.map((place) => place.date))] };
      // Where it is, and where the contract puts it: the same key on its business day.
      for (const place of wrong) {
        const values = JSON.parse(place.key) as unknown[];
        values[index] = day;
        for (const key of [place.key, JSON.stringify(values)]) {
          let list = byKey.get(key);
          if (!list) byKey.set(key, (list = []));
          if (!list.includes(misdated)) list.push(misdated);
        }
      }
    }
    return byKey;
  }

  /** The event ids a calendar hypothesis moves: its source rows' upserts. */
  pinOf(sourceKey: string): string | undefined {
    return this.facts.get(sourceKey)?.pin;
  }

  /** The source key's entity, for messages. */
  get entityName(): string {
    return this.source.name;
  }

  // --- The stream run over everything, and the facts it gives. ---

  private runStream(): void {
    const processor = new SourceProcessor(this.source, [this.transform], this.env(this.watermarks, (view) => this.dayOf(view)), {});
    const run: ViewRun = { perKey: new Map(), aggregates: processor.aggregates };
    const late = new Map<string, string[]>();
    const reapplied = new Map<string, string[]>();
    this.feed(processor, this.deliveriesOf([...this.instances.values()], true), run, (sourceKey, delivery, outcome) => {
      if (outcome === 'duplicate') return;
      if (outcome.late) push(late, sourceKey, delivery.event.eventId);
      if (delivery.redelivery && outcome.changed) push(reapplied, sourceKey, delivery.event.eventId);
    });
    this.stream = run;
    for (const instance of this.instances.values()) {
      const facts = this.factsFor(instance, late.get(instance.key) ?? [], reapplied.get(instance.key) ?? []);
      this.facts.set(instance.key, facts);
      const redelivered = instance.deliveries.some((delivery) => delivery.redelivery);
      // A row of a date the batch never ran is in no batch view: it is never the stream run's alone.
      const unrun = this.batchInstant(instance, 'business') === undefined;
      if (unrun || redelivered || facts.afterB.length > 0 || facts.late.length > 0 || facts.joinEvents.length > 0 || facts.pinAtB !== facts.pin) this.sensitive.add(instance.key);
    }
  }

  /** B: when the batch saw this source row (dated: its day's cut-off; else the watermark; Infinity: never cut). */
  private batchInstant(instance: Instance, day: 'business' | 'utc' | 'arrival'): number | undefined {
    if (!this.options.dated) return this.options.watermark?.getTime() ?? Infinity;
    const date = this.batchDate(instance, day);
    if (date === undefined) return undefined;
    if (this.options.batchDates && !this.options.batchDates.includes(date)) return undefined;
    return cutoffFor(date, this.options.cutoffTime, this.domain.timeZone).getTime();
  }

  /** The business date a dated batch puts the row on: the day of its event-time field (or its upsert's time). */
  private batchDate(instance: Instance, day: 'business' | 'utc' | 'arrival'): string | undefined {
    const upserts = instance.deliveries.filter((delivery) => !delivery.redelivery && delivery.eventType.kind.kind !== 'delete' && delivery.eventType.kind.kind !== 'patch');
    const last = upserts[upserts.length - 1];
    if (!last) return undefined;
    if (day === 'arrival') return businessDay(last.arrivalTime, this.domain.timeZone);
    const instant = this.instantOf(instance)!;
    return day === 'utc' ? new Date(Date.parse(instant)).toISOString().slice(0, 10) : this.calendar.dayOf(Date.parse(instant));
  }

  /** The instant a dated batch dates the row by: its last upsert's event-time field (or event time). */
  private instantOf(instance: Instance): string | undefined {
    const upserts = instance.deliveries.filter((delivery) => !delivery.redelivery && delivery.eventType.kind.kind !== 'delete' && delivery.eventType.kind.kind !== 'patch');
    const last = upserts[upserts.length - 1];
    if (!last) return undefined;
    const field = this.options.eventTimeField;
    const value = field !== undefined ? last.event.payload[field] : undefined;
    return typeof value === 'string' ? value : last.event.eventTime;
  }

  private factsFor(instance: Instance, late: string[], reapplied: string[]): SourceFacts {
    const b = this.batchInstant(instance, 'business');
    const first = instance.deliveries.filter((delivery) => !delivery.redelivery);
    const atB = foldUntil(first, b ?? -Infinity);
    const all = foldUntil(first, Infinity);
    const after = b === undefined ? [] : first.filter((delivery) => delivery.arrivalMs > b);
    const existedAtB = viewOf(atB) !== null;
    // The upsert after B that made the row exist: the proof that it is only on the stream's side.
    let createdBy: string | undefined;
    if (!existedAtB) {
      let state = atB;
      for (const delivery of after) {
        state = applyEvent(delivery.eventType, state, delivery.event, delivery.arrivalTime);
        if (viewOf(state) !== null) {
          createdBy = delivery.event.eventId;
          break;
        }
      }
    }
    const facts: SourceFacts = {
      afterB: after.map((delivery) => delivery.event.eventId),
      existedAtB,
      createdBy,
      pinAtB: atB?.pin?.eventId,
      pin: all?.pin?.eventId,
      late,
      reapplied,
      joinEvents: [],
      joinDeleted: false,
    };
    // Joined rows the stream's lookup (at the upsert: latest, or as of its event time) and the batch's (as
    // they stand at B) see differently, and the events that make them differ: the versions the batch
    // sees and the stream's lookup does not.
    const view = atB?.pin && atB.row ? { row: atB.row, pin: atB.pin } : null;
    if (view && b !== undefined) {
      const pinMs = Date.parse(view.pin.arrival);
      const eventTimeMs = Date.parse(eventTimeOfView(this.source, view));
      for (const [entity, key] of unique(this.lookupsOf(view, b))) {
        const asOf = this.transform.stream.joins[entity] === 'asOfEventTime';
        const atStream = this.tables.lookup(entity, key, pinMs, asOf ? eventTimeMs : undefined);
        const atBatch = this.tables.lookup(entity, key, b, undefined);
        if (JSON.stringify(atStream ?? null) === JSON.stringify(atBatch ?? null)) continue;
        const unseen = (this.tableDeliveries.get(entity)?.get(key) ?? []).filter((change) => change.arrivalMs <= b && (change.arrivalMs > pinMs || (asOf && change.eventTimeMs > eventTimeMs)));
        facts.joinEvents.push(...unseen.map((change) => change.eventId));
        if (atBatch === undefined) facts.joinDeleted = true;
      }
      if (facts.joinEvents.length > 0) facts.joinEvents.unshift(view.pin.eventId);
    }
    return facts;
  }

  /**
   * The (entity, key) pairs the pipeline looks up for a view as the batch runs it — joined to the rows as
   * they stand at `atMs` — found by calling it with a lookup that records what it was asked. The batch's
   * lookups are the ones whose answers its output depends on (a row the stream reaches through another
   * row, and the batch does not, is not what makes the batch hold what it holds).
   */
  private lookupsOf(view: AppliedView, atMs: number): [string, string][] {
    const asked: [string, string][] = [];
    const pipeline = this.transform.stream;
    const ctx: PipelineContext = {
      tables: lookupsFor(this.domain, pipeline, view, (entity, key) => {
        asked.push([entity, key]);
        return this.tables.lookup(entity, key, atMs, undefined);
      }),
      dayOf: this.dayOf(view),
      pin: view.pin,
    };
    try {
      if (!pipeline.filter(view.row)) return asked;
      if (pipeline.kind === 'perKey') pipeline.map(view.row, ctx);
      else pipeline.flatMap(view.row, ctx);
    } catch {
      // A pipeline that throws on this row throws in the stream too; it asked for what it asked for.
    }
    return asked;
  }

  private dayOf(_view: AppliedView): (instant: string) => string {
    return dayOfInstant(this.calendar);
  }

  private env(watermarks: Watermarks, dayOf: (view: AppliedView) => (instant: string) => string, joinsAt?: (view: AppliedView) => number | undefined): ProcessorEnv {
    return {
      context: (pipeline, view) => ({
        tables: lookupsFor(this.domain, pipeline, view, (entity, key, arrivalMs, eventTimeMs) => {
          const at = joinsAt?.(view);
          return at === undefined ? this.tables.lookup(entity, key, arrivalMs, eventTimeMs) : this.tables.lookup(entity, key, at, undefined);
        }),
        dayOf: dayOf(view),
        pin: view.pin,
      }),
      closer: (pipeline) => watermarks.closer(pipeline),
    };
  }

  // --- The other views, over the source rows that can differ in them. ---

  private run(view: ViewName): ViewRun {
    let run = this.runs.get(view);
    if (run) return run;
    const subset = this.subsetFor(view);
    const instances = [...subset].map((key) => this.instances.get(key)!);
    switch (view) {
      case 'batch':
      case 'joins':
      case 'batch_utc':
      case 'batch_arrival': {
        const day = view === 'batch_utc' ? 'utc' : view === 'batch_arrival' ? 'arrival' : 'business';
        run = this.batchRun(instances, day, view !== 'joins');
        break;
      }
      default:
        run = this.streamRun(instances, view);
    }
    run.subset = subset;
    this.runs.set(view, run);
    return run;
  }

  /** The source rows evaluated in a view of their own; the rest are as in the stream run. */
  private subsetFor(view: ViewName): Set<string> {
    if (view === 'batch_utc' || view === 'batch_arrival' || view === 'stream_utc' || view === 'stream_arrival') {
      const moved = new Set(this.sensitive);
      for (const instance of this.instances.values()) {
        const business = this.batchDate(instance, 'business');
        if (business !== this.batchDate(instance, view.endsWith('utc') ? 'utc' : 'arrival')) moved.add(instance.key);
      }
      return moved;
    }
    return this.sensitive;
  }

  private batchRun(instances: Instance[], day: 'business' | 'utc' | 'arrival', joinsAtB: boolean): ViewRun {
    const bOf = new Map<string, number>();
    const calendar = day === 'utc' ? this.utc : this.calendar;
    const dayOf = (view: AppliedView) => (day === 'arrival' ? () => businessDay(view.pin.arrival, this.domain.timeZone) : dayOfInstant(calendar));
    const keyOfView = new Map<Row, string>();
    const env = this.env(this.watermarks, dayOf, joinsAtB ? (view) => bOf.get(keyOfView.get(view.row)!) : undefined);
    const processor = new SourceProcessor(this.source, [this.transform], env, { lateDrops: false });
    const run: ViewRun = { perKey: new Map(), aggregates: new Map() };
    const pipeline = this.transform.stream;
    for (const instance of instances) {
      const b = this.batchInstant(instance, day);
      if (b === undefined) continue;
      const state = foldUntil(instance.deliveries.filter((delivery) => !delivery.redelivery), b);
      if (!state?.pin || !state.row) continue;
      const view = { row: state.row, pin: state.pin };
      bOf.set(instance.key, b);
      keyOfView.set(view.row, instance.key);
      if (pipeline.kind === 'perKey') {
        const row = processor.rowOf(pipeline as PerKeyPipeline, view);
        if (row) setRow(run, this.transform, instance.key, row);
      } else {
        const stamp = `${view.pin.arrival}|${view.pin.eventId}`;
        for (const [key, { values }] of processor.contributionsOf(this.transform, pipeline as AggregatePipeline, view)) contribute(run, this.transform, key, instance.key, { values, stamp });
      }
    }
    return run;
  }

  private streamRun(instances: Instance[], view: ViewName): ViewRun {
    const arrival = view === 'stream_arrival';
    const watermarks = view === 'stream_utc' ? this.utcWatermarks : this.watermarks;
    const calendar = view === 'stream_utc' ? this.utc : this.calendar;
    const dayOf = (applied: AppliedView) => (arrival ? () => businessDay(applied.pin.arrival, this.domain.timeZone) : dayOfInstant(calendar));
    const processor = new SourceProcessor(this.source, [this.transform], this.env(watermarks, dayOf), {
      dedupe: view !== 'stream_nodedupe',
      // The stream view itself is the stream run (runStream); these are its variants.
      lateDrops: view === 'stream_nodedupe' || view === 'stream_utc',
    });
    const run: ViewRun = { perKey: new Map(), aggregates: processor.aggregates };
    const nodedupe = view === 'stream_nodedupe';
    const deliveries = this.deliveriesOf(instances, view !== 'horizon', nodedupe && this.transform.stream.kind === 'aggregate');
    this.feed(processor, deliveries, run, (sourceKey, delivery, outcome) => {
      if (nodedupe && outcome !== 'duplicate' && outcome.changed && (delivery.redelivery || sourceKey.includes(PHANTOM))) push(this.duplicated, sourceKey, delivery.event.eventId);
    });
    return run;
  }

  /**
   * The deliveries of the instances, in arrival order (first ones only, or all). With `phantoms`, a
   * stream that does not deduplicate: every redelivered upsert starts a copy of its row that the later
   * events of its key change too, so an aggregate counts it again — what an additive stream does.
   */
  private deliveriesOf(instances: Instance[], redeliveries: boolean, phantoms = false): { key: string; delivery: SourceDelivery }[] {
    const all: { key: string; delivery: SourceDelivery }[] = [];
    for (const instance of instances) {
      for (const [index, delivery] of instance.deliveries.entries()) {
        if (!redeliveries && delivery.redelivery) continue;
        all.push({ key: instance.key, delivery });
        if (!phantoms || !delivery.redelivery || (delivery.eventType.kind.kind !== 'upsert' && delivery.eventType.kind.kind !== 'fold')) continue;
        const phantom = `${instance.key}${PHANTOM}${index}`;
        for (const later of instance.deliveries.slice(index)) all.push({ key: phantom, delivery: later });
      }
    }
    all.sort((a, b) => a.delivery.arrivalMs - b.delivery.arrivalMs || a.delivery.seq - b.delivery.seq);
    return all;
  }

  /** The redeliveries a stream without dedupe applied to a source row (or its copies) that changed what it contributes. */
  duplicatedEvents(sourceKeys: readonly string[]): string[] {
    return sourceKeys.flatMap((key) => this.duplicated.get(key) ?? []).filter((id, index, list) => list.indexOf(id) === index);
  }

  private readonly duplicated = new Map<string, string[]>();

  /** Feeds deliveries to a processor, keeping the per-key rows it emits and saying what each delivery did. */
  private feed(processor: SourceProcessor, all: { key: string; delivery: SourceDelivery }[], run: ViewRun, observe?: (sourceKey: string, delivery: SourceDelivery, outcome: 'duplicate' | { late: boolean; changed: boolean }) => void): void {
    for (const { key, delivery } of all) {
      const result = processor.process(key, delivery.eventType, delivery.event as DomainEvent, delivery.arrivalTime, delivery.arrivalMs);
      if (result.duplicate) {
        observe?.(key, delivery, 'duplicate');
        continue;
      }
      const touched = processor.takeTouched().size > 0;
      observe?.(key, delivery, { late: result.late.length > 0, changed: touched || result.rows.length > 0 });
      for (const change of result.rows) {
        if (change.oldKey !== null) run.perKey.delete(change.oldKey);
        if (change.row && change.newKey !== null) run.perKey.set(change.newKey, { row: change.row, source: key });
      }
    }
  }

  private keyView(run: ViewRun, key: string, view: ViewName): KeyView {
    const pipeline = this.transform.stream;
    const sources = new Map<string, string>();
    const subset = run.subset;
    if (pipeline.kind === 'perKey') {
      // Rows of the stream run whose source is not re-evaluated here, and the view's own.
      const own = run.perKey.get(key);
      const base = this.stream.perKey.get(key);
      const entry = own ?? (base && subset && !subset.has(base.source) ? base : view === 'stream' ? base : undefined);
      if (entry) sources.set(entry.source, JSON.stringify(entry.row));
      return { row: entry?.row ?? null, sources };
    }
    const aggregation = (pipeline as AggregatePipeline).aggregations;
    const combined = new KeyAggregate(aggregation);
    const id = aggregateId(this.transform.name, key);
    const base = this.stream.aggregates.get(id);
    if (base) {
      for (const [sourceKey, contribution] of base.entries) {
        if (view !== 'stream' && subset?.has(sourceKey)) continue;
        combined.apply(sourceKey, contribution);
        sources.set(sourceKey, JSON.stringify(contribution.values));
      }
    }
    if (view !== 'stream') {
      const own = run.aggregates.get(id);
      for (const [sourceKey, contribution] of own?.entries ?? []) {
        combined.apply(sourceKey, contribution);
        sources.set(sourceKey, JSON.stringify(contribution.values));
      }
    }
    if (combined.isEmpty) return { row: null, sources };
    const keyValues = JSON.parse(key) as unknown[];
    const row: OutputRow = Object.fromEntries(this.transform.key.map((column, index) => [column, (keyValues[index] ?? null) as OutputRow[string]]));
    return { row: { ...row, ...combinePartials(aggregation, [combined.partial()]) }, sources };
  }
}

interface ViewRun {
  /** Per-key outputs: output key → the row and its source. */
  perKey: Map<string, { row: OutputRow; source: string }>;
  /** Aggregates: aggregate id → contributions per source row. */
  aggregates: Map<string, KeyAggregate>;
  /** The source rows this view evaluated itself (absent: the stream run, which evaluated all). */
  subset?: Set<string>;
}

function setRow(run: ViewRun, transform: PipelineTransform, source: string, row: OutputRow): void {
  run.perKey.set(outputKey(transform, row), { row, source });
}

function contribute(run: ViewRun, transform: PipelineTransform, key: string, source: string, contribution: { values: OutputRow; stamp: string }): void {
  const id = aggregateId(transform.name, key);
  let aggregate = run.aggregates.get(id);
  if (!aggregate) run.aggregates.set(id, (aggregate = new KeyAggregate((transform.stream as AggregatePipeline).aggregations)));
  aggregate.apply(source, contribution);
}

/** Separates a source key from the number of the redelivery a phantom copy of its row starts at. */
const PHANTOM = '\u0001';

const unique = (pairs: [string, string][]): [string, string][] => [...new Map(pairs.map((pair) => [pair.join('\u0000'), pair])).values()];

function push(map: Map<string, string[]>, key: string, value: string): void {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  list.push(value);
}

/** A source row's state after its deliveries that arrived by `untilMs`, in arrival order. */
function foldUntil(deliveries: readonly SourceDelivery[], untilMs: number): EntityState | undefined {
  let state: EntityState | undefined;
  for (const delivery of deliveries) {
    if (delivery.arrivalMs > untilMs) break;
    state = applyEvent(delivery.eventType, state, delivery.event, delivery.arrivalTime);
  }
  return state;
}

