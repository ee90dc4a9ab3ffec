/**
 * A scenario's CSV files, derived from the domain (fixtures/README.md): one file per entity —
 * `event_id,event_time,arrival_time,type,<field columns>` (the entity's event-time field is not a
 * column: an upsert takes it from event_time) — and one per kind of child row — `<parent key
 * columns>,<child field columns>`, the rows travelling with their parent's upsert. The rules per event
 * type: the key always; the fields it carries (required unless optional, or omitted-able with an
 * initial value); the ones it does not carry empty; an upsert with children once per key. Each good
 * row becomes its event as it is parsed (no intermediate rows kept), so a million-event scenario costs
 * the events and little more.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import type { ChildModel, DomainModel, EntityModel, EventTypeModel, Row } from '../model/domain.ts';
import { SCHEMA_VERSION } from '../model/events.ts';
import { field as fields } from '../model/fields.ts';
import { columnOf, problemAt, readCsv, type Columns, type CsvRecord } from './csv.ts';
import type { ScenarioEvent } from './load.ts';

const envelopeColumns = (entity: EntityModel): Columns => ({
  event_id: columnOf(fields.id()),
  event_time: columnOf(fields.instant()),
  arrival_time: columnOf(fields.instant()),
  type: columnOf(fields.enum(entity.events.map((eventType) => eventType.type) as [string, ...string[]])),
});

/** An entity's file: its columns in header order, each with its parser. */
export function entityColumns(entity: EntityModel): Columns {
  const columns = envelopeColumns(entity);
  for (const { name, field, column } of entity.fields) if (name !== entity.eventTime) columns[column] = columnOf(field);
  return columns;
}

export function childColumns(child: ChildModel): Columns {
  const columns: Columns = {};
  for (const { field, column } of child.parentKey) columns[column] = columnOf(field);
  for (const { field, column } of child.fields) columns[column] = columnOf(field);
  return columns;
}

/** Every file of a scenario of `domain`, with its header. */
export function scenarioFiles(domain: DomainModel): { file: string; header: string[] }[] {
  return domain.entities.flatMap((entity) => [
    { file: entity.file, header: Object.keys(entityColumns(entity)) },
    ...entity.children.map((child) => ({ file: child.file, header: Object.keys(childColumns(child)) })),
  ]);
}

type Problems = InputError[];

/**
 * Reads every file; returns the events in file order (entities in declaration order), not yet ordered
 * by arrival nor marked as redeliveries. `shownPath` turns a file name into the path for messages.
 */
export async function readScenarioEvents(domain: DomainModel, dir: string, shownPath: (name: string) => string, problems: Problems): Promise<ScenarioEvent[]> {
  /** Files that could not be read at all (absent, bad header or syntax): checks against them would only echo that. */
  const unreadable = new Set<string>();
  const read = async (name: string, columns: Columns, consume: (record: CsvRecord<Columns>) => void): Promise<Record<string, string>[]> => {
    const path = join(dir, name);
    if (!existsSync(path)) {
      unreadable.add(name);
      problems.push(new InputError(shownPath(name), undefined, undefined, `expected the file ${name}, found none`, { hint: `create it with the header ${Object.keys(columns).join(',')} (a header alone means no rows)` }));
      return [];
    }
    const result = readCsv(shownPath(name), await readFile(path, 'utf8'), columns, consume);
    problems.push(...result.problems);
    if (!result.complete) unreadable.add(name);
    return result.rejected;
  };
  const problem = (name: string, record: CsvRecord<Columns>, column: string, expected: string, found: string): void => {
    problems.push(problemAt(shownPath(name), record.at(column), column, expected, found));
  };

  const events: ScenarioEvent[] = [];
  for (const entity of domain.entities) {
    // Children first: an upsert gathers its rows as it is read.
    const children = new Map<ChildModel, ChildRows>();
    for (const child of entity.children) children.set(child, await readChildren(child, read, problem));
    const upserted = new Map<string, ScenarioEvent>();
    /** Keys whose upsert row is reported already: their child rows are not orphans. */
    const failed = new Set<string>();
    const rejected = await read(entity.file, entityColumns(entity), (record) => {
      const event = eventOf(domain, entity, record, children, upserted, failed, unreadable, problem);
      if (event) events.push(event);
    });
    for (const row of rejected) failed.add(keyText(entity.key.map((key) => row[entity.field(key)!.column] ?? '')));
    for (const [child, rows] of children) {
      if (unreadable.has(entity.file)) continue;
      for (const [parentKey, { line }] of rows.firstLine) {
        if (upserted.has(parentKey) || failed.has(parentKey)) continue;
        const column = child.parentKey[0]!.column;
        const upsertTypes = entity.events.filter((eventType) => eventType.carried.includes(child.name)).map((eventType) => eventType.type);
        problems.push(problemAt(shownPath(child.file), { line, column: 1 }, column, `the key of an ${upsertTypes.join(' or ')} row in ${entity.file}`, JSON.stringify(parentKey)));
      }
    }
  }
  return events;
}

interface ChildRows {
  /** Parent key text → its rows, in child-key order. */
  rows: Map<string, Row[]>;
  firstLine: Map<string, { line: number }>;
  /** Parent keys with a bad child row (reported already). */
  rejected: Set<string>;
  unreadable: boolean;
}

const keyText = (values: unknown[]): string => values.map(String).join(', ');

async function readChildren(
  child: ChildModel,
  read: (name: string, columns: Columns, consume: (record: CsvRecord<Columns>) => void) => Promise<Record<string, string>[]>,
  problem: (name: string, record: CsvRecord<Columns>, column: string, expected: string, found: string) => void,
): Promise<ChildRows> {
  const result: ChildRows = { rows: new Map(), firstLine: new Map(), rejected: new Set(), unreadable: false };
  const keysSeen = new Map<string, Set<string>>();
  const rejected = await read(child.file, childColumns(child), (record) => {
    const v = record.values;
    for (const model of [...child.parentKey, ...child.fields]) {
      if (v[model.column] === undefined && !model.field.optional) {
        problem(child.file, record, model.column, 'a value', 'an empty field');
        return;
      }
    }
    const parentKey = keyText(child.parentKey.map((model) => v[model.column]));
    let rows = result.rows.get(parentKey);
    if (!rows) {
      result.rows.set(parentKey, (rows = []));
      result.firstLine.set(parentKey, { line: record.line });
      keysSeen.set(parentKey, new Set());
    }
    const childKey = keyText(child.key.map((name) => v[child.fields.find((f) => f.name === name)!.column]));
    if (keysSeen.get(parentKey)!.has(childKey)) {
      const column = child.fields.find((f) => f.name === child.key[0])!.column;
      problem(child.file, record, column, `a ${child.key.map((name) => child.fields.find((f) => f.name === name)!.column).join(', ')} not yet used by ${parentKey}`, childKey);
      return;
    }
    keysSeen.get(parentKey)!.add(childKey);
    const row: Row = {};
    for (const model of child.fields) row[model.name] = v[model.column] ?? null;
    rows.push(row);
  });
  for (const row of rejected) result.rejected.add(keyText(child.parentKey.map((model) => row[model.column] ?? '')));
  const order = (row: Row) => child.key.map((name) => row[name]);
  for (const rows of result.rows.values()) rows.sort((a, b) => compareTuples(order(a), order(b)));
  return result;
}

function compareTuples(a: unknown[], b: unknown[]): number {
  for (let index = 0; index < a.length; index += 1) {
    const [x, y] = [a[index], b[index]];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/** The event of one entity row, or undefined (and its problems) when the row breaks a rule. */
function eventOf(
  domain: DomainModel,
  entity: EntityModel,
  record: CsvRecord<Columns>,
  children: Map<ChildModel, ChildRows>,
  upserted: Map<string, ScenarioEvent>,
  failed: Set<string>,
  unreadable: Set<string>,
  problem: (name: string, record: CsvRecord<Columns>, column: string, expected: string, found: string) => void,
): ScenarioEvent | undefined {
  const v = record.values;
  const file = entity.file;
  let ok = true;
  for (const column of ['event_id', 'event_time', 'arrival_time', 'type']) {
    if (v[column] === undefined) {
      problem(file, record, column, 'a value', 'an empty field');
      ok = false;
    }
  }
  if (!ok) return undefined;
  const eventType = domain.eventType(v.type as string)!;
  const [eventTime, arrivalTime] = [v.event_time as string, v.arrival_time as string];
  if (arrivalTime < eventTime) {
    problem(file, record, 'arrival_time', `a time at or after event_time ${eventTime} (nothing arrives before it happens)`, arrivalTime);
    ok = false;
  }
  const payload = payloadOf(entity, eventType, record, eventTime, problem);
  if (!payload) ok = false;
  // Child rows name their parent by its key columns' values.
  const key = keyText(entity.key.map((name) => v[entity.field(name)!.column]));
  for (const child of entity.children) {
    if (!eventType.carried.includes(child.name)) continue;
    failed.add(key);
    const rows = children.get(child)!;
    const earlier = upserted.get(key);
    if (earlier && earlier.event.eventId !== v.event_id) {
      problem(file, record, 'event_id', `the event_id ${earlier.event.eventId} of the ${earlier.event.type} of ${key} at line ${earlier.source.line} (a redelivery repeats its event_id; a ${entity.name} row with ${child.name} is upserted once)`, JSON.stringify(v.event_id));
      return undefined;
    }
    const found = rows.rows.get(key);
    if ((found?.length ?? 0) < child.min) {
      // Its rows may all be rows already reported as bad: one problem is enough.
      if (!unreadable.has(child.file) && !rows.rejected.has(key)) problem(file, record, entity.field(entity.key[0]!)!.column, `at least ${child.min} row${child.min === 1 ? '' : 's'} for ${key} in ${child.file}`, 'none');
      return undefined;
    }
    if (payload) payload[child.name] = found ?? [];
  }
  if (!ok || !payload) return undefined;
  const event: ScenarioEvent = {
    event: { eventId: v.event_id as string, type: eventType.type, eventTime, schemaVersion: SCHEMA_VERSION, payload },
    arrivalTime,
    redelivery: false,
    source: { file, line: record.line },
  };
  if (entity.children.some((child) => eventType.carried.includes(child.name))) {
    if (!upserted.has(key)) upserted.set(key, event);
    failed.delete(key);
  }
  return event;
}

/** The payload of a row for its event type: the key, the fields the type carries; what it does not carry must be empty. */
function payloadOf(entity: EntityModel, eventType: EventTypeModel, record: CsvRecord<Columns>, eventTime: string, problem: (name: string, record: CsvRecord<Columns>, column: string, expected: string, found: string) => void): Row | undefined {
  const v = record.values;
  const payload: Row = {};
  let ok = true;
  const needed = entity.fields.filter(({ name, field }) => name !== entity.eventTime && (entity.key.includes(name) || (eventType.carried.includes(name) && !field.optional && !(eventType.kind.kind === 'upsert' && field.initial !== undefined))));
  const neededColumns = needed.filter(({ name }) => !entity.key.includes(name)).map(({ column }) => column);
  for (const { name, field, column } of entity.fields) {
    if (name === entity.eventTime) {
      if (eventType.carried.includes(name)) payload[name] = eventTime;
      continue;
    }
    const value = v[column];
    const carried = entity.key.includes(name) || eventType.carried.includes(name);
    if (!carried) {
      if (value !== undefined) {
        problem(entity.file, record, column, `an empty field (${eventType.type} carries no ${column})`, JSON.stringify(value));
        ok = false;
      }
      continue;
    }
    if (value === undefined) {
      if (needed.some((model) => model.name === name)) {
        problem(entity.file, record, column, entity.key.includes(name) ? 'a value (the key)' : `a value (${eventType.type} needs ${neededColumns.join(', ')})`, 'an empty field');
        ok = false;
      } else if (field.optional) payload[name] = null;
      continue;
    }
    payload[name] = value;
  }
  return ok ? payload : undefined;
}
