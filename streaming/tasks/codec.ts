/**
 * Turns a Kafka message of an input topic into a validated event, or into the reason it must go to
 * the dead-letter topic: malformed JSON, an envelope failing its schema (`parseEnvelope`), an unknown
 * event type, an event on the wrong topic, a tombstone without its headers. Deletes arrive as
 * tombstones whose headers carry id, type and event time (src/domain/events.ts). The arrival time
 * comes from its header (the replay's clock), falling back to the Kafka timestamp.
 */
import { DELETE_EVENTS, EVENT_TYPES, HEADERS, entityOf, parseEnvelope, type Entity, type EventType, type ShopEvent } from '../../src/domain/events.ts';
import { hasIsoInstantShape } from '../../src/domain/time.ts';

export interface RawMessage {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

export type Decoded = { ok: true; event: ShopEvent; arrivalMs: number; arrival: string; eventTimeMs: number } | { ok: false; reason: string };

export function header(message: RawMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/** Arrival time (ms, ISO) of a message: its arrival header, else its Kafka timestamp. */
export function arrivalOf(message: RawMessage): { arrivalMs: number; arrival: string } {
  const text = header(message, HEADERS.arrivalTime);
  const fromHeader = text === undefined ? NaN : Date.parse(text);
  const arrivalMs = Number.isNaN(fromHeader) ? Number(message.timestamp) : fromHeader;
  // A header already in the canonical form is used as it is; any other form is rebuilt from the instant.
  const canonical = text !== undefined && !Number.isNaN(fromHeader) && hasIsoInstantShape(text);
  return { arrivalMs, arrival: canonical ? text : new Date(arrivalMs).toISOString() };
}

export function decode(message: RawMessage, entity: Entity): Decoded {
  const { arrivalMs, arrival } = arrivalOf(message);
  let value: unknown;
  if (message.value === null) {
    const type = header(message, HEADERS.type);
    const eventId = header(message, HEADERS.eventId);
    const eventTime = header(message, HEADERS.eventTime);
    const key = message.key?.toString();
    if (!type || !eventId || !eventTime || !key) {
      return { ok: false, reason: `tombstone without the headers ${Object.values(HEADERS).slice(0, 3).join(', ')} and a key: cannot tell which delete it is` };
    }
    if (!DELETE_EVENTS.has(type as EventType)) return { ok: false, reason: `tombstone of event type "${type}", which is not a delete (deletes: ${[...DELETE_EVENTS].join(', ')})` };
    const idField = type === 'CustomerDeleted' ? 'customerId' : 'orderId';
    value = { eventId, type, eventTime, schemaVersion: 1, payload: { [idField]: key } };
  } else {
    try {
      value = JSON.parse(message.value.toString('utf8'));
    } catch (error) {
      return { ok: false, reason: `malformed JSON: ${(error as Error).message}` };
    }
  }
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && !(type in EVENT_TYPES)) {
    return { ok: false, reason: `unknown event type "${type}" (known: ${Object.keys(EVENT_TYPES).join(', ')})` };
  }
  const parsed = parseEnvelope(value);
  if (!parsed.ok) return { ok: false, reason: `envelope fails its schema: ${parsed.reason}` };
  if (entityOf(parsed.event.type) !== entity) return { ok: false, reason: `event type ${parsed.event.type} does not belong on the ${entity} topic` };
  return { ok: true, event: parsed.event, arrivalMs, arrival, eventTimeMs: Date.parse(parsed.event.eventTime) };
}
