/**
 * Log-based change data capture for chapter 5: a capture reads the legacy database's own log (the WAL,
 * through `dualrun cdc`: Debezium on Kafka Connect) and so sees every committed change, the intermediate
 * ones and hard deletes included. The chapter starts a capture on its database before the changes it
 * makes and asks it afterwards what it saw; when none can run, it says why and how to enable it —
 * measured here, never assumed: whether this build has a `dualrun cdc` command, and whether the database
 * is set up for log-based capture. The shared server most users teach on has wal_level=replica.
 *
 * The capture is dualrun cdc's own (streaming/connect/capture.ts, reached through a dynamic import as
 * the CLI reaches the runners): a local Connect worker (or CONNECT_URL's cluster) with the Debezium
 * PostgreSQL connector on the chapter's database and topic prefix, its change events in
 * `<prefix>.cdc.<table>`. To know it has seen everything up to a point, the capture writes a marker into
 * the WAL itself (pg_logical_emit_message, no table touched) and waits until the replication slot has
 * confirmed it — Debezium confirms a position only once what came before it is written to Kafka.
 * PostgreSQL only: MariaDB's binlog has no such marker, and there `dualrun cdc start` captures the same.
 */
import type { Knex } from 'knex';
import { readEnvConfig } from '../../config.ts';
import { connectKnex, type Engine } from '../../db.ts';
import { DualrunError, messageOf } from '../../errors.ts';
import { readDebeziumChange } from '../../model/debezium.ts';
import type { Workspace } from './workspace.ts';

/** One change a capture saw: the row's key columns, the operation, the row after it (null for a delete). */
export interface CapturedChange {
  key: Record<string, unknown>;
  op: 'create' | 'update' | 'delete';
  after: Record<string, unknown> | null;
  /** When the database committed it (ISO). */
  at: string;
}

export interface ChangeCapture {
  /** What captured, for the report ("dualrun cdc (Debezium … PostgreSQL connector)"). */
  name: string;
  /** Every change to `table` committed since the capture started (its snapshot of the rows then excluded), in log order. */
  changes(table: string): Promise<CapturedChange[]>;
  stop(): Promise<void>;
}

export type CaptureStart = { capture: ChangeCapture } | { capture: undefined; reasons: string[] };

/** What the database says about log-based capture: the setting that decides it, whether it allows it, and how to enable it. */
export async function databaseReadiness(db: Knex, engine: Engine): Promise<{ ready: boolean; reason: string }> {
  if (engine === 'pglite') return { ready: false, reason: 'embedded PGlite has no replication, so no log to capture from: run the chapter with --db on a PostgreSQL server with wal_level=logical' };
  if (engine === 'postgres') {
    const result = (await db.raw('SHOW wal_level')) as { rows: { wal_level: string }[] };
    const level = result.rows[0]?.wal_level ?? 'unknown';
    return level === 'logical'
      ? { ready: true, reason: 'wal_level is logical' }
      : { ready: false, reason: `the database has wal_level=${level}; log-based capture needs wal_level=logical: run ALTER SYSTEM SET wal_level = logical; as a superuser and restart PostgreSQL (or teach on a server of its own that has it)` };
  }
  const [rows] = (await db.raw('SELECT @@log_bin AS log_bin, @@binlog_format AS format')) as unknown as [{ log_bin: unknown; format: string }[]];
  const on = Number(rows[0]?.log_bin) === 1;
  const format = rows[0]?.format ?? 'unknown';
  return on && format === 'ROW'
    ? { ready: true, reason: 'the binlog is on, in ROW format' }
    : { ready: false, reason: `the database has log_bin=${on ? 'ON' : 'OFF'}, binlog_format=${format}; log-based capture needs a ROW binlog: start mariadbd with log_bin and binlog_format=ROW` };
}

/** Starts log-based capture of the chapter's database, or says why there is none. */
export async function startCapture(ws: Workspace, step: (text: string) => void = () => undefined): Promise<CaptureStart> {
  const reasons: string[] = [];
  const { commands } = await import('../main.ts');
  if (!('cdc' in commands)) reasons.push('this build has no `dualrun cdc` command');
  const readiness = await ws.meter.use((db) => databaseReadiness(db, ws.engine));
  if (!readiness.ready) reasons.push(readiness.reason);
  else if (ws.engine !== 'postgres') reasons.push('dualrun teach drives log-based capture on PostgreSQL only (it marks where the changes end in the WAL); on MariaDB, dualrun cdc start captures the same');
  if (reasons.length > 0) return { capture: undefined, reasons };

  step('starting log-based capture: dualrun cdc (Debezium on Kafka Connect) on the chapter\'s database');
  const { startCapture: startCdc, stopCapture } = await import('../../../streaming/connect/capture.ts');
  const { CONNECT_VERSION, DEBEZIUM_CONNECTORS } = await import('../../../streaming/connect/provision.ts');
  const env = readEnvConfig();
  const { logger } = ws.env;
  let state: Awaited<ReturnType<typeof startCdc>>;
  try {
    state = await startCdc({
      domain: ws.domain,
      databaseUrl: ws.url,
      brokers: ws.env.brokers,
      topicPrefix: ws.prefix,
      partitions: 1,
      cacheDir: ws.env.cacheDir ?? env.cacheDir,
      connectUrl: ws.env.connectUrl ?? env.connectUrl,
      createSchema: false,
      logger,
      progress: step,
    });
  } catch (error) {
    // Connect or Debezium could not run here (no Java, a grant missing): the chapter goes on without it and says why.
    if (error instanceof DualrunError) return { capture: undefined, reasons: [`dualrun cdc could not start: ${error.message}${error.hint ? ` (${error.hint})` : ''}`] };
    throw error;
  }
  const slot = state.connector.slot!;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await stopCapture(state, { keepSlot: false, logger });
      // Debezium's heartbeat topic is named outside the chapter's prefix, so the workspace would not delete it.
      await ws.withAdmin((admin) => admin.deleteTopics({ topics: [state.connector.heartbeatTopic], timeout: 30_000 })).catch((error: unknown) => logger.info({ error: messageOf(error) }, 'teach: deleting the heartbeat topic'));
    })();
    return stopped;
  };
  // Interrupted, the workspace stops it before it drops the database (a slot would hold the database).
  const untrack = ws.track(stop);
  return {
    capture: {
      name: `dualrun cdc (Debezium ${DEBEZIUM_CONNECTORS.postgres.version} PostgreSQL connector on Kafka Connect ${CONNECT_VERSION})`,
      changes: async (table) => {
        await caughtUp(ws.url, slot);
        return changesIn(await ws.messagesOn(state.connector.topics[table] ?? `${ws.prefix}.cdc.${table}`));
      },
      stop: async () => {
        await stop();
        untrack();
      },
    },
  };
}

/** Marks the WAL's end now and waits until the capture's slot has confirmed it: every change before it is in Kafka. */
async function caughtUp(url: string, slot: string, timeoutMs = 90_000): Promise<void> {
  const db = await connectKnex(url);
  try {
    const marked = (await db.raw("select pg_logical_emit_message(true, 'dualrun-teach', 'the chapter''s changes end here')::text as lsn")) as { rows: { lsn: string }[] };
    const lsn = marked.rows[0]!.lsn;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = (await db.raw('select confirmed_flush_lsn >= ?::pg_lsn as done from pg_replication_slots where slot_name = ?', [lsn, slot])) as { rows: { done: boolean | null }[] };
      if (result.rows[0]?.done) return;
      if (Date.now() > deadline) throw new DualrunError('CDC_BEHIND', `the capture had not confirmed the WAL up to ${lsn} after ${timeoutMs / 1000} s (slot ${slot})`, { hint: 'the machine may be very busy; run the chapter again, and see dualrun cdc status' });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await db.destroy();
  }
}

const OPS = { c: 'create', u: 'update', d: 'delete' } as const;

/** The change events of one table's topic as the chapter reads them; the snapshot's rows (op r) are the state before, not changes. */
export function changesIn(messages: readonly { key: Buffer | null; value: Buffer | null }[]): CapturedChange[] {
  const changes: CapturedChange[] = [];
  for (const message of messages) {
    if (message.value === null) continue; // the tombstone after a delete
    const read = readDebeziumChange(JSON.parse(message.value.toString('utf8')));
    if (!read.ok) throw new Error(`a change event does not decode: ${read.reason}`);
    const { change } = read;
    if (change.op === 'r') continue;
    const key = message.key ? (JSON.parse(message.key.toString('utf8')) as Record<string, unknown>) : {};
    changes.push({ key, op: OPS[change.op], after: change.op === 'd' ? null : change.image, at: change.committedAt });
  }
  return changes;
}
