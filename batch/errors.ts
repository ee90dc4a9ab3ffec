/**
 * The one place the batch runner turns driver errors (pg, mysql2, PGlite) into dualrun errors:
 * an unreachable database → UnavailableError (exit 4), a missing source table or column →
 * SchemaError (exit 5), anything else while writing an output → SinkError naming the output table.
 */
import { DualrunError, SchemaError, SinkError, UnavailableError, messageOf } from '../src/errors.ts';

/** Another process holds the lock for this transformation and date: it is running it right now. */
export class LockHeldError extends DualrunError {
  readonly transform: string;
  readonly businessDate: string;
  constructor(transform: string, businessDate: string) {
    super('LOCKED', `${transform} for ${businessDate} is being run by another process (its database lock is held)`, {
      hint: 'wait for that run to finish (see dualrun batch history); never run two schedulers on one date by hand',
    });
    this.transform = transform;
    this.businessDate = businessDate;
  }
  override get where(): string {
    return `batch ${this.transform} ${this.businessDate}`;
  }
}

/** The tables a failing statement names by alias (`from accounts as a`, `join ledger l`: any table, any alias), to name the table of a missing column. */
function aliasesOf(error: unknown): Map<string, string> {
  const message = messageOf(error);
  const sql = (error as { sql?: unknown } | null)?.sql;
  const text = typeof sql === 'string' ? sql : message.slice(0, Math.max(0, message.lastIndexOf(' - ')));
  const aliases = new Map<string, string>();
  for (const [, table, alias] of text.matchAll(/\b(?:from|join)\s+[`"]?(\w+)[`"]?\s+(?:as\s+)?[`"]?(\w+)[`"]?/gi)) {
    if (!/^(on|where|inner|left|right|full|cross|join|group|order|limit|using)$/i.test(alias!)) aliases.set(alias!, table!);
  }
  return aliases;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'PROTOCOL_CONNECTION_LOST', 'ER_BAD_DB_ERROR', 'ER_ACCESS_DENIED_ERROR', '3D000', '57P01', '57P02', '57P03']);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The missing table or column a driver error names, or undefined when it is not that kind of error. */
function missingSource(error: unknown): { table: string; what: string } | undefined {
  const code = codeOf(error);
  const message = driverMessage(error);
  const table = /relation "([^"]+)" does not exist/.exec(message)?.[1] ?? /Table '(?:[^'.]+\.)?([^']+)' doesn't exist/.exec(message)?.[1];
  if (code === '42P01' || code === 'ER_NO_SUCH_TABLE' || table) return { table: table ?? 'unknown', what: `source table ${table ?? ''} does not exist` };
  const column = /column "?([\w.]+?)"? does not exist/.exec(message)?.[1] ?? /Unknown column '([^']+)'/.exec(message)?.[1];
  if (code === '42703' || code === 'ER_BAD_FIELD_ERROR' || column) {
    const [alias, name] = column?.includes('.') ? column.split('.') : [undefined, column];
    const sourceTable = (alias && aliasesOf(error).get(alias)) ?? alias ?? 'unknown';
    return { table: sourceTable, what: `column ${name ?? '?'} does not exist in ${sourceTable}` };
  }
  return undefined;
}

/** The driver's own message, without the SQL knex puts in front of it ("<sql> - <message>"). */
export function driverMessage(error: unknown): string {
  const message = messageOf(error);
  const sql = (error as { sql?: unknown } | null)?.sql;
  const cut = message.lastIndexOf(' - ');
  return /^\s*(insert|select|delete|update|create|with)\b/i.test(message) && cut > 0 ? message.slice(cut + 3) : typeof sql === 'string' ? message.replace(sql, '').replace(/^ - /, '') : message;
}

/** Wraps an error raised while running a transformation into the error the CLI reports. */
export function wrapBatchError(error: unknown, outputTable: string): DualrunError {
  if (error instanceof DualrunError) return error;
  const code = codeOf(error);
  if ((code && (CONNECTION_CODES.has(code) || code.startsWith('08'))) || /Connection terminated|connect ECONNREFUSED|Knex: Timeout acquiring/.test(driverMessage(error))) {
    return new UnavailableError('database', `lost the database while writing ${outputTable}: ${driverMessage(error)}`, {
      cause: error,
      hint: 'check that the database server runs and is reachable, then run the date again',
    });
  }
  const missing = missingSource(error);
  if (missing) {
    return new SchemaError(missing.table, `${missing.what} (needed for ${outputTable})`, {
      cause: error,
      hint: 'point --db at the legacy database (or fill one with dualrun replay --create-schema), or bring its schema up to date with the domain declaration',
    });
  }
  return new SinkError(outputTable, `writing the output failed and was rolled back: ${driverMessage(error)}`, { cause: error });
}
