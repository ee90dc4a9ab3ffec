/**
 * The legacy side of replay, for any domain: applies events to the domain's tables in place, the way
 * the application would — rows upserted, fields overwritten, child rows replaced with their parent,
 * rows hard-deleted; the declared arrival-time columns set (created_at when a row is inserted,
 * updated_at on every change) — a batch of events per transaction. Every event is folded in memory
 * first with the domain's one statement of its semantics (src/model/fold.ts), so a batch becomes its
 * net change per key: a handful of multi-row statements instead of a round trip per event (on
 * PostgreSQL, a batch's many rows not yet in a table go in by COPY; on PostgreSQL and PGlite a row
 * already there gets only the columns the batch changed), and the end state is the one applying them
 * one by one gives. Redeliveries are skipped: the application saw each business event once. A batch's
 * statements are encoded before its transaction opens (prepareBatch), while the previous one runs.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import { from as copyFrom } from 'pg-copy-streams';
import type { Engine } from '../db.ts';
import { SinkError, UsageError } from '../errors.ts';
import { encodeKey, type ChildModel, type DomainModel, type EntityModel, type FieldModel, type Row } from '../model/domain.ts';
import { applyEvent, viewOf, type EntityState } from '../model/fold.ts';
import type { ScenarioEvent } from '../scenario/load.ts';
import { createDomainSchema, domainTables, missingTables } from './schema.ts';

/** Rows written to the legacy tables, by table and kind. */
export interface TableCounts {
  upserted: number;
  updated: number;
  deleted: number;
}
export type DatabaseCounts = Record<string, TableCounts>;

export function emptyDatabaseCounts(domain: DomainModel): DatabaseCounts {
  return Object.fromEntries(domainTables(domain).map((table) => [table.name, { upserted: 0, updated: 0, deleted: 0 }]));
}

const CHUNK = 1000;
/** Fewer new rows of a table than this in a batch go in by INSERT, not COPY. */
const COPY_MIN_ROWS = 500;

export function engineOfKnex(db: Knex): Engine {
  const client = String(db.client.config.client ?? '');
  if (client.includes('mysql')) return 'mysql';
  if (client === 'pg' || client === 'postgres' || client === 'postgresql') return 'postgres';
  return 'pglite';
}

/**
 * Readies the legacy tables: creates the missing ones with `createSchema`, else refuses to run without
 * them; with `reset` empties them; otherwise refuses tables that already hold rows, unless continuing.
 */
export async function prepareDatabase(db: Knex, domain: DomainModel, { reset, continuing, createSchema }: { reset: boolean; continuing: boolean; createSchema: boolean }): Promise<void> {
  if (createSchema) await createDomainSchema(db, domain);
  const missing = await missingTables(db, domain);
  if (missing.length > 0) {
    throw new UsageError(`the legacy database has no table ${missing.join(', ')} of the ${domain.name} domain`, {
      hint: 'point --db at the legacy database, or pass --create-schema to create the domain\'s tables in a fresh database',
    });
  }
  const tables = domainTables(domain);
  if (reset) {
    // Children first; TRUNCATE is DDL-ish on MariaDB, so not inside a transaction.
    for (const table of [...tables].reverse()) await db(table.name).truncate();
    return;
  }
  if (continuing) return;
  for (const table of tables) {
    const row = await db(table.name).first(db.raw('1 as present'));
    if (row) {
      throw new UsageError(`the legacy database already holds ${domain.name} data (table ${table.name} is not empty); replay refuses to mix scenarios`, {
        hint: 'pass --reset to empty the legacy tables first, or use a fresh database',
      });
    }
  }
}

/** What replay knows of each row, across batches: its state and its arrival-time columns. */
interface Tracked {
  state: EntityState | undefined;
  createdAt?: string;
  updatedAt?: string;
}
export type ReplayMemory = Map<EntityModel, Map<string, Tracked>>;

/** One key's net change in a batch. */
interface KeyChange {
  /** The key fields' values. */
  key: unknown[];
  /** The row was in the table before the batch: only then can there be a row or child rows to delete. */
  stored: boolean;
  /** What the row was before the batch: a stored row's columns that differ from it are the ones to update. */
  before: Tracked;
  /** The row was deleted in the batch (and maybe created again): delete it before writing. */
  deleteFirst: boolean;
  /** Its children came with an event of the batch: replace them. */
  childrenReplaced: boolean;
  /** What the row is after the batch (states are never changed in place, so the next batch's folding leaves it be). */
  final: Tracked;
}

/** One batch folded to its net change per key, ready to execute. */
export type BatchPlan = Map<EntityModel, Map<string, KeyChange>>;

/** Folds events into `memory` without planning anything: the events before a continued replay's window. */
export function remember(domain: DomainModel, memory: ReplayMemory, events: ScenarioEvent[]): void {
  planBatch(domain, memory, events);
}

/**
 * Folds a batch of events (in arrival order) into `memory` and returns its net change per key; given
 * `plan`, adds to it (a batch folded in slices).
 */
export function planBatch(domain: DomainModel, memory: ReplayMemory, events: ScenarioEvent[], counts?: DatabaseCounts, plan: BatchPlan = new Map()): BatchPlan {
  for (const { event, arrivalTime, redelivery } of events) {
    if (redelivery) continue;
    const eventType = domain.eventType(event.type)!;
    const { entity, kind } = eventType;
    let rows = memory.get(entity);
    if (!rows) memory.set(entity, (rows = new Map()));
    const key = encodeKey(entity, event.payload);
    const tracked = rows.get(key) ?? { state: undefined };
    const existed = viewOf(tracked.state) !== null;
    const state = applyEvent(eventType, tracked.state, event, arrivalTime);
    const exists = viewOf(state) !== null;
    const next: Tracked = { state };
    if (exists) {
      next.createdAt = existed ? tracked.createdAt! : arrivalTime;
      next.updatedAt = arrivalTime;
    }
    rows.set(key, next);
    let changes = plan.get(entity);
    if (!changes) plan.set(entity, (changes = new Map()));
    const change = changes.get(key) ?? { key: entity.key.map((name) => event.payload[name]), stored: existed, before: tracked, deleteFirst: false, childrenReplaced: false, final: next };
    change.final = next;
    if (existed && !exists) change.deleteFirst = true;
    if (entity.children.some((child) => eventType.carried.includes(child.name))) change.childrenReplaced = true;
    changes.set(key, change);
    if (!counts) continue;
    const tally = counts[entity.table.name]!;
    if (kind.kind === 'upsert') {
      tally.upserted += 1;
      for (const child of entity.children) if (eventType.carried.includes(child.name)) counts[child.table.name]!.upserted += (event.payload[child.name] as Row[]).length;
    } else if (kind.kind === 'delete') tally.deleted += 1;
    else tally.updated += 1;
  }
  return plan;
}

/** One statement of a batch, its rows already encoded: run inside the batch's transaction. */
export type Statement = (trx: Knex.Transaction, counts: DatabaseCounts) => Promise<void>;

/**
 * A planned batch as the statements that apply it, in order: deletes first (children before parents),
 * then the rows, then child rows. Encoding the rows (COPY text, unnest arrays) is most of the client's
 * work, and done here, before the transaction opens, it overlaps the previous batch's transaction: the
 * transaction itself is then the server's time. `pause` is awaited every few hundred rows, to let the
 * previous batch's statements go on meanwhile.
 */
export async function prepareBatch(engine: Engine, plan: BatchPlan, pause: () => Promise<void>): Promise<Statement[]> {
  const statements: Statement[] = [];
  if (engine !== 'mysql') {
    // Every statement here touches a few rows by key, but the tables grow by bulk loads faster than
    // autovacuum analyzes them: with stale statistics the planner scans the whole table (the child
    // deletes) or hashes all of it to join a batch's updates (every batch, a table's every row). Lookups
    // by index are always right here; only this transaction is told so.
    statements.push(async (trx) => void (await trx.raw(`select set_config('enable_seqscan', 'off', true), set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)`)));
  }
  for (const [entity, changes] of plan) {
    const keyColumns = entity.key.map((name) => entity.field(name)!.column);
    // A key first seen in this batch has nothing in the tables yet: no delete to send for it.
    const deleted: unknown[][] = [];
    const replaced: unknown[][] = [];
    for (const change of changes.values()) {
      if (change.stored && change.deleteFirst) deleted.push(change.key);
      if (change.stored && (change.deleteFirst || change.childrenReplaced)) replaced.push(change.key);
    }
    for (const child of entity.children) {
      const parentColumns = child.parentKey.map((model) => model.column);
      for (const keys of chunks(replaced)) statements.push(async (trx, counts) => void (counts[child.table.name]!.deleted += await whereKeys(trx(child.table.name), parentColumns, keys).delete()));
    }
    for (const keys of chunks(deleted)) statements.push(async (trx) => void (await whereKeys(trx(entity.table.name), keyColumns, keys).delete()));

    const written = [...changes.values()].filter((change) => viewOf(change.final.state) !== null);
    // Not in the table now: new in this batch, or deleted just above.
    const absent = (change: KeyChange) => !change.stored || change.deleteFirst;
    const columns = tableColumns(entity);
    const merge = columns.filter((c) => !keyColumns.includes(c.name) && c.name !== entity.table.createdAt).map((c) => c.name);
    if (engine === 'mysql') {
      statements.push(...upsert(entity.table.name, columns, await mapPausing(written, (change) => tableRow(entity, change.final), pause), keyColumns, merge));
    } else {
      // Absent rows go in whole (on PostgreSQL by COPY, its fastest path); rows already there get only
      // the columns the batch changed (a status change sends the status and updated_at, not the row).
      const inserted = await mapPausing(written.filter(absent), (change) => tableRow(entity, change.final), pause);
      statements.push(...(engine === 'postgres' ? await copyInto(entity.table.name, columns, inserted, pause) : insertUnnest(entity.table.name, columns, inserted)));
      const updates = await mapPausing(written.filter((change) => !absent(change)), (change) => ({ before: tableRow(entity, change.before), after: tableRow(entity, change.final) }), pause);
      statements.push(...(await updateChanged(entity.table.name, columns, keyColumns, merge, updates, pause)));
    }
    for (const child of entity.children) {
      // Every row carried anew: the old ones (if any) were deleted above.
      const childRows = written.filter((change) => change.childrenReplaced || change.deleteFirst).flatMap((change) => childTableRows(child, change.final.state!.row!));
      const childColumns = childTableColumns(child);
      if (engine === 'postgres') statements.push(...(await copyInto(child.table.name, childColumns, childRows, pause)));
      else if (engine === 'pglite') statements.push(...insertUnnest(child.table.name, childColumns, childRows));
      else statements.push(...insert(child.table.name, childColumns, childRows));
    }
  }
  return statements;
}

/** `items.map(fn)`, pausing every few hundred items. */
async function mapPausing<T, U>(items: T[], fn: (item: T) => U, pause: () => Promise<void>): Promise<U[]> {
  const out: U[] = [];
  for (let index = 0; index < items.length; index += 1) {
    out.push(fn(items[index]!));
    if (index % 500 === 499) await pause();
  }
  return out;
}

/** Runs a prepared batch's statements, in order, inside `trx`. */
export async function executeBatch(trx: Knex.Transaction, statements: Statement[], counts: DatabaseCounts): Promise<void> {
  for (const statement of statements) await statement(trx, counts);
}

interface SqlColumn {
  name: string;
  /** The PostgreSQL array element type for unnest. */
  pg: string;
  instant: boolean;
}

function sqlColumn({ column, field }: FieldModel): SqlColumn {
  const pg = { id: 'text', text: 'text', enum: 'text', integer: 'int', decimal: 'numeric', date: 'date', instant: 'timestamptz', boolean: 'boolean' }[field.kind];
  return { name: column, pg, instant: field.kind === 'instant' };
}

function tableColumns(entity: EntityModel): SqlColumn[] {
  const columns = entity.fields.map(sqlColumn);
  for (const name of [entity.table.createdAt, entity.table.updatedAt]) if (name !== undefined) columns.push({ name, pg: 'timestamptz', instant: true });
  return columns;
}

function childTableColumns(child: ChildModel): SqlColumn[] {
  return [...child.parentKey.map(sqlColumn), ...child.fields.map(sqlColumn)];
}

function tableRow(entity: EntityModel, tracked: Tracked): Record<string, unknown> {
  const row = tracked.state!.row!;
  const out: Record<string, unknown> = {};
  for (const { name, column } of entity.fields) out[column] = row[name] ?? null;
  if (entity.table.createdAt !== undefined) out[entity.table.createdAt] = tracked.createdAt;
  if (entity.table.updatedAt !== undefined) out[entity.table.updatedAt] = tracked.updatedAt;
  return out;
}

function childTableRows(child: ChildModel, parent: Row): Record<string, unknown>[] {
  return ((parent[child.name] as Row[] | undefined) ?? []).map((row) => {
    const out: Record<string, unknown> = {};
    for (const { name, column } of child.parentKey) out[column] = parent[name];
    for (const { name, column } of child.fields) out[column] = row[name] ?? null;
    return out;
  });
}

function whereKeys(query: Knex.QueryBuilder, columns: string[], keys: unknown[][]): Knex.QueryBuilder {
  return columns.length === 1 ? query.whereIn(columns[0]!, keys.map((key) => key[0] as string)) : query.whereIn(columns, keys as never);
}

/** Instants as the driver wants them: Date objects for mysql2 (DATETIME(3) in UTC), ISO text for PostgreSQL arrays. */
function forEngine(engine: Engine, columns: SqlColumn[], rows: Record<string, unknown>[]): Record<string, unknown>[] {
  if (engine !== 'mysql') return rows;
  const instants = columns.filter((column) => column.instant).map((column) => column.name);
  if (instants.length === 0) return rows;
  return rows.map((row) => {
    const copy = { ...row };
    for (const name of instants) if (typeof copy[name] === 'string') copy[name] = new Date(copy[name] as string);
    return copy;
  });
}

/** MariaDB (no unnest): multi-row INSERT … ON DUPLICATE KEY UPDATE of every column but the key and created_at. */
function upsert(table: string, columns: SqlColumn[], rows: Record<string, unknown>[], key: string[], merge: string[]): Statement[] {
  return chunks(forEngine('mysql', columns, rows)).map((part) => async (trx) => {
    const query = trx(table).insert(part).onConflict(key);
    await (merge.length > 0 ? query.merge(merge) : query.ignore());
  });
}

/**
 * PostgreSQL/PGlite: rows already in the table, as they were before the batch and after it. Each row
 * gets the columns of `merge` that differ (rows changing the same columns share one UPDATE … FROM
 * unnest); a row whose columns all stayed the same is still written whole, as the application's
 * UPDATE would be: change data capture sees one change for it either way.
 */
async function updateChanged(table: string, columns: SqlColumn[], key: string[], merge: string[], rows: { before: Record<string, unknown>; after: Record<string, unknown> }[], pause: () => Promise<void>): Promise<Statement[]> {
  const byChanged = new Map<string, { changed: string[]; rows: Record<string, unknown>[] }>();
  for (const { before, after } of rows) {
    const differing = merge.filter((name) => before[name] !== after[name]);
    const changed = differing.length > 0 ? differing : merge;
    const group = byChanged.get(changed.join());
    if (group) group.rows.push(after);
    else byChanged.set(changed.join(), { changed, rows: [after] });
  }
  const statements: Statement[] = [];
  for (const { changed, rows: group } of byChanged.values()) {
    // Nothing to set: a table of key columns only, whose rows cannot change.
    if (changed.length === 0) continue;
    const used = columns.filter((column) => key.includes(column.name) || changed.includes(column.name));
    const names = used.map((column) => quote(column.name)).join(', ');
    const set = changed.map((name) => `${quote(name)} = v.${quote(name)}`).join(', ');
    const match = key.map((name) => `t.${quote(name)} = v.${quote(name)}`).join(' AND ');
    const sql = `UPDATE ${quote(table)} AS t SET ${set} FROM ${unnestOf(used)} AS v(${names}) WHERE ${match}`;
    for (const part of chunks(group, UNNEST_ROWS)) {
      const arrays = unnestArrays(used, part);
      await pause();
      statements.push(async (trx) => {
        const { rowCount } = (await trx.raw(sql, arrays)) as { rowCount: number | null };
        if ((rowCount ?? part.length) < part.length) await refuseMissingRows(trx, table, key, part);
      });
    }
  }
  return statements;
}

/**
 * Replay knows which rows it stored: an UPDATE that finds fewer means someone deleted them behind its
 * back, and the batch's changes to them would be lost without a word. Named, and the batch rolled back.
 */
async function refuseMissingRows(trx: Knex.Transaction, table: string, key: string[], rows: Record<string, unknown>[]): Promise<never> {
  const found = await whereKeys(trx(table), key, rows.map((row) => key.map((name) => row[name]))).select(key);
  const present = new Set(found.map((row: Record<string, unknown>) => JSON.stringify(key.map((name) => String(row[name])))));
  const missing = rows.map((row) => key.map((name) => String(row[name]))).filter((values) => !present.has(JSON.stringify(values)));
  const shown = missing.slice(0, 5).map((values) => `(${values.join(', ')})`).join(', ');
  throw new SinkError(table, `${missing.length} row(s) of ${table} that replay wrote earlier are gone (${key.join(', ')} = ${shown}${missing.length > 5 ? ', …' : ''}): their changes in this batch would be lost; nothing of the batch was written`, {
    hint: 'something else deleted them: replay into a database only replay writes, or start again with --reset',
  });
}

function insert(table: string, columns: SqlColumn[], rows: Record<string, unknown>[]): Statement[] {
  return chunks(forEngine('mysql', columns, rows)).map((part) => async (trx) => void (await trx(table).insert(part)));
}

const quote = (name: string): string => `"${name}"`;

/**
 * PostgreSQL/PGlite: many rows in one INSERT … SELECT FROM unnest(array per column) — a handful of
 * parameters however many rows, so the server parses and plans one small statement (several times
 * faster than multi-row VALUES with thousands of parameters).
 */
function insertUnnest(table: string, columns: SqlColumn[], rows: Record<string, unknown>[]): Statement[] {
  const sql = `INSERT INTO ${quote(table)} (${columns.map((column) => quote(column.name)).join(', ')}) SELECT * FROM ${unnestOf(columns)}`;
  return chunks(rows, UNNEST_ROWS).map((part) => {
    const arrays = unnestArrays(columns, part);
    return async (trx) => void (await trx.raw(sql, arrays));
  });
}

const UNNEST_ROWS = 50_000;

/** `unnest(?::text[], ?::int[], …)`: one array parameter per column. */
function unnestOf(columns: SqlColumn[]): string {
  return `unnest(${columns.map((column) => `?::${column.pg}[]`).join(', ')})`;
}

function unnestArrays(columns: SqlColumn[], rows: Record<string, unknown>[]): string[] {
  return columns.map((column) => pgArray(rows.map((row) => row[column.name] as string | number | boolean | null)));
}

/**
 * PostgreSQL (the pg driver): COPY … FROM STDIN on the transaction's own connection, in COPY's text
 * format (tab-separated, \N for NULL, backslash escapes), several thousand rows per write.
 */
async function copyInto(table: string, columns: SqlColumn[], rows: Record<string, unknown>[], pause: () => Promise<void>): Promise<Statement[]> {
  if (rows.length === 0) return [];
  // COPY costs a round trip more than an INSERT and a stream to set up: for a few rows the INSERT is
  // faster (50-event batches: a replay took twice as long by COPY).
  if (rows.length < COPY_MIN_ROWS) return insertUnnest(table, columns, rows);
  const names = columns.map((column) => column.name);
  const text: string[] = [];
  for (let start = 0; start < rows.length; start += 2000) {
    let chunk = '';
    // Written out rather than a map and join per row: that form made a 400k-event replay ~10 % slower (14.2 s vs 12.8 s).
    for (let index = start; index < Math.min(start + 2000, rows.length); index += 1) {
      const row = rows[index]!;
      let line = '';
      for (let at = 0; at < names.length; at += 1) line += (at === 0 ? '' : '\t') + copyField(row[names[at]!]);
      chunk += `${line}\n`;
    }
    text.push(chunk);
    await pause();
  }
  const sql = `COPY ${quote(table)} (${names.map(quote).join(', ')}) FROM STDIN`;
  return [
    async (trx) => {
      const connection = (await trx.client.acquireConnection()) as { query: <T>(stream: T) => T };
      await pipeline(Readable.from(text), connection.query(copyFrom(sql)));
    },
  ];
}

function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text = String(value);
  return /[\\\t\n\r]/.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!) : text;
}

/** A PostgreSQL array literal of quoted elements ('{"a",NULL}'), passed as one text parameter. */
function pgArray(values: (string | number | boolean | null)[]): string {
  return `{${values.map((value) => (value === null || value === undefined ? 'NULL' : `"${String(value).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`)).join(',')}}`;
}

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size));
  return out;
}
