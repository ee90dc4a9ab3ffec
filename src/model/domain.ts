/**
 * A team's domain, declared once (DESIGN.md section 3, "A domain"): its business time zone, its
 * entities — key, typed fields, child rows that travel with the parent, the field holding the event
 * time, the legacy table and the topic — and its event types, each saying what it does to an entity's
 * state. Everything else derives from this declaration: the scenario CSV format, the replay into the
 * legacy tables and the topics, the envelope and its dead-letter rules, the stream sources and the
 * tables a pipeline may join, and the facts the explainers reason over. `defineDomain` checks the
 * declaration once and returns it normalised, with the typed `from(entity)` of the stream DSL.
 */
import { ConfigError } from '../errors.ts';
import { sourceOf, type FromOptions, type LookupMode, type Source, type TablesOf } from '../pipeline/dsl.ts';
import type { Field, ValueOf } from './fields.ts';

/** What an event type does to its entity's state. */
export type EventKind =
  /** Sets the row: every field it carries; a field it omits keeps its value (or its `initial` on a new row). */
  | { readonly kind: 'upsert'; readonly omit: readonly string[] }
  /** Sets the named fields of the row; a patch that arrives before the row is kept and applied when it appears. */
  | { readonly kind: 'patch'; readonly fields: readonly string[] }
  /** Removes the row: a tombstone on Kafka, a hard delete in the database. */
  | { readonly kind: 'delete' }
  /** Anything else, as a pure function of the row (undefined: none yet) and the payload; null deletes it. */
  | { readonly kind: 'fold'; readonly fields: readonly string[]; readonly apply: (row: Row | undefined, payload: Row, event: { eventId: string; eventTime: string }) => Row | null };

/** A row as it travels: field name → value in its pinned form (src/model/fields.ts); children as arrays of rows. */
export type Row = Record<string, unknown>;

export const upsert = (options: { omit?: readonly string[] } = {}): EventKind => ({ kind: 'upsert', omit: options.omit ?? [] });
export const patch = (...fields: string[]): EventKind => ({ kind: 'patch', fields });
export const hardDelete = (): EventKind => ({ kind: 'delete' });
export const fold = (fields: readonly string[], apply: (row: Row | undefined, payload: Row, event: { eventId: string; eventTime: string }) => Row | null): EventKind => ({ kind: 'fold', fields, apply });

export interface TableInput {
  name: string;
  /** Column names that are not the field name in snake_case. */
  columns?: Record<string, string>;
  /** A column the application sets to the arrival time when it inserts the row (kept on updates). */
  createdAt?: string;
  /** A column the application sets to the arrival time of every change. */
  updatedAt?: string;
  /** Secondary indexes (field names) for `--create-schema`. */
  indexes?: readonly (readonly string[])[];
}

export interface ChildInput {
  /** The child's own key fields (within its parent): an order line's line number. */
  key: readonly string[];
  fields: Record<string, Field>;
  table?: string | TableInput;
  /** The scenario CSV holding the child rows (default `<table>.csv`). */
  file?: string;
  /** Rows a parent must have (default 0). */
  min?: number;
}

export interface EntityInput {
  key: readonly string[];
  fields: Record<string, Field>;
  children?: Record<string, ChildInput>;
  /** The field holding the event time (an instant): an upsert takes it from the event's time. */
  eventTime?: string;
  table?: string | TableInput;
  /** The topic suffix: `<prefix>.<topic>` (default the entity name in kebab-case). */
  topic?: string;
  /** The scenario CSV (default `<table>.csv`). */
  file?: string;
  events: Record<string, EventKind>;
}

export interface DomainInput {
  name: string;
  /** The business time zone (IANA): what a business day is. */
  timeZone: string;
  entities: Record<string, EntityInput>;
  /** The folder holding the domain's named scenarios (`--scenario NAME`). */
  scenarios?: string;
  /** The scenario `dualrun demo` runs when none is named. */
  demo?: string;
  /** Writes a large synthetic scenario (`dualrun generate`); loaded only when asked for. */
  generate?: () => Promise<ScenarioGenerator>;
}

/** A knob of a generator, as a `dualrun generate` flag (`--orders 1000`, `--late-rate 0.02`). */
export interface GeneratorOption {
  description: string;
  /** count: a whole number ≥ 1; rate: a share from 0 to 1; date: YYYY-MM-DD. */
  kind: 'count' | 'rate' | 'date';
  /** Absent: the flag is required. */
  default?: number | string;
}

export interface ScenarioGenerator {
  /** What it writes, for --help. */
  description: string;
  /** Flag name (kebab-case) → knob. */
  options: Record<string, GeneratorOption>;
  run(options: { out: string; seed: string; values: Record<string, number | string>; onProgress?: (done: number, total: number) => void }): Promise<{ events: number; rows: Record<string, number> }>;
}

// --- The normalised model every part of the engine reads. ---

export interface TableModel {
  name: string;
  /** Field → column. */
  columns: Readonly<Record<string, string>>;
  createdAt: string | undefined;
  updatedAt: string | undefined;
  indexes: readonly (readonly string[])[];
}

export interface FieldModel {
  readonly name: string;
  readonly field: Field;
  readonly column: string;
}

export interface ChildModel {
  name: string;
  key: readonly string[];
  fields: readonly FieldModel[];
  /** The parent's key fields and the child table's columns for them. */
  parentKey: readonly FieldModel[];
  table: TableModel;
  file: string;
  min: number;
}

export interface EventTypeModel {
  type: string;
  entity: EntityModel;
  kind: EventKind;
  /** The fields (and children, by name) it carries besides the key. */
  carried: readonly string[];
}

export interface EntityModel {
  name: string;
  key: readonly string[];
  fields: readonly FieldModel[];
  field(name: string): FieldModel | undefined;
  children: readonly ChildModel[];
  eventTime: string | undefined;
  table: TableModel;
  topic: string;
  file: string;
  events: readonly EventTypeModel[];
}

export interface DomainModel {
  name: string;
  timeZone: string;
  entities: readonly EntityModel[];
  entity(name: string): EntityModel | undefined;
  eventType(type: string): EventTypeModel | undefined;
  scenarios: string | undefined;
  demo: string | undefined;
  generate: (() => Promise<ScenarioGenerator>) | undefined;
}

// --- Types a declaration gives the pipelines written against it. ---

type FieldsRow<F> = { readonly [K in keyof F]: ValueOf<F[K]> };
type ChildrenRows<C> = { readonly [K in keyof C]: C[K] extends { fields: infer F } ? readonly FieldsRow<F>[] : never };
/** An entity's row as a pipeline sees it: its fields, and its children as arrays. */
export type ViewOf<E> = E extends { fields: infer F; children: infer C } ? FieldsRow<F> & ChildrenRows<C> : E extends { fields: infer F } ? FieldsRow<F> : never;
/** How a lookup names a row: its key value (one key field), or an object of its key fields. */
export type KeyOf<E> = E extends { key: readonly [infer K]; fields: infer F } ? (K extends keyof F ? ValueOf<F[K]> | { readonly [P in K]: ValueOf<F[K]> } : never) : E extends { key: readonly (infer K)[]; fields: infer F } ? { readonly [P in K & keyof F]: ValueOf<F[P]> } : never;

type EntityNames<I extends DomainInput> = keyof I['entities'] & string;

export type Domain<I extends DomainInput = DomainInput> = DomainModel & {
  /** The declaration as written, for the types. */
  readonly input: I;
  /**
   * A pipeline's source: `entity`'s events, deduplicated by event id and folded per key, with the
   * other entities it joins (`joins: { customers: 'latest' }`).
   */
  from<N extends EntityNames<I>, const J extends Partial<Record<Exclude<EntityNames<I>, N>, LookupMode>> = Record<never, never>>(
    entity: N,
    options?: FromOptions<ViewOf<I['entities'][N]>, J>,
  ): Source<ViewOf<I['entities'][N]>, TablesOf<I, J>>;
};

export const snakeCase = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const kebabCase = (name: string): string => snakeCase(name).replaceAll('_', '-');

const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const SQL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const TOPIC = /^[A-Za-z0-9._-]+$/;

/** Checks a domain declaration and returns it normalised. Every problem is a ConfigError naming the key and the fix. */
export function defineDomain<const I extends DomainInput>(input: I): Domain<I> {
  const where = (path: string) => `domain ${input.name ?? '?'}: ${path}`;
  const fail = (path: string, message: string, hint: string): never => {
    throw new ConfigError(where(path), message, { hint });
  };
  if (typeof input.name !== 'string' || !NAME.test(input.name)) fail('name', `must be a name of letters, digits and _ (got ${JSON.stringify(input.name)})`, 'name the domain, like "shop" or "metering"');
  if (!validTimeZone(input.timeZone)) fail('timeZone', `${JSON.stringify(input.timeZone)} is not an IANA time zone this Node.js knows`, 'use a zone like Europe/Stockholm or Australia/Sydney');
  const entries = Object.entries(input.entities ?? {});
  if (entries.length === 0) fail('entities', 'declares no entity', 'declare at least one entity with its key, fields and events');

  const types = new Map<string, EventTypeModel>();
  const used = { table: new Map<string, string>(), topic: new Map<string, string>(), file: new Map<string, string>() };
  const claim = (what: keyof typeof used, name: string, owner: string, path: string) => {
    const other = used[what].get(name);
    if (other !== undefined) fail(path, `${what} ${name} is already ${other}'s`, `give each entity and child its own ${what}`);
    used[what].set(name, owner);
  };

  const entities: EntityModel[] = entries.map(([name, entity]) => {
    const at = `entities.${name}`;
    if (!NAME.test(name)) fail(at, `entity name ${JSON.stringify(name)} must be letters, digits and _`, 'use a name like orders or meterReadings');
    const fields = fieldModels(entity.fields, entity.table, `${at}.fields`, fail);
    const fieldNames = new Set(fields.map((f) => f.name));
    const table = tableModel(entity.table, snakeCase(name), fieldNames, `${at}.table`, fail);
    if (!Array.isArray(entity.key) || entity.key.length === 0) fail(`${at}.key`, 'must name at least one key field', `list the fields that identify one ${name} row, like key: ['${fields[0]?.name ?? 'id'}']`);
    entity.key.forEach((key, index) => {
      const model = fields.find((f) => f.name === key);
      if (!model) fail(`${at}.key[${index}]`, `"${key}" is not one of its fields (${[...fieldNames].join(', ')})`, 'name a declared field');
      else if (model.field.optional) fail(`${at}.key[${index}]`, `"${key}" is optional; a key field always has a value`, 'declare it without optional()');
    });
    if (entity.eventTime !== undefined && fields.find((f) => f.name === entity.eventTime)?.field.kind !== 'instant') {
      fail(`${at}.eventTime`, `"${entity.eventTime}" is not one of its instant fields`, `name a field declared with field.instant(), or leave eventTime out`);
    }
    const children = Object.entries(entity.children ?? {}).map(([child, spec]) => childModel(child, spec, name, fields, entity.key, `${at}.children.${child}`, fail));
    claim('table', table.name, name, `${at}.table`);
    for (const child of children) claim('table', child.table.name, `${name}.${child.name}`, `${at}.children.${child.name}.table`);
    const topic = entity.topic ?? kebabCase(name);
    if (!TOPIC.test(topic)) fail(`${at}.topic`, `${JSON.stringify(topic)} has characters Kafka does not allow in a topic`, 'use letters, digits, ".", "_" and "-"');
    claim('topic', topic, name, `${at}.topic`);
    const file = entity.file ?? `${table.name}.csv`;
    claim('file', file, name, `${at}.file`);
    for (const child of children) claim('file', child.file, `${name}.${child.name}`, `${at}.children.${child.name}.file`);
    const model: EntityModel = {
      name,
      key: [...entity.key],
      fields,
      field: (fieldName) => fields.find((f) => f.name === fieldName),
      children,
      eventTime: entity.eventTime,
      table,
      topic,
      file,
      events: [],
    };
    const events = Object.entries(entity.events ?? {});
    if (events.length === 0) fail(`${at}.events`, 'declares no event type', "declare what happens to it, like events: { CustomerUpserted: upsert(), CustomerDeleted: hardDelete() }");
    for (const [type, kind] of events) {
      const path = `${at}.events.${type}`;
      if (!NAME.test(type)) fail(path, `event type ${JSON.stringify(type)} must be letters, digits and _`, 'use a name like OrderPlaced');
      if (types.has(type)) fail(path, `event type ${type} is already declared by ${types.get(type)!.entity.name}`, 'give every event type of the domain its own name');
      checkKind(kind, model, path, fail);
      const eventType = { type, entity: model, kind, carried: carriedFields(model, kind) };
      types.set(type, eventType);
      (model.events as EventTypeModel[]).push(eventType);
    }
    return model;
  });

  const byName = new Map(entities.map((entity) => [entity.name, entity]));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- typed by Domain<I>
  const domain: DomainModel & { input: I; from: (entity: string, options?: FromOptions<any, Record<string, LookupMode>>) => unknown } = {
    input,
    name: input.name,
    timeZone: input.timeZone,
    entities,
    entity: (name) => byName.get(name),
    eventType: (type) => types.get(type),
    scenarios: input.scenarios,
    demo: input.demo,
    generate: input.generate,
    from: (entity, options = {}) => {
      const at = `from('${entity}')`;
      if (!byName.has(entity)) fail(at, `${input.name} has no entity "${entity}" (entities: ${[...byName.keys()].join(', ')})`, 'read one of the declared entities');
      for (const [joined, mode] of Object.entries(options.joins ?? {})) {
        if (!byName.has(joined)) fail(`${at}.joins.${joined}`, `${input.name} has no entity "${joined}" to join`, `join one of ${[...byName.keys()].filter((name) => name !== entity).join(', ')}`);
        if (joined === entity) fail(`${at}.joins.${joined}`, 'a pipeline cannot join its own source entity', 'read the source row from the view');
        if (mode !== 'latest' && mode !== 'asOfEventTime') fail(`${at}.joins.${joined}`, `must be 'latest' or 'asOfEventTime' (got ${JSON.stringify(mode)})`, `write joins: { ${joined}: 'latest' } (its row as it is now) or 'asOfEventTime' (as it was at the event)`);
      }
      if (options.dedupeRetainMs !== undefined && !(options.dedupeRetainMs >= 0)) fail(`${at}.dedupeRetainMs`, 'must be a number of milliseconds of at least 0', 'leave it out for 7 days');
      return sourceOf(domain, entity, options);
    },
  };
  return domain as unknown as Domain<I>;
}

function validTimeZone(zone: unknown): boolean {
  if (typeof zone !== 'string' || zone === '') return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

type Fail = (path: string, message: string, hint: string) => never;

function fieldModels(fields: Record<string, Field> | undefined, table: EntityInput['table'], at: string, fail: Fail): FieldModel[] {
  const entries = Object.entries(fields ?? {});
  if (entries.length === 0) fail(at, 'declares no field', "declare its fields with field.id(), field.text(), field.decimal(2), …");
  return entries.map(([name, field]) => {
    if (!NAME.test(name)) fail(`${at}.${name}`, `field name ${JSON.stringify(name)} must be letters, digits and _`, 'use a name like customerId');
    if (typeof field?.check !== 'function') fail(`${at}.${name}`, 'is not a field', "declare it with the field builders: field.id(), field.decimal(2), …");
    const column = typeof table === 'object' ? (table.columns?.[name] ?? snakeCase(name)) : snakeCase(name);
    if (!SQL_NAME.test(column)) fail(`${at}.${name}`, `its column name ${JSON.stringify(column)} is not a plain SQL name`, 'give it a column of lower-case letters, digits and _ in table.columns');
    return { name, field, column };
  });
}

function tableModel(input: string | TableInput | undefined, fallback: string, fieldNames: Set<string>, at: string, fail: Fail): TableModel {
  const spec: TableInput = typeof input === 'string' ? { name: input } : (input ?? { name: fallback });
  if (!SQL_NAME.test(spec.name)) fail(at, `table name ${JSON.stringify(spec.name)} is not a plain SQL name`, 'use lower-case letters, digits and _');
  for (const name of Object.keys(spec.columns ?? {})) if (!fieldNames.has(name)) fail(`${at}.columns.${name}`, `"${name}" is not one of its fields`, 'map declared fields to columns');
  for (const [index, columns] of (spec.indexes ?? []).entries()) {
    for (const name of columns) if (!fieldNames.has(name)) fail(`${at}.indexes[${index}]`, `"${name}" is not one of its fields`, 'index declared fields');
  }
  for (const column of [spec.createdAt, spec.updatedAt]) if (column !== undefined && !SQL_NAME.test(column)) fail(at, `column name ${JSON.stringify(column)} is not a plain SQL name`, 'use lower-case letters, digits and _');
  const columns = Object.fromEntries([...fieldNames].map((name) => [name, spec.columns?.[name] ?? snakeCase(name)]));
  return { name: spec.name, columns, createdAt: spec.createdAt, updatedAt: spec.updatedAt, indexes: spec.indexes ?? [] };
}

function childModel(name: string, spec: ChildInput, parent: string, parentFields: FieldModel[], parentKey: readonly string[], at: string, fail: Fail): ChildModel {
  if (!NAME.test(name)) fail(at, `child name ${JSON.stringify(name)} must be letters, digits and _`, 'use a name like lines');
  const fields = fieldModels(spec.fields, spec.table, `${at}.fields`, fail);
  const names = new Set(fields.map((f) => f.name));
  const table = tableModel(spec.table, `${snakeCase(parent)}_${snakeCase(name)}`, names, `${at}.table`, fail);
  if (!Array.isArray(spec.key) || spec.key.length === 0) fail(`${at}.key`, 'must name at least one key field', 'list the fields that identify a child within its parent, like key: ["lineNo"]');
  spec.key.forEach((key, index) => {
    if (!names.has(key)) fail(`${at}.key[${index}]`, `"${key}" is not one of its fields (${[...names].join(', ')})`, 'name a declared field');
  });
  const parentColumns = parentKey.map((key) => parentFields.find((f) => f.name === key)!);
  for (const model of parentColumns) if (names.has(model.name)) fail(`${at}.fields.${model.name}`, `repeats the parent's key field ${model.name}`, 'leave it out: a child row carries its parent key already');
  return { name, key: [...spec.key], fields, parentKey: parentColumns, table, file: spec.file ?? `${table.name}.csv`, min: spec.min ?? 0 };
}

function checkKind(kind: EventKind, entity: EntityModel, at: string, fail: Fail): void {
  const known = new Set([...entity.fields.map((f) => f.name), ...entity.children.map((c) => c.name)]);
  const fieldsOf = (names: readonly string[], path: string, what: string) => {
    names.forEach((name, index) => {
      if (!known.has(name)) fail(`${at}.${path}[${index}]`, `"${name}" is not one of ${entity.name}'s fields (${[...known].join(', ')})`, `name a declared field the ${what} carries`);
      if (entity.key.includes(name)) fail(`${at}.${path}[${index}]`, `"${name}" is a key field: every event carries the key`, 'leave key fields out');
    });
  };
  switch (kind?.kind) {
    case 'upsert':
      fieldsOf(kind.omit, 'omit', 'upsert omits');
      for (const name of kind.omit) {
        const model = entity.field(name);
        if (model && !model.field.optional && model.field.initial === undefined) {
          fail(`${at}.omit`, `omits "${name}", which is neither optional nor has an initial value: a new row would have none`, `declare ${name} with { initial: … }, or make it optional()`);
        }
      }
      return;
    case 'patch':
      if (kind.fields.length === 0) fail(at, 'a patch must name the fields it sets', "write patch('status')");
      fieldsOf(kind.fields, 'fields', 'patch');
      return;
    case 'fold':
      if (typeof kind.apply !== 'function') fail(at, 'a fold needs its apply function', 'write fold([fields], (row, payload) => newRow)');
      fieldsOf(kind.fields, 'fields', 'fold');
      return;
    case 'delete':
      return;
    default:
      fail(at, 'is not an event kind', 'use upsert(), patch(…fields), hardDelete() or fold(fields, apply)');
  }
}

/** The fields an event of this kind carries besides the key (children included, by name). */
export function carriedFields(entity: EntityModel, kind: EventKind): string[] {
  switch (kind.kind) {
    case 'upsert':
      return [...entity.fields.map((f) => f.name), ...entity.children.map((c) => c.name)].filter((name) => !entity.key.includes(name) && !kind.omit.includes(name));
    case 'patch':
    case 'fold':
      return [...kind.fields];
    case 'delete':
      return [];
  }
}

/** The Kafka message key of a row: its key value (one key field), or the JSON array of its key values. */
export function encodeKey(entity: EntityModel, row: Row): string {
  if (entity.key.length === 1) return String(row[entity.key[0]!]);
  return JSON.stringify(entity.key.map((name) => row[name]));
}

/** A lookup's key argument (a key value, or an object of key fields) as the encoded key. */
export function encodeKeyArgument(entity: EntityModel, key: unknown): string {
  if (key !== null && typeof key === 'object') return encodeKey(entity, key as Row);
  if (entity.key.length !== 1) throw new TypeError(`${entity.name} has the key (${entity.key.join(', ')}): look it up with an object of those fields`);
  return String(key);
}

/** The key fields of an encoded key, checked; undefined when it does not decode. */
export function decodeKey(entity: EntityModel, text: string): Row | undefined {
  let values: unknown[];
  if (entity.key.length === 1) {
    const model = entity.field(entity.key[0]!)!;
    values = [model.field.kind === 'integer' ? Number(text) : text];
  } else {
    try {
      values = JSON.parse(text) as unknown[];
    } catch {
      return undefined;
    }
    if (!Array.isArray(values) || values.length !== entity.key.length) return undefined;
  }
  const row: Row = {};
  for (const [index, name] of entity.key.entries()) {
    const checked = entity.field(name)!.field.check(values[index]);
    if (!checked.ok) return undefined;
    row[name] = checked.value;
  }
  return row;
}
