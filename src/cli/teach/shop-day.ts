/**
 * The teaching data: one business day of the example shop, made by the shop's own generator (its
 * customers, catalogue, FX rates and orders, nothing late, duplicated, moved or cancelled, so the only
 * surprises are the ones a chapter adds), loaded and checked like any scenario; and the few events a
 * chapter adds to it (an order placed at a given time, a status change, a delete), checked against the
 * domain like every event. The shop is loaded the way the CLI loads the default project: with import().
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainModel, Row } from '../../model/domain.ts';
import { SCHEMA_VERSION, checkPayload } from '../../model/events.ts';
import { loadScenario, type ScenarioEvent } from '../../scenario/load.ts';
import { cutoffFor } from '../../time.ts';
import type { Transform } from '../../transforms/contract.ts';

export interface Shop {
  domain: DomainModel;
  transforms: Transform[];
}

/** The example shop: its domain and its five transformations. */
export async function loadShop(): Promise<Shop> {
  const shop = await import('../../domains/shop/index.ts');
  return { domain: shop.shop, transforms: [...shop.shopTransforms] };
}

export function transformsNamed(shop: Shop, names: readonly string[]): Transform[] {
  return names.map((name) => {
    const transform = shop.transforms.find((candidate) => candidate.name === name);
    if (!transform) throw new Error(`the shop has no transformation ${name}`);
    return transform;
  });
}

export interface ShopDay {
  /** The business date, in the shop's time zone. */
  date: string;
  /** When the nightly job for `date` runs and looks at the data: 02:00 the next morning. */
  cutoff: Date;
  events: ScenarioEvent[];
  orders: number;
  customers: number;
}

export const TEACHING_DATE = '2024-06-03';

/** A day of the shop: `orders` orders by `customers` customers, everything arriving on time. */
export async function shopDay(shop: Shop, { orders = 120, customers = 30, seed = 'teach' } = {}): Promise<ShopDay> {
  const generate = shop.domain.generate;
  if (!generate) throw new Error('the shop declares no generator');
  const dir = await mkdtemp(join(tmpdir(), 'dualrun-teach-day-'));
  try {
    const generator = await generate();
    await generator.run({
      out: dir,
      seed,
      values: { orders, customers, 'late-rate': 0, 'duplicate-rate': 0, 'move-rate': 0, 'cancel-rate': 0, days: 1, 'start-date': TEACHING_DATE },
    });
    const scenario = await loadScenario(dir, shop);
    return { date: TEACHING_DATE, cutoff: cutoffFor(TEACHING_DATE, scenario.cutoffTime, shop.domain.timeZone), events: scenario.events, orders, customers };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let added = 0;

/** One event a chapter adds, its payload checked against the domain and pinned like a scenario row's. */
export function shopEvent(domain: DomainModel, spec: { id: string; type: string; eventTime: string; arrivalTime: string; payload: Row }): ScenarioEvent {
  const eventType = domain.eventType(spec.type);
  if (!eventType) throw new Error(`the shop has no event type ${spec.type}`);
  const eventTime = new Date(spec.eventTime).toISOString();
  const payload = { ...spec.payload };
  if (eventType.entity.eventTime !== undefined && eventType.carried.includes(eventType.entity.eventTime)) payload[eventType.entity.eventTime] = eventTime;
  const checked = checkPayload(eventType, payload);
  if (!checked.ok) throw new Error(`teaching event ${spec.id}: ${checked.reason}`);
  added += 1;
  return {
    event: { eventId: spec.id, type: spec.type, eventTime, schemaVersion: SCHEMA_VERSION, payload: checked.value },
    arrivalTime: new Date(spec.arrivalTime).toISOString(),
    redelivery: false,
    source: { file: 'dualrun teach', line: added },
  };
}

/** The day's events and the added ones, in arrival order (ties keep the day's order first). */
export function withEvents(events: readonly ScenarioEvent[], extra: readonly ScenarioEvent[]): ScenarioEvent[] {
  return [...events, ...extra].sort((a, b) => (a.arrivalTime < b.arrivalTime ? -1 : a.arrivalTime > b.arrivalTime ? 1 : 0));
}

/** Events that arrived in (after, until]. */
export function arrivedBetween(events: readonly ScenarioEvent[], after: Date | undefined, until: Date | undefined): ScenarioEvent[] {
  const [from, to] = [after?.toISOString(), until?.toISOString()];
  return events.filter((event) => (from === undefined || event.arrivalTime > from) && (to === undefined || event.arrivalTime <= to));
}
