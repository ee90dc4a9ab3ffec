/**
 * Log-based change data capture for chapter 5: a capture reads the legacy database's own log (WAL /
 * binlog, through `dualrun cdc` and Debezium) and so sees every committed change, the intermediate ones
 * and hard deletes included. The chapter starts a capture before the changes it makes and asks it
 * afterwards what it saw; when none can run, it says why — measured here, never assumed: whether this
 * build has a `dualrun cdc` command, and whether the database is set up for log-based capture.
 *
 * `dualrun cdc` is in this build, but the chapter does not drive it yet (it is the remaining step of the
 * CDC issue, #13): `startCapture` is where it will start it on the chapter's database and topics and
 * return a ChangeCapture reading the change topic `<prefix>.cdc.orders`; nothing else in the chapter
 * changes. The shared server most users teach on has wal_level=replica, which the reasons say first.
 */
import type { Knex } from 'knex';
import type { Engine } from '../../db.ts';

/** One change a capture saw: the row's key columns, the operation, the row after it (null for a delete). */
export interface CapturedChange {
  key: Record<string, unknown>;
  op: 'create' | 'update' | 'delete';
  after: Record<string, unknown> | null;
  /** When the database committed it (ISO). */
  at: string;
}

export interface ChangeCapture {
  /** What captured, for the report ("dualrun cdc (Debezium PostgreSQL connector)"). */
  name: string;
  /** The changes to `table` committed in (after, until]. */
  changes(table: string, after: Date, until: Date): Promise<CapturedChange[]>;
  stop(): Promise<void>;
}

export type CaptureStart = { capture: ChangeCapture } | { capture: undefined; reasons: string[] };

/** What the database says about log-based capture: the setting that decides it, and whether it allows it. */
export async function databaseReadiness(db: Knex, engine: Engine): Promise<{ ready: boolean; reason: string }> {
  if (engine === 'pglite') return { ready: false, reason: 'embedded PGlite has no replication, so no log to capture from' };
  if (engine === 'postgres') {
    const result = (await db.raw('SHOW wal_level')) as { rows: { wal_level: string }[] };
    const level = result.rows[0]?.wal_level ?? 'unknown';
    return level === 'logical' ? { ready: true, reason: 'wal_level is logical' } : { ready: false, reason: `the database has wal_level=${level}; log-based capture needs wal_level=logical` };
  }
  const [rows] = (await db.raw('SELECT @@log_bin AS log_bin, @@binlog_format AS format')) as unknown as [{ log_bin: unknown; format: string }[]];
  const on = Number(rows[0]?.log_bin) === 1;
  const format = rows[0]?.format ?? 'unknown';
  return on && format === 'ROW' ? { ready: true, reason: 'the binlog is on, in ROW format' } : { ready: false, reason: `the database has log_bin=${on ? 'ON' : 'OFF'}, binlog_format=${format}; log-based capture needs a ROW binlog` };
}

/** Starts log-based capture of the chapter's database, or says why there is none. */
export async function startCapture(db: Knex, engine: Engine): Promise<CaptureStart> {
  const reasons: string[] = [];
  const { commands } = await import('../main.ts');
  if (!('cdc' in commands)) reasons.push('this build has no `dualrun cdc` command yet');
  const readiness = await databaseReadiness(db, engine);
  if (!readiness.ready) reasons.push(readiness.reason);
  // With both in place, this is where `dualrun cdc` is started on the chapter's database.
  if (reasons.length === 0) reasons.push('`dualrun cdc` is present but dualrun teach does not drive it yet');
  return { capture: undefined, reasons };
}
