/**
 * From a legacy database's committed transactions (Debezium change events of the domain's tables) to
 * the domain's own events, for any domain. The row changes of one transaction — a parent's and its
 * child rows', which Debezium writes to separate topics — are folded into each parent's state (its
 * fields and its children, as dualrun's events carry them), and the difference between the state before
 * and after the transaction becomes the entity's declared event types: a delete when the row is gone; an
 * upsert when it appears (plus a patch for a field the upsert omits but the row holds otherwise); a
 * patch when only fields a patch sets changed; else an upsert. So the transformations see the same view
 * as with dualrun's own events, and a transaction's intermediate states (an order without its lines yet)
 * never reach them.
 *
 * Event ids come from the source position (the first change of the row in the transaction; with the
 * entity and key, as the rows of a snapshot share one position), so a
 * change Debezium delivers again gives the same id and the job's dedupe absorbs it. Arrival is the
 * entity's declared arrival column (`updatedAt`, else `createdAt`) of the new image — the time the legacy
 * application wrote the row — never earlier than an arrival already given (a delete has no image to
 * carry one; it arrives with the last write before it); else the commit time. An upsert's event time is
 * the entity's declared event-time field (an order's placedAt); a patch's or a delete's is its arrival:
 * the legacy table keeps no time for a status change or a delete other than when it was written (the
 * row's placedAt would make a cancellation look days late).
 */
import { decodeImage, decodeDebeziumValue, type DebeziumChange } from './debezium.ts';
import { encodeKey, type ChildModel, type DomainModel, type EntityModel, type EventTypeModel, type Row } from './domain.ts';
import { SCHEMA_VERSION, type Delivery } from './events.ts';
import { field } from './fields.ts';

interface TableTarget {
  entity: EntityModel;
  child: ChildModel | undefined;
}

interface ParentState {
  row: Row | undefined;
  /** Child name → child key → child row. */
  children: Map<string, Map<string, Row>>;
}

export interface FoldProblem {
  change: DebeziumChange;
  reason: string;
}

export class ChangeFolder {
  private readonly tables = new Map<string, TableTarget>();
  private readonly states = new Map<EntityModel, Map<string, ParentState>>();
  private lastArrival = '';

  constructor(private readonly domain: DomainModel) {
    for (const entity of domain.entities) {
      this.tables.set(entity.table.name, { entity, child: undefined });
      for (const child of entity.children) this.tables.set(child.table.name, { entity, child });
      this.states.set(entity, new Map());
    }
  }

  /** The domain events one committed transaction's changes (in commit order) amount to. */
  applyTransaction(changes: readonly DebeziumChange[]): { deliveries: Delivery[]; problems: FoldProblem[] } {
    const problems: FoldProblem[] = [];
    const touched = new Map<string, { entity: EntityModel; key: string; before: Row | null; position: string; arrival: string | undefined; rowWritten: boolean }>();
    for (const change of changes) {
      const target = this.tables.get(change.table);
      if (!target) {
        problems.push({ change, reason: `table ${change.table} is none of the ${this.domain.name} domain's tables` });
        continue;
      }
      const located = this.locate(target, change);
      if (!located.ok) {
        problems.push({ change, reason: located.reason });
        continue;
      }
      const { state, key } = located;
      const id = `${target.entity.name}\u0000${key}`;
      if (!touched.has(id)) touched.set(id, { entity: target.entity, key, before: viewOf(target.entity, state), position: change.position, arrival: undefined, rowWritten: false });
      const entry = touched.get(id)!;
      const applied = target.child ? this.applyChild(target.child, state, change) : this.applyParent(target.entity, state, change);
      if (!applied.ok) {
        problems.push({ change, reason: applied.reason });
        continue;
      }
      if (!target.child && change.op !== 'd') {
        entry.rowWritten = true;
        entry.arrival = arrivalColumn(target.entity, change.image) ?? entry.arrival;
      }
    }
    const deliveries: Delivery[] = [];
    const committedAt = changes[changes.length - 1]?.committedAt ?? new Date(0).toISOString();
    for (const { entity, key, before, position, arrival, rowWritten } of touched.values()) {
      const state = this.states.get(entity)!.get(key)!;
      const after = viewOf(entity, state);
      if (!state.row && state.children.size === 0) this.states.get(entity)!.delete(key);
      const events = eventsFor(entity, before, after, rowWritten);
      if (events.length === 0) continue;
      const at = maxInstant(arrival ?? (this.lastArrival || committedAt), this.lastArrival);
      this.lastArrival = at;
      events.forEach(({ type, payload }, index) => {
        const eventTime = type.kind.kind === 'upsert' && entity.eventTime && typeof after?.[entity.eventTime] === 'string' ? (after[entity.eventTime] as string) : at;
        deliveries.push({ event: { eventId: `cdc:${position}:${entity.name}:${key}:${index}`, type: type.type, eventTime, schemaVersion: SCHEMA_VERSION, payload }, arrivalTime: at });
      });
    }
    return { deliveries, problems };
  }

  private locate(target: TableTarget, change: DebeziumChange): { ok: true; state: ParentState; key: string } | { ok: false; reason: string } {
    const { entity, child } = target;
    const keyFields = child ? child.parentKey : entity.key.map((name) => entity.field(name)!);
    const keyRow: Row = {};
    for (const model of keyFields) {
      const decoded = decodeDebeziumValue(model.field, change.image[model.column]);
      if (!decoded.ok) return { ok: false, reason: `key column ${model.column} is ${JSON.stringify(change.image[model.column])}; expected ${decoded.expected}` };
      keyRow[model.name] = decoded.value;
    }
    const key = encodeKey(entity, keyRow);
    const states = this.states.get(entity)!;
    if (!states.has(key)) states.set(key, { row: undefined, children: new Map() });
    return { ok: true, state: states.get(key)!, key };
  }

  private applyParent(entity: EntityModel, state: ParentState, change: DebeziumChange): { ok: true } | { ok: false; reason: string } {
    if (change.op === 'd') {
      state.row = undefined;
      return { ok: true };
    }
    const decoded = decodeImage(entity.fields, change.image);
    if (!decoded.ok) return decoded;
    state.row = decoded.row;
    return { ok: true };
  }

  private applyChild(child: ChildModel, state: ParentState, change: DebeziumChange): { ok: true } | { ok: false; reason: string } {
    if (!state.children.has(child.name)) state.children.set(child.name, new Map());
    const rows = state.children.get(child.name)!;
    const keyFields = child.key.map((name) => child.fields.find((f) => f.name === name)!);
    const keyValues: unknown[] = [];
    for (const model of keyFields) {
      const decoded = decodeDebeziumValue(model.field, change.image[model.column]);
      if (!decoded.ok) return { ok: false, reason: `key column ${model.column} is ${JSON.stringify(change.image[model.column])}; expected ${decoded.expected}` };
      keyValues.push(decoded.value);
    }
    const childKey = JSON.stringify(keyValues);
    if (change.op === 'd') {
      rows.delete(childKey);
      return { ok: true };
    }
    const decoded = decodeImage(child.fields, change.image);
    if (!decoded.ok) return decoded;
    rows.set(childKey, decoded.row);
    return { ok: true };
  }
}

/** The row as dualrun's events give it (fields, children as arrays in key order), or null while absent. */
function viewOf(entity: EntityModel, state: ParentState): Row | null {
  if (!state.row) return null;
  const view: Row = { ...state.row };
  for (const child of entity.children) {
    const rows = state.children.get(child.name);
    view[child.name] = rows ? [...rows.entries()].sort(([a], [b]) => compareKeys(a, b)).map(([, row]) => row) : [];
  }
  return view;
}

function compareKeys(a: string, b: string): number {
  const left = JSON.parse(a) as unknown[];
  const right = JSON.parse(b) as unknown[];
  for (let index = 0; index < left.length; index += 1) {
    const x = left[index];
    const y = right[index];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

const instantField = field.instant();

function arrivalColumn(entity: EntityModel, image: Record<string, unknown>): string | undefined {
  for (const column of [entity.table.updatedAt, entity.table.createdAt]) {
    if (column === undefined || image[column] === undefined || image[column] === null) continue;
    const decoded = decodeDebeziumValue(instantField, image[column]);
    if (decoded.ok) return decoded.value as string;
  }
  return undefined;
}

function maxInstant(a: string, b: string): string {
  return b && b > a ? b : a;
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The declared events that take the entity's view from `before` to `after`. */
function eventsFor(entity: EntityModel, before: Row | null, after: Row | null, rowWritten: boolean): { type: EventTypeModel; payload: Row }[] {
  if (!after) {
    if (!before) return [];
    const remove = entity.events.find((type) => type.kind.kind === 'delete');
    return remove ? [{ type: remove, payload: keyOf(entity, before) }] : [];
  }
  // A parent whose required children are not all written yet is not an event yet (its transaction is not whole).
  if (entity.children.some((child) => (after[child.name] as Row[]).length < child.min)) return [];
  const names = [...entity.fields.map((f) => f.name), ...entity.children.map((c) => c.name)].filter((name) => !entity.key.includes(name));
  const changed = before ? names.filter((name) => !same(before[name], after[name])) : names;
  if (before && changed.length === 0 && !rowWritten) return [];
  const patches = entity.events.filter((type) => type.kind.kind === 'patch');
  if (before && changed.length > 0) {
    const patch = patches.filter((type) => changed.every((name) => type.carried.includes(name))).sort((a, b) => a.carried.length - b.carried.length)[0];
    if (patch) return [{ type: patch, payload: payloadOf(entity, after, patch.carried) }];
  }
  const upserts = entity.events.filter((type) => type.kind.kind === 'upsert').sort((a, b) => b.carried.length - a.carried.length);
  const upsert = upserts[0];
  if (!upsert) return [];
  const events = [{ type: upsert, payload: payloadOf(entity, after, upsert.carried) }];
  // A field the upsert omits keeps its old value (a new row: its initial): a patch sets it when it differs.
  const omitted = names.filter((name) => !upsert.carried.includes(name) && !same(after[name], before ? before[name] : (entity.field(name)?.field.initial ?? null)));
  for (const patch of patches) {
    const sets = patch.carried.filter((name) => omitted.includes(name));
    if (sets.length > 0) events.push({ type: patch, payload: payloadOf(entity, after, patch.carried) });
  }
  return events;
}

function keyOf(entity: EntityModel, row: Row): Row {
  return Object.fromEntries(entity.key.map((name) => [name, row[name]]));
}

function payloadOf(entity: EntityModel, row: Row, carried: readonly string[]): Row {
  return { ...keyOf(entity, row), ...Object.fromEntries(carried.map((name) => [name, row[name]])) };
}
