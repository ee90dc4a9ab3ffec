/**
 * What every task of a process shares, read from *all* partitions of the input topics (global, like
 * Kafka Streams' GlobalKTable — the topics themselves are the changelog, so nothing else is stored):
 * the three versioned entity tables and, from the orders topic's headers, the window closers that
 * give the watermark. Invalid messages are skipped here; the task owning their partition dead-letters them.
 */
import type { Customer, FxRate, Product } from '../../src/domain/entities.ts';
import { ENTITY_TOPICS, HEADERS, keyOf, type Entity } from '../../src/domain/events.ts';
import type { TableName, TableLookup, LookupMode, OrderView, StreamPipeline } from '../../src/transforms/stream-dsl.ts';
import { BusinessCalendar, WindowCloser } from '../operators/day-window.ts';
import { VersionedTable } from '../operators/versioned-table.ts';
import { memoised } from '../../src/memo.ts';
import { arrivalOf, decode, header, type RawMessage } from './codec.ts';

/** The instants a view's lookups are pinned to, parsed once per view (every pipeline looks up the same view) and kept on it. */
const POINTS = Symbol('lookup points');

export class SharedState {
  readonly tables = { customers: new VersionedTable<Customer>(), products: new VersionedTable<Product>(), fxRates: new VersionedTable<FxRate>() };
  private readonly calendars = new Map<string, BusinessCalendar>();
  private readonly closers = new Map<string, WindowCloser>();

  /** A closer per distinct (time zone, grace) among the pipelines; must be created before reading orders. */
  closerFor(timeZone: string, graceMs: number): WindowCloser {
    const id = `${timeZone}|${graceMs}`;
    let closer = this.closers.get(id);
    if (!closer) {
      let calendar = this.calendars.get(timeZone);
      if (!calendar) {
        calendar = new BusinessCalendar(timeZone);
        this.calendars.set(timeZone, calendar);
      }
      closer = new WindowCloser(calendar, graceMs);
      this.closers.set(id, closer);
    }
    return closer;
  }

  /** Feeds one message of an input topic (any partition). */
  observe(entity: Entity, message: RawMessage): void {
    if (entity === 'orders') {
      // Headers only: the watermark needs event and arrival time, not the payload.
      const eventTimeMs = Date.parse(header(message, HEADERS.eventTime) ?? '');
      if (Number.isNaN(eventTimeMs)) return;
      const { arrivalMs } = arrivalOf(message);
      for (const closer of this.closers.values()) closer.observe(eventTimeMs, arrivalMs);
      return;
    }
    const decoded = decode(message, entity);
    if (!decoded.ok) return;
    const { event, arrivalMs, eventTimeMs } = decoded;
    const version = { arrivalMs, eventTimeMs };
    switch (event.type) {
      case 'CustomerUpserted':
        this.tables.customers.put(keyOf(event), { ...version, value: event.payload });
        break;
      case 'CustomerDeleted':
        this.tables.customers.put(keyOf(event), { ...version, value: null });
        break;
      case 'ProductUpserted':
        this.tables.products.put(keyOf(event), { ...version, value: event.payload });
        break;
      case 'FxRateSet':
        this.tables.fxRates.put(keyOf(event), { ...version, value: event.payload });
        break;
      default:
        break;
    }
  }

  /** Lookups for one order view, in the modes the pipeline declared. */
  lookupFor(pipeline: StreamPipeline, view: OrderView): TableLookup {
    const { arrivalMs, eventTimeMs } = memoised(view, POINTS, ({ placedArrival, order }) => ({ arrivalMs: Date.parse(placedArrival), eventTimeMs: Date.parse(order.placedAt) }));
    return {
      get: <T extends TableName>(table: T, key: string) => {
        const mode: LookupMode | undefined = pipeline.joins[table];
        if (!mode) throw new Error(`pipeline reads table ${table} without declaring it in joins`);
        const store = this.tables[table] as unknown as VersionedTable<ReturnType<TableLookup['get']>>;
        return (mode === 'latest' ? store.latest(key, arrivalMs) : store.asOfEventTime(key, arrivalMs, eventTimeMs)) as never;
      },
    };
  }

  get size(): Record<string, number> {
    return {
      customers: this.tables.customers.size.versions,
      products: this.tables.products.size.versions,
      fxRates: this.tables.fxRates.size.versions,
      windowDays: Math.max(0, ...[...this.closers.values()].map((closer) => closer.dayCount)),
    };
  }
}

export const ENTITIES = Object.keys(ENTITY_TOPICS) as Entity[];
