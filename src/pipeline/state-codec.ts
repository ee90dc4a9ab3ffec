/**
 * A source key's state as text: the value of its changelog record, and what the source processor
 * keeps in memory between batches (a state per key the job ever saw). The positional form writes the
 * row's fields and child rows in the entity's declared order, without their names, and the event ids
 * as a flat list — `["s1:<layout>",[fields…,[[child fields…],…]],[pin],[id,ms,…],frozen?]` — about
 * half the text of the object JSON, and quicker to parse again when the key's next event comes.
 *
 * `<layout>` is a hash of the declared names, so a record written for another shape of the entity is
 * refused rather than misread. A state the positional form cannot hold exactly (a custom fold that
 * keeps fields the entity does not declare, a field left undefined) is written as object JSON, which
 * `decodeState` reads too — as it reads every record dualrun wrote before this form.
 */
import { DualrunError } from '../errors.ts';
import type { EntityModel, Row } from '../model/domain.ts';
import type { Pin } from '../model/fold.ts';
import type { EventIds } from './dedupe.ts';
import type { AppliedView, InstanceState } from './processor.ts';

interface Layout {
  tag: string;
  fields: readonly string[];
  children: readonly { name: string; fields: readonly string[] }[];
}

const layouts = new WeakMap<EntityModel, Layout>();

function layoutOf(entity: EntityModel): Layout {
  let layout = layouts.get(entity);
  if (layout) return layout;
  const fields = entity.fields.map((field) => field.name);
  const children = entity.children.map((child) => ({ name: child.name, fields: child.fields.map((field) => field.name) }));
  const names = JSON.stringify([fields, children.map((child) => [child.name, child.fields])]);
  let hash = 0x811c9dc5;
  for (let index = 0; index < names.length; index += 1) hash = Math.imul(hash ^ names.charCodeAt(index), 0x01000193);
  layout = { tag: `s1:${(hash >>> 0).toString(36)}`, fields, children };
  layouts.set(entity, layout);
  return layout;
}

/** Whether `row` holds exactly the `names` (each defined): then its values in that order are the row. */
function hasExactly(row: Row, names: readonly string[], extra: number): boolean {
  let count = 0;
  for (const name in row) {
    if (row[name] === undefined) return false;
    count += 1;
  }
  if (count !== names.length + extra) return false;
  for (const name of names) if (!(name in row)) return false;
  return true;
}

function rowArray(layout: Layout, row: Row): unknown[] | undefined {
  if (!hasExactly(row, layout.fields, layout.children.length)) return undefined;
  const out: unknown[] = [];
  for (const name of layout.fields) out.push(row[name]);
  for (const child of layout.children) {
    const rows = row[child.name];
    if (!Array.isArray(rows)) return undefined;
    const encoded: unknown[][] = [];
    for (const childRow of rows as Row[]) {
      if (childRow === null || typeof childRow !== 'object' || !hasExactly(childRow, child.fields, 0)) return undefined;
      encoded.push(child.fields.map((name) => childRow[name]));
    }
    out.push(encoded);
  }
  return out;
}

function rowOf(layout: Layout, values: unknown[]): Row {
  const row: Row = {};
  let index = 0;
  for (const name of layout.fields) row[name] = values[index++] as Row[string];
  for (const child of layout.children) {
    const rows = (values[index++] as unknown[][]).map((childValues) => {
      const childRow: Row = {};
      child.fields.forEach((name, at) => (childRow[name] = childValues[at] as Row[string]));
      return childRow;
    });
    row[child.name] = rows as Row[string];
  }
  return row;
}

/** The text of a state: positional when it can hold it exactly, object JSON otherwise. */
export function encodeState(entity: EntityModel, state: InstanceState): string {
  const layout = layoutOf(entity);
  const row = state.row === undefined ? null : rowArray(layout, state.row);
  if (row === undefined) return JSON.stringify(state);
  const pin = state.pin ? [state.pin.eventId, state.pin.arrival, state.pin.eventTime] : null;
  let ids: (string | number)[] | null = null;
  if (state.ids) {
    ids = [];
    for (const id in state.ids) ids.push(id, state.ids[id]!);
  }
  const parts: unknown[] = [layout.tag, row, pin, ids];
  if (state.frozen !== undefined) parts.push(state.frozen);
  return flattened(JSON.stringify(parts));
}

/**
 * The same text, flattened: V8 returns JSON.stringify's result as a rope of its pieces, which a state
 * kept for the life of its key pays for (about 90 bytes per shop order); reading it as a number makes
 * V8 join the pieces in place. Measured, not guessed: the processing bench's bytes per key.
 */
function flattened(text: string): string {
  // Kept in a module variable, so no optimising compiler drops the conversion as unused.
  _flatteningSink = Number(text);
  return text;
}
let _flatteningSink = 0;

/** A state from its text (either form). */
export function decodeState(entity: EntityModel, text: string): InstanceState {
  if (text.charCodeAt(0) !== 91) return JSON.parse(text) as InstanceState; // not '[': object JSON
  const [tag, row, pin, ids, frozen] = JSON.parse(text) as [string, unknown[] | null, [string, string, string] | null, (string | number)[] | null, Record<string, AppliedView | null> | undefined];
  const layout = layoutOf(entity);
  if (tag !== layout.tag) {
    throw new DualrunError('STATE_LAYOUT', `a stored state of ${entity.name} was written for other fields than the entity declares now (layout ${tag}, now ${layout.tag})`, {
      hint: `the entity's fields or children changed since the job's changelog was written: run the job under a new consumer group (--group) so it starts from the input topics`,
    });
  }
  const state: InstanceState = {};
  if (row !== null) state.row = rowOf(layout, row);
  if (pin !== null) state.pin = { eventId: pin[0], arrival: pin[1], eventTime: pin[2] } satisfies Pin;
  if (ids !== null) {
    const map: Record<string, number> = {};
    for (let index = 0; index < ids.length; index += 2) map[ids[index] as string] = ids[index + 1] as number;
    state.ids = map as EventIds;
  }
  if (frozen !== undefined) state.frozen = frozen;
  return state;
}
