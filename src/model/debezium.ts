/**
 * Debezium change events as an input format of a domain's entities (DESIGN.md section 3, "A domain").
 * A change event of a legacy table says what happened to one row: `c` (insert), `r` (a snapshot read),
 * `u` (update) carry the row's `after` image, `d` (delete) its `before`; a tombstone (null value) after
 * a delete is Kafka's compaction marker and carries nothing new. This module decodes one event into the
 * row's fields in their pinned form (src/model/fields.ts), whichever way Debezium encoded a column:
 * decimals as strings (decimal.handling.mode=string) and times as ISO text (time.precision.mode=isostring),
 * or Debezium's numeric encodings (days, epoch milliseconds or microseconds) when a connector was set up
 * otherwise.
 */
import type { Checked, Field } from './fields.ts';
import type { FieldModel, Row } from './domain.ts';

export type DebeziumOp = 'c' | 'r' | 'u' | 'd';

export interface DebeziumChange {
  op: DebeziumOp;
  /** The row after the change (c/r/u) or before it (d), by column. */
  image: Record<string, unknown>;
  /** Where the change is in the database's log: unique per row change, the same when redelivered. */
  position: string;
  /** When the database committed the change (source.ts_ms), ISO UTC. */
  committedAt: string;
  /** The table (source.table). */
  table: string;
  /** The transaction (transaction.id, or the source's txId), when the connector says. */
  transaction: string | undefined;
  /** The change's place within its transaction (transaction.total_order), when the connector says. */
  order: number | undefined;
}

const OPS = new Set(['c', 'r', 'u', 'd']);
const DAY_MS = 86_400_000;

/** A Debezium event value (parsed JSON) as a change, or what is wrong with it (for the dead-letter reason). */
export function readDebeziumChange(value: unknown): { ok: true; change: DebeziumChange } | { ok: false; reason: string } {
  if (value === null || typeof value !== 'object') return { ok: false, reason: 'a Debezium change event is a JSON object with op, before, after and source' };
  const event = value as Record<string, unknown>;
  // A connector with schemas on wraps the event: { schema, payload }.
  const body = 'payload' in event && 'schema' in event && typeof event.payload === 'object' && event.payload !== null ? (event.payload as Record<string, unknown>) : event;
  const op = body.op;
  if (typeof op !== 'string' || !OPS.has(op)) return { ok: false, reason: `op is ${JSON.stringify(op)}, not one of c, r, u, d` };
  const image = op === 'd' ? body.before : body.after;
  if (image === null || typeof image !== 'object') return { ok: false, reason: `an op ${op} event needs its ${op === 'd' ? 'before' : 'after'} image` };
  const source = body.source;
  if (source === null || typeof source !== 'object') return { ok: false, reason: 'the event has no source block (source.ts_ms, lsn or binlog position)' };
  const src = source as Record<string, unknown>;
  const position = sourcePosition(src);
  if (position === undefined) return { ok: false, reason: 'source has neither lsn (PostgreSQL) nor file and pos (MariaDB/MySQL): the change has no position to deduplicate by' };
  const tsMs = Number(src.ts_ms);
  if (!Number.isFinite(tsMs)) return { ok: false, reason: `source.ts_ms is ${JSON.stringify(src.ts_ms)}, not a time in milliseconds` };
  const block = body.transaction && typeof body.transaction === 'object' ? (body.transaction as Record<string, unknown>) : undefined;
  const transaction = block ? String(block.id) : src.txId !== undefined && src.txId !== null ? String(src.txId) : undefined;
  const order = block && Number.isInteger(block.total_order) ? (block.total_order as number) : undefined;
  return { ok: true, change: { op: op as DebeziumOp, image: image as Record<string, unknown>, position, committedAt: new Date(tsMs).toISOString(), table: String(src.table ?? ''), transaction, order } };
}

/**
 * The change's place in the log, the same on every redelivery: PostgreSQL's LSN of the change (with the
 * commit LSN, as a snapshot row shares its LSN with the others), MariaDB's binlog file, position and
 * row within the event. A snapshot row (op r) has no change of its own; its table and key make it unique.
 */
function sourcePosition(source: Record<string, unknown>): string | undefined {
  if (source.lsn !== undefined && source.lsn !== null) return `lsn:${String(source.lsn)}`;
  if (source.file !== undefined && source.pos !== undefined) return `binlog:${String(source.file)}:${String(source.pos)}:${String(source.row ?? 0)}`;
  return undefined;
}

/** A column's value as Debezium sent it, in the field's pinned form. */
export function decodeDebeziumValue(field: Field, raw: unknown): Checked<unknown> {
  if (raw === null || raw === undefined) return field.optional ? { ok: true, value: null } : field.check(raw);
  switch (field.kind) {
    case 'date':
      // isostring writes a date as "2024-03-31Z"; the other modes as days since 1970-01-01.
      if (typeof raw === 'string') return field.check(raw.replace(/Z$/, ''));
      if (typeof raw === 'number') return field.check(new Date(raw * DAY_MS).toISOString().slice(0, 10));
      return field.check(raw);
    case 'instant':
      if (typeof raw === 'string') return field.check(/(Z|[+-]\d{2}:?\d{2})$/.test(raw) ? raw : `${raw}Z`);
      // A DATETIME column (MariaDB) holds UTC here: epoch milliseconds (connect) or microseconds (adaptive).
      if (typeof raw === 'number') return field.check(new Date(raw > 1e14 ? Math.floor(raw / 1000) : raw).toISOString());
      return field.check(raw);
    case 'boolean':
      // MariaDB's TINYINT(1) arrives as a number.
      return field.check(typeof raw === 'number' ? raw !== 0 : raw);
    case 'decimal':
      return field.check(typeof raw === 'number' ? String(raw) : raw);
    default:
      return field.check(raw);
  }
}

/** The fields of a table row's image, by column; the first column that does not decode is named. */
export function decodeImage(fields: readonly FieldModel[], image: Record<string, unknown>): { ok: true; row: Row } | { ok: false; reason: string } {
  const row: Row = {};
  for (const { name, field, column } of fields) {
    if (!(column in image)) {
      if (field.optional) continue;
      return { ok: false, reason: `column ${column} (field ${name}) is missing from the change event's image` };
    }
    const decoded = decodeDebeziumValue(field, image[column]);
    if (!decoded.ok) return { ok: false, reason: `column ${column} is ${JSON.stringify(image[column])}; expected ${decoded.expected}` };
    row[name] = decoded.value;
  }
  return { ok: true, row };
}

/**
 * The key that ties a change to its transaction's END record. PostgreSQL's ids are "<txId>:<lsn>", and
 * Debezium 3.6 writes the BEGIN's LSN into the changes but the END's own LSN into the END record: the
 * txId alone matches them.
 */
export function transactionKey(id: string): string {
  return /^\d+:\d+$/.test(id) ? id.slice(0, id.indexOf(':')) : id;
}
