/**
 * What an event does to one entity's state — the one statement of the domain's event semantics,
 * used alike by the streaming job (its source operator), the replay into the legacy tables and the
 * comparator's predictions:
 *  - upsert: the row takes every field the event carries; an omitted field keeps its value (a new row:
 *    its `initial`); the row exists from then on and its *pin* moves to this event — table lookups of
 *    the row's pipelines are pinned to the pin's arrival (and event time);
 *  - patch: the named fields change, the pin stays; a patch before the row exists is kept and applies
 *    once an upsert creates it (the two can arrive out of order);
 *  - delete: nothing is left;
 *  - fold: the declared pure function; a fold that creates the row pins it, one on an existing row
 *    keeps the pin (like a patch).
 * A state is never changed in place: each event gives a new one (the streaming job compares the two).
 */
import type { EntityModel, EventTypeModel, Row } from './domain.ts';
import type { DomainEvent } from './events.ts';

/** The upsert a row's current version comes from. */
export interface Pin {
  eventId: string;
  /** ISO UTC with milliseconds. */
  arrival: string;
  eventTime: string;
}

export interface EntityState {
  /** The fields (and children) known so far; present before the row exists when a patch came first. */
  row?: Row;
  /** Set while the row exists. */
  pin?: Pin;
}

/** The row a pipeline sees, or null while it does not exist. */
export function viewOf(state: EntityState | undefined): Row | null {
  return state?.pin !== undefined && state.row !== undefined ? state.row : null;
}

/** The state after `event` (which must be of `eventType`); undefined when nothing is left. */
export function applyEvent(eventType: EventTypeModel, state: EntityState | undefined, event: DomainEvent, arrival: string): EntityState | undefined {
  const { entity, kind } = eventType;
  const payload = event.payload;
  switch (kind.kind) {
    case 'upsert': {
      const carried = eventType.carried;
      const base = state?.row;
      const row: Row = {};
      for (const { name, field } of entity.fields) {
        const value = payload[name];
        row[name] = value !== undefined ? value : (base?.[name] ?? field.initial ?? null);
      }
      for (const child of entity.children) row[child.name] = carried.includes(child.name) ? payload[child.name] : (base?.[child.name] ?? []);
      return { row, pin: { eventId: event.eventId, arrival, eventTime: event.eventTime } };
    }
    case 'patch': {
      const row: Row = state?.row ? { ...state.row } : emptyRow(entity, payload);
      for (const name of kind.fields) row[name] = payload[name] ?? null;
      return state?.pin ? { row, pin: state.pin } : { row };
    }
    case 'delete':
      return undefined;
    case 'fold': {
      const current = viewOf(state);
      const next = kind.apply(current ?? undefined, payload, { eventId: event.eventId, eventTime: event.eventTime });
      if (next === null) return undefined;
      const row: Row = { ...next };
      for (const name of entity.key) row[name] = payload[name];
      return { row, pin: state?.pin ?? { eventId: event.eventId, arrival, eventTime: event.eventTime } };
    }
  }
}

/** A row holding only the key (and each field's initial value), for a patch that comes before its row. */
function emptyRow(entity: EntityModel, payload: Row): Row {
  const row: Row = {};
  for (const { name, field } of entity.fields) row[name] = entity.key.includes(name) ? payload[name] : (field.initial ?? null);
  for (const child of entity.children) row[child.name] = [];
  return row;
}
