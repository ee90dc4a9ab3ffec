/**
 * Events on Kafka, both ways, for any domain: the message replay publishes for a delivery (key = the
 * entity key, value = the envelope JSON or a tombstone for a delete, timestamp = event time, HEADERS),
 * and the event a consumer reads back — or the reason it must go to the dead-letter topic: malformed
 * JSON, an envelope failing its schema, an unknown event type, an event on the wrong topic, a tombstone
 * without its headers, a tombstone of a type that is not a delete. The arrival time comes from its
 * header (the replay's clock), falling back to the Kafka timestamp. No kafkajs here: plain shapes.
 */
import { decodeKey, encodeKey, type DomainModel, type EntityModel, type EventTypeModel } from './domain.ts';
import { HEADERS, SCHEMA_VERSION, isDelete, parseEnvelope, type Delivery, type DomainEvent } from './events.ts';

export interface RawMessage {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

export interface OutMessage {
  key: string;
  value: string | null;
  timestamp: string;
  headers: Record<string, string>;
}

/** `<prefix>.<topic>` of an entity. */
export const topicOf = (entity: EntityModel, prefix: string): string => `${prefix}.${entity.topic}`;

/** The message of one delivery, and the entity (so the topic) it goes to. */
export function toMessage(domain: DomainModel, { event, arrivalTime }: Delivery): { entity: EntityModel; message: OutMessage } {
  const eventType = domain.eventType(event.type);
  if (!eventType) throw new TypeError(`unknown event type ${event.type}`);
  return {
    entity: eventType.entity,
    message: {
      key: encodeKey(eventType.entity, event.payload),
      value: isDelete(eventType) ? null : JSON.stringify(event),
      timestamp: String(Date.parse(event.eventTime)),
      headers: { [HEADERS.eventId]: event.eventId, [HEADERS.type]: event.type, [HEADERS.eventTime]: event.eventTime, [HEADERS.arrivalTime]: arrivalTime },
    },
  };
}

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

/**
 * Whether `text` has the shape of the pinned instant form, `Date.prototype.toISOString`'s
 * (`2024-10-27T10:00:00.000Z`): then a text that parses needs no rebuilding, which per event costs.
 */
export function hasIsoInstantShape(text: string): boolean {
  return text.length === 24 && text[10] === 'T' && text[19] === '.' && text[23] === 'Z';
}

export type Decoded = { ok: true; event: DomainEvent; eventType: EventTypeModel; arrivalMs: number; arrival: string; eventTimeMs: number } | { ok: false; reason: string };

/** The event a message of `entity`'s topic holds, or why it is a dead letter. */
export function decode(domain: DomainModel, entity: EntityModel, message: RawMessage): Decoded {
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
    const eventType = domain.eventType(type);
    if (!eventType || !isDelete(eventType)) {
      const deletes = domain.entities.flatMap((candidate) => candidate.events.filter(isDelete).map((candidateType) => candidateType.type));
      return { ok: false, reason: `tombstone of event type "${type}", which is not a delete (deletes: ${deletes.join(', ') || 'none'})` };
    }
    const payload = decodeKey(eventType.entity, key);
    if (!payload) return { ok: false, reason: `tombstone key ${JSON.stringify(key)} is not a key of ${eventType.entity.name} (${eventType.entity.key.join(', ')})` };
    value = { eventId, type, eventTime, schemaVersion: SCHEMA_VERSION, payload };
  } else {
    try {
      value = JSON.parse(message.value.toString('utf8'));
    } catch (error) {
      return { ok: false, reason: `malformed JSON: ${(error as Error).message}` };
    }
  }
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type === 'string' && !domain.eventType(type)) {
    return { ok: false, reason: `unknown event type "${type}" (known: ${domain.entities.flatMap((candidate) => candidate.events.map((known) => known.type)).join(', ')})` };
  }
  const parsed = parseEnvelope(domain, value);
  if (!parsed.ok) return { ok: false, reason: `envelope fails its schema: ${parsed.reason}` };
  const { event, eventType } = parsed.value;
  if (eventType.entity !== entity) return { ok: false, reason: `event type ${event.type} does not belong on the ${entity.name} topic` };
  return { ok: true, event, eventType, arrivalMs, arrival, eventTimeMs: Date.parse(event.eventTime) };
}
