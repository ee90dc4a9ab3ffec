/**
 * The versioned tables pipelines join, built from the joined entities' events in arrival order, and
 * the standard context a pipeline function gets: lookups pinned to the source row's upsert (its
 * arrival for `latest`, its event time too for `asOfEventTime`), the domain's calendar, and one
 * watermark per (calendar, grace). The streaming job feeds it from every partition of the entity topics;
 * the comparator feeds it a scenario's or the topics' events to predict the stream.
 *
 * A joined entity's events are folded like a source's (src/model/fold.ts), deduplicated by event id
 * for good (tables are small, and an old patch redelivered after a newer one must not roll it back);
 * every event gives a version with its arrival and event time.
 */
import { encodeKeyArgument, type DomainModel, type EntityModel, type EventTypeModel, type Row } from '../model/domain.ts';
import type { DomainEvent } from '../model/events.ts';
import { applyEvent, viewOf, type EntityState } from '../model/fold.ts';
import { memoised } from '../memo.ts';
import type { AggregatePipeline, PipelineContext, StreamPipeline, TableLookup } from './dsl.ts';
import type { AppliedView, ProcessorEnv } from './processor.ts';
import { VersionedTable } from './versioned-table.ts';
import { BusinessCalendar, FixedCalendar, WindowCloser, type WindowCalendar } from './windows.ts';

/** The entities some pipeline joins (each gets a table). */
export function joinedEntities(pipelines: readonly StreamPipeline[]): Set<string> {
  return new Set(pipelines.flatMap((pipeline) => Object.keys(pipeline.joins)));
}

export class EntityTables {
  readonly tables = new Map<string, VersionedTable<Row>>();
  private readonly states = new Map<string, Map<string, { state: EntityState | undefined; ids: Set<string> }>>();

  constructor(
    readonly domain: DomainModel,
    entities: Iterable<string>,
  ) {
    for (const name of entities) {
      this.tables.set(name, new VersionedTable<Row>());
      this.states.set(name, new Map());
    }
  }

  wants(entity: EntityModel): boolean {
    return this.tables.has(entity.name);
  }

  /** Feeds one delivery of an event of a joined entity (in arrival order per key). */
  observe(eventType: EventTypeModel, key: string, event: DomainEvent, arrival: string, arrivalMs: number): void {
    const states = this.states.get(eventType.entity.name);
    if (!states) return;
    let entry = states.get(key);
    if (!entry) states.set(key, (entry = { state: undefined, ids: new Set() }));
    if (entry.ids.has(event.eventId)) return;
    entry.ids.add(event.eventId);
    entry.state = applyEvent(eventType, entry.state, event, arrival);
    this.tables.get(eventType.entity.name)!.put(key, { arrivalMs, eventTimeMs: Date.parse(event.eventTime), value: viewOf(entry.state) });
  }

  /** The row of `entity` at `key` as it stood at an arrival (and, as of event time, an event time). */
  lookup(entity: string, key: string, arrivalMs: number, eventTimeMs: number | undefined): Row | undefined {
    const table = this.tables.get(entity);
    if (!table) return undefined;
    return eventTimeMs === undefined ? table.latest(key, arrivalMs) : table.asOfEventTime(key, arrivalMs, eventTimeMs);
  }

  get size(): Record<string, number> {
    return Object.fromEntries([...this.tables].map(([name, table]) => [name, table.size.versions]));
  }
}

/**
 * The instants a view's lookups are pinned to, parsed once per view (every pipeline looks up the same
 * view) and kept on it out of JSON: a frozen view is stored in the key's changelog record.
 */
const POINTS = Symbol('lookup points');

/** When a source row happened, for `asOfEventTime`: its event-time field, else its upsert's event time. */
export function eventTimeOfView(entity: EntityModel, view: AppliedView): string {
  const value = entity.eventTime === undefined ? undefined : view.row[entity.eventTime];
  return typeof value === 'string' ? value : view.pin.eventTime;
}

/** Table lookups for one view, in the modes the pipeline declared, through `find`. */
export function lookupsFor(domain: DomainModel, pipeline: StreamPipeline, view: AppliedView, find: Find): TableLookup {
  return new ViewLookup(domain, pipeline, view, find);
}

type Find = (entity: string, key: string, arrivalMs: number, eventTimeMs: number | undefined) => Row | undefined;

/**
 * One view's lookups for one pipeline, and the context its functions get: an object of its own
 * rather than closures (a context is made for every pipeline and view, several per event). The
 * instants are parsed on the first lookup and kept on the view (POINTS), which every pipeline shares.
 */
class ViewLookup implements TableLookup {
  constructor(
    private readonly domain: DomainModel,
    private readonly pipeline: StreamPipeline,
    private readonly view: AppliedView,
    private readonly find: Find,
  ) {}

  get(entity: string, key: unknown): never {
    const mode = this.pipeline.joins[entity];
    if (!mode) throw new Error(`pipeline reads table ${entity} without declaring it in joins`);
    const points = memoised(this.view, POINTS, (view) => ({ arrivalMs: Date.parse(view.pin.arrival), eventTimeMs: Date.parse(eventTimeOfView(this.domain.entity(this.pipeline.source)!, view)) }));
    return this.find(entity, encodeKeyArgument(this.domain.entity(entity)!, key), points.arrivalMs, mode === 'latest' ? undefined : points.eventTimeMs) as never;
  }
}

/** The standard context: lookups in `tables`, the calendar's days, the view's pin. */
class TablesContext extends ViewLookup implements PipelineContext {
  readonly tables: TableLookup = this;
  readonly pin: AppliedView['pin'];
  constructor(domain: DomainModel, pipeline: StreamPipeline, view: AppliedView, find: Find, readonly dayOf: (instant: string) => string) {
    super(domain, pipeline, view, find);
    this.pin = view.pin;
  }
}

/** One calendar per time zone and one window closer per (window size, grace), shared by the pipelines. */
export class Watermarks {
  private readonly calendars = new Map<string, WindowCalendar>();
  private readonly closers = new Map<string, WindowCloser>();
  /** Per pipeline, its closer; per source, its closers: both asked for on every event, worked out once. */
  private readonly byPipeline = new WeakMap<AggregatePipeline, WindowCloser>();
  private readonly bySource = new Map<string, WindowCloser[]>();
  constructor(readonly timeZone: string) {}

  calendar(size: 'businessDay' | number): WindowCalendar {
    const id = String(size);
    let calendar = this.calendars.get(id);
    if (!calendar) this.calendars.set(id, (calendar = size === 'businessDay' ? new BusinessCalendar(this.timeZone) : new FixedCalendar(size)));
    return calendar;
  }

  closer(pipeline: AggregatePipeline): WindowCloser {
    const known = this.byPipeline.get(pipeline);
    if (known) return known;
    const window = pipeline.window!;
    const id = `${pipeline.source}|${window.size}|${window.graceMs}`;
    let closer = this.closers.get(id);
    if (!closer) {
      this.closers.set(id, (closer = new WindowCloser(this.calendar(window.size), window.graceMs)));
      this.bySource.clear();
    }
    this.byPipeline.set(pipeline, closer);
    return closer;
  }

  /** Every closer of `source`'s pipelines; each observes the source topic's events. */
  closersOf(source: string): readonly WindowCloser[] {
    let closers = this.bySource.get(source);
    if (!closers) {
      closers = [...this.closers].filter(([id]) => id.startsWith(`${source}|`)).map(([, closer]) => closer);
      this.bySource.set(source, closers);
    }
    return closers;
  }

  get windowCount(): number {
    return Math.max(0, ...[...this.closers.values()].map((closer) => closer.dayCount));
  }
}

/**
 * The business day of an instant in a time zone, cached per quarter hour (offsets change on quarter
 * hours); the last instant asked is remembered too: every pipeline asks the day of the same field of
 * the same view, and parsing the text each time was a good part of an event's cost.
 */
export function dayOfInstant(calendar: BusinessCalendar): (instant: string) => string {
  let lastInstant: string | undefined;
  let lastDay = '';
  return (instant) => {
    if (instant !== lastInstant) {
      lastDay = calendar.dayOf(Date.parse(instant));
      lastInstant = instant;
    }
    return lastDay;
  };
}

/** The standard environment: lookups in `tables`, the domain's calendar, closers from `watermarks`. */
export function pipelineEnv(domain: DomainModel, tables: EntityTables, watermarks: Watermarks): ProcessorEnv {
  const dayOf = dayOfInstant(watermarks.calendar('businessDay') as BusinessCalendar);
  const find: Find = (entity, key, arrivalMs, eventTimeMs) => tables.lookup(entity, key, arrivalMs, eventTimeMs);
  return {
    context: (pipeline, view): PipelineContext => new TablesContext(domain, pipeline, view, find, dayOf),
    closer: (pipeline) => watermarks.closer(pipeline),
  };
}

