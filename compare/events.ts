/**
 * The run's input events as table `events` in the comparison's database, so differences can be
 * explained by the facts that caused them: from a scenario's events (in arrival order) or read back
 * from the input topics (`<prefix>.customers|products|fx-rates|orders`, headers carrying event id,
 * type, event time and arrival time). One row per delivery: a redelivered event id appears twice.
 */
import { EventError } from '../src/errors.ts';
import { DELETE_EVENTS, HEADERS, ENTITY_TOPICS, parseEnvelope, topicName, type Entity, type EventType, type ShopEvent } from '../src/domain/events.ts';
import type { Duck } from './duck.ts';
import { readTopic } from './kafka.ts';
import { TextTableWriter } from './load.ts';

/** One delivery of an input event (the scenario API's ScenarioEvent has this shape). */
export interface InputEvent {
  event: ShopEvent;
  arrivalTime: string;
  redelivery?: boolean;
}

const COLUMNS = ['seq', 'event_id', 'type', 'event_time', 'arrival_time', 'redelivery', 'order_id', 'customer_id', 'region', 'tier', 'status', 'currency', 'placed_at', 'product_ids', 'payload'] as const;

function row(seq: number, delivery: InputEvent, seen: Set<string>): (string | null)[] {
  const { event } = delivery;
  const p = event.payload as Record<string, unknown>;
  const redelivery = delivery.redelivery ?? seen.has(event.eventId);
  seen.add(event.eventId);
  const lines = Array.isArray(p.lines) ? (p.lines as { productId?: string }[]) : [];
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return [
    String(seq),
    event.eventId,
    event.type,
    event.eventTime,
    delivery.arrivalTime,
    String(redelivery),
    text(p.orderId),
    text(p.customerId),
    text(p.region),
    text(p.tier),
    text(p.status),
    text(p.currency),
    text(p.placedAt),
    lines.length > 0 ? `,${lines.map((line) => line.productId).join(',')},` : null,
    JSON.stringify(p),
  ];
}

export async function loadEvents(duck: Duck, deliveries: Iterable<InputEvent>): Promise<number> {
  const writer = new TextTableWriter(duck, 'events_text', [...COLUMNS]);
  await writer.open();
  const seen = new Set<string>();
  let seq = 0;
  const rows: (string | null)[][] = [];
  for (const delivery of deliveries) rows.push(row(seq++, delivery, seen));
  writer.append(rows);
  const { rows: count } = writer.close();
  await duck.run(`CREATE OR REPLACE TABLE events AS SELECT CAST(seq AS INTEGER) AS seq, event_id, type,
      CAST(event_time AS TIMESTAMPTZ) AS event_time, CAST(arrival_time AS TIMESTAMPTZ) AS arrival_time, CAST(redelivery AS BOOLEAN) AS redelivery,
      order_id, customer_id, region, tier, status, currency, CAST(placed_at AS TIMESTAMPTZ) AS placed_at, product_ids, payload
    FROM events_text; DROP TABLE events_text`);
  return count;
}

/** The input events read back from the input topics, in arrival order. */
export async function readInputEvents(brokers: string[], prefix: string): Promise<InputEvent[]> {
  const deliveries: (InputEvent & { order: number })[] = [];
  let order = 0;
  for (const entity of Object.keys(ENTITY_TOPICS) as Entity[]) {
    const topic = topicName(entity, prefix);
    await readTopic(brokers, topic, (messages) => {
      for (const { partition, message } of messages) {
        const header = (name: string) => message.headers?.[name]?.toString();
        const eventId = header(HEADERS.eventId);
        const type = header(HEADERS.type) as EventType | undefined;
        const eventTime = header(HEADERS.eventTime);
        const arrivalTime = header(HEADERS.arrivalTime) ?? eventTime;
        if (!eventId || !type || !eventTime || !arrivalTime) {
          throw new EventError(topic, partition, message.offset, `input event without the ${Object.values(HEADERS).join(', ')} headers`, { hint: 'publish input events with dualrun replay' });
        }
        let event: ShopEvent;
        if (message.value === null) {
          if (!DELETE_EVENTS.has(type)) throw new EventError(topic, partition, message.offset, `tombstone with type ${type}, which is not a delete`);
          const id = message.key?.toString() ?? '';
          event = { eventId, type, eventTime, schemaVersion: 1, payload: type === 'OrderDeleted' ? { orderId: id } : { customerId: id } } as ShopEvent;
        } else {
          let json: unknown;
          try {
            json = JSON.parse(message.value.toString());
          } catch {
            throw new EventError(topic, partition, message.offset, 'input event value is not JSON');
          }
          const parsed = parseEnvelope(json);
          if (!parsed.ok) throw new EventError(topic, partition, message.offset, `not an event envelope: ${parsed.reason}`);
          event = parsed.event;
        }
        deliveries.push({ event, arrivalTime, order: order++ });
      }
    });
  }
  deliveries.sort((a, b) => a.arrivalTime.localeCompare(b.arrivalTime) || a.order - b.order);
  return deliveries.map(({ event, arrivalTime }) => ({ event, arrivalTime }));
}
