/**
 * The load a job puts on the legacy (source) database, from the database's own statistics:
 *
 * - PostgreSQL and PGlite: `pg_stat_user_tables` of the source tables (rows read = seq_tup_read +
 *   idx_tup_fetch, scans = seq_scan + idx_scan), database-wide, so it counts whoever touched them.
 *   A backend flushes its counters asynchronously (PostgreSQL 15: at most once a second, else when idle
 *   for a while), so each job gets a knex of its own, named by application_name, which is closed after
 *   the job; a backend flushes its counters as it exits, before it leaves pg_stat_activity, so once none
 *   of the job's backends is left the counters are complete. PGlite is one backend in process: it gets
 *   `pg_stat_force_next_flush()` instead.
 * - MariaDB: performance_schema's per-table row fetches when it is on; when it is off (`@@performance_schema`
 *   = 0), the server's session status counters (`Handler_read_*`: rows the storage engine read) of every
 *   connection the job opened, read on each connection before and after, plus a watch on the process list
 *   for any other session on the database while the job runs.
 * - Where the statistics cannot be read (no access to them, say): knex's query events, rows the job's
 *   queries returned — a lower bound, since rows read inside INSERT … SELECT never reach the client.
 *
 * Queries are counted from knex's query events of the job's own knex in every case. Every reading says
 * which source its rows-read figure came from.
 */
import knexFactory, { type Knex } from 'knex';
import { knexConfigFor, type Engine } from '../../db.ts';
import { messageOf } from '../../errors.ts';

export interface SourceLoad {
  /** Statements the job sent to the source database. */
  queries: number;
  /** Rows the database read for it (or, with knex events only, rows its queries returned). */
  rowsRead: number;
  /** Table scans (sequential and index), where the statistics count them. */
  scans: number | undefined;
  /** Rows read per source table, where the statistics are per table. */
  perTable: Record<string, number> | undefined;
  /** Rows the job's queries returned to it (knex query events). */
  rowsReturned: number;
  /** Connections the job opened to the source database. */
  sessions: number;
  /** Sessions of anyone else seen on the database while the job ran (MariaDB without performance_schema). */
  otherSessions: number | undefined;
  /** Where rowsRead came from. */
  source: string;
}

type TableCounters = Record<string, { rows: number; scans: number }>;

const HANDLER_READS = ['Handler_read_first', 'Handler_read_key', 'Handler_read_last', 'Handler_read_next', 'Handler_read_prev', 'Handler_read_rnd', 'Handler_read_rnd_next'];

interface RawMysqlConnection {
  threadId: number;
  query(sql: string, callback: (error: Error | null, rows: unknown) => void): void;
}

function mysqlQuery(connection: RawMysqlConnection, sql: string): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => connection.query(sql, (error, rows) => (error ? reject(error) : resolve(rows as Record<string, unknown>[]))));
}

async function handlerReads(connection: RawMysqlConnection): Promise<number> {
  const rows = await mysqlQuery(connection, "SHOW SESSION STATUS LIKE 'Handler_read%'");
  return rows.filter((row) => HANDLER_READS.includes(String(row.Variable_name))).reduce((sum, row) => sum + Number(row.Value), 0);
}

/** Rows in a driver's answer as knex's query-response event hands it over (pg, PGlite, mysql2; builder or raw). */
export function rowsInResponse(response: unknown): number {
  if (Array.isArray(response)) {
    // mysql2 raw: [rows, fields] for a SELECT, [ResultSetHeader, undefined] otherwise.
    if (response.length === 2 && (Array.isArray(response[1]) || response[1] === undefined) && !Array.isArray(response[0]) && typeof response[0] === 'object') return 0;
    if (response.length === 2 && Array.isArray(response[0]) && Array.isArray(response[1])) return response[0].length;
    return response.length;
  }
  const rows = (response as { rows?: unknown } | null)?.rows;
  return Array.isArray(rows) ? rows.length : 0;
}

interface Job {
  db: Knex;
  finish(): Promise<SourceLoad>;
}

export class SourceMeter {
  private shared: Knex | undefined;
  private stats: Knex | undefined;
  private mysqlMode: 'performance_schema' | 'session' | undefined;
  /** Why the database's statistics are not used, when they are not: rows read are then the rows knex saw returned. */
  private unreadable: string | undefined;
  private sequence = 0;
  /** Set while the meter queries the shared PGlite knex itself, so its own queries are not counted. */
  private metering = false;
  private sharedQueries = 0;
  private sharedRowsReturned = 0;

  private constructor(
    readonly url: string,
    readonly engine: Engine,
    private readonly tables: readonly string[],
  ) {}

  /** A meter on the database at `url`, measuring reads of `tables` (the domain's source tables). */
  static async open(url: string, engine: Engine, tables: readonly string[], options: { statistics?: 'database' | 'knex' } = {}): Promise<SourceMeter> {
    const meter = new SourceMeter(url, engine, tables);
    if (options.statistics === 'knex') {
      meter.unreadable = "the database's statistics were not asked for";
      return meter;
    }
    try {
      if (engine === 'mysql') {
        const [rows] = (await meter.statsDb().raw('SELECT @@performance_schema AS on_')) as unknown as [{ on_: unknown }[]];
        meter.mysqlMode = Number(rows[0]?.on_) === 1 ? 'performance_schema' : 'session';
        if (meter.mysqlMode === 'session') await meter.statsDb().raw("SHOW SESSION STATUS LIKE 'Handler_read%'");
      }
      await meter.tableCounters();
    } catch (error) {
      // A user without access to the statistics, or a database without them: say so, and count what knex sees.
      meter.unreadable = `its statistics could not be read: ${messageOf(error)}`;
      meter.mysqlMode = undefined;
    }
    return meter;
  }

  /** Where this meter's rows-read figures come from, in words. */
  get source(): string {
    if (this.unreadable !== undefined) return `knex query events: rows the job's queries returned, not rows the database read (${this.unreadable})`;
    if (this.engine === 'postgres') return 'PostgreSQL pg_stat_user_tables (seq_tup_read + idx_tup_fetch of the source tables)';
    if (this.engine === 'pglite') return 'PGlite pg_stat_user_tables (seq_tup_read + idx_tup_fetch of the source tables)';
    return this.mysqlMode === 'performance_schema'
      ? 'MariaDB performance_schema.table_io_waits_summary_by_table (COUNT_FETCH of the source tables)'
      : "MariaDB session status Handler_read_* of the job's connections (performance_schema is off on this server)";
  }

  /** Runs `work` on the database, unmeasured; its statistics settle before the next measurement. */
  async use<T>(work: (db: Knex) => Promise<T>): Promise<T> {
    return (await this.measure(work)).result;
  }

  /** Runs `job` with a knex of its own and measures what it cost the source tables. */
  async measure<T>(job: (db: Knex) => Promise<T>): Promise<{ result: T; load: SourceLoad }> {
    const before = await this.tableCounters();
    const started = this.begin();
    let result: T;
    try {
      result = await job(started.db);
    } catch (error) {
      await started.finish().catch(() => undefined);
      throw error;
    }
    const load = await started.finish();
    const after = await this.tableCounters();
    if (before && after) {
      const perTable: Record<string, number> = {};
      let rows = 0;
      let scans = 0;
      for (const table of this.tables) {
        const read = (after[table]?.rows ?? 0) - (before[table]?.rows ?? 0);
        perTable[table] = read;
        rows += read;
        scans += (after[table]?.scans ?? 0) - (before[table]?.scans ?? 0);
      }
      Object.assign(load, { rowsRead: rows, scans: this.engine === 'mysql' ? undefined : scans, perTable });
    }
    return { result, load };
  }

  /** Closes the shared PGlite knex (another process or knex needs the folder); reopened when next used. */
  async release(): Promise<void> {
    await this.shared?.destroy();
    this.shared = undefined;
    if (this.engine === 'pglite') this.stats = undefined;
  }

  async close(): Promise<void> {
    await this.release();
    await this.stats?.destroy();
    this.stats = undefined;
  }

  private statsDb(): Knex {
    if (this.engine === 'pglite') return this.sharedDb();
    this.stats ??= knexFactory({ ...knexConfigFor(this.engine === 'postgres' ? withApplicationName(this.url, 'dualrun-teach-meter') : this.url), pool: { min: 0, max: 1 } });
    return this.stats;
  }

  private sharedDb(): Knex {
    if (!this.shared) {
      const db = knexFactory(knexConfigFor(this.url));
      db.on('query', () => {
        if (!this.metering) this.sharedQueries += 1;
      });
      db.on('query-response', (response: unknown) => {
        if (!this.metering) this.sharedRowsReturned += rowsInResponse(response);
      });
      this.shared = db;
    }
    return this.shared;
  }

  /** Per-table counters of the source tables, database-wide; undefined when they are per session (MariaDB without performance_schema). */
  private async tableCounters(): Promise<TableCounters | undefined> {
    if (this.unreadable !== undefined) return undefined;
    const db = this.statsDb();
    this.metering = true;
    try {
      if (this.engine === 'mysql') {
        if (this.mysqlMode !== 'performance_schema') return undefined;
        const [rows] = (await db.raw('SELECT OBJECT_NAME AS name, COUNT_FETCH AS rows_ FROM performance_schema.table_io_waits_summary_by_table WHERE OBJECT_SCHEMA = DATABASE()')) as unknown as [{ name: string; rows_: unknown }[]];
        return Object.fromEntries(rows.map((row) => [row.name, { rows: Number(row.rows_), scans: 0 }]));
      }
      if (this.engine === 'pglite') await db.raw('SELECT pg_stat_force_next_flush()');
      await db.raw('SELECT pg_stat_clear_snapshot()');
      const result = (await db.raw(
        'SELECT relname, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = ANY(?)',
        [[...this.tables]],
      )) as { rows: { relname: string; seq_scan: unknown; seq_tup_read: unknown; idx_scan: unknown; idx_tup_fetch: unknown }[] };
      return Object.fromEntries(result.rows.map((row) => [row.relname, { rows: Number(row.seq_tup_read ?? 0) + Number(row.idx_tup_fetch ?? 0), scans: Number(row.seq_scan ?? 0) + Number(row.idx_scan ?? 0) }]));
    } finally {
      this.metering = false;
    }
  }

  private begin(): Job {
    const base = (sessions: number, queries: number, rowsReturned: number): SourceLoad => ({
      queries,
      rowsRead: rowsReturned,
      scans: undefined,
      perTable: undefined,
      rowsReturned,
      sessions,
      otherSessions: undefined,
      source: 'knex query events (rows the queries returned)',
    });
    if (this.engine === 'pglite') {
      const db = this.sharedDb();
      const [queries, rows] = [this.sharedQueries, this.sharedRowsReturned];
      // One embedded connection: the job used it if it sent a query.
      return { db, finish: async () => ({ ...base(this.sharedQueries > queries ? 1 : 0, this.sharedQueries - queries, this.sharedRowsReturned - rows), source: this.source }) };
    }
    const name = `dualrun-teach-job-${process.pid}-${(this.sequence += 1)}`;
    let queries = 0;
    let rowsReturned = 0;
    const connections: { connection: unknown; before: Promise<number> | undefined }[] = [];
    const config = knexConfigFor(this.engine === 'postgres' ? withApplicationName(this.url, name) : this.url);
    const session = this.engine === 'mysql' && this.mysqlMode === 'session';
    const db = knexFactory({
      ...config,
      pool: {
        ...(config.pool as object),
        // No connection of the job is closed while it runs: its session counters go with it.
        idleTimeoutMillis: 3_600_000,
        afterCreate: (connection: unknown, done: (error: Error | null, connection: unknown) => void) => {
          const before = session ? handlerReads(connection as RawMysqlConnection) : undefined;
          before?.catch(() => undefined);
          connections.push({ connection, before });
          if (!before) return done(null, connection);
          before.then(() => done(null, connection), (error: Error) => done(error, connection));
        },
      },
    });
    db.on('query', () => (queries += 1));
    db.on('query-response', (response: unknown) => (rowsReturned += rowsInResponse(response)));
    const watch = session ? this.watchOtherSessions(connections) : undefined;
    return {
      db,
      finish: async () => {
        const load = base(connections.length, queries, rowsReturned);
        load.source = this.source;
        if (session) {
          let rows = 0;
          for (const { connection, before } of connections) rows += (await handlerReads(connection as RawMysqlConnection)) - (await before!);
          load.rowsRead = rows;
          load.otherSessions = await watch!.stop();
        }
        const threads = this.engine === 'mysql' ? connections.map(({ connection }) => (connection as RawMysqlConnection).threadId) : [];
        await db.destroy();
        if (this.engine === 'postgres') await this.waitForExit(name);
        else await this.waitForThreads(threads);
        return load;
      },
    };
  }

  /** Until none of the job's backends is left: each flushed its table counters as it exited. */
  private async waitForExit(applicationName: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const result = (await this.statsDb().raw('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = ?', [applicationName])) as { rows: { n: unknown }[] };
      if (Number(result.rows[0]?.n) === 0) return;
      if (Date.now() > deadline) throw new Error(`the job's database sessions (${applicationName}) did not end within 10 s; their statistics would be incomplete`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** MariaDB: until the server has let go of the job's connections, so the next job's watch does not see them. */
  private async waitForThreads(threads: number[]): Promise<void> {
    if (threads.length === 0) return;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const [rows] = (await this.statsDb().raw(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID IN (${threads.map(() => '?').join(', ')})`, threads)) as unknown as [{ n: unknown }[]];
      if (Number(rows[0]?.n) === 0) return;
      if (Date.now() > deadline) throw new Error(`the job's database sessions (${threads.join(', ')}) did not end within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Samples the process list for sessions on the database other than the meter's and the job's own. */
  private watchOtherSessions(connections: { connection: unknown }[]): { stop(): Promise<number> } {
    const seen = new Set<number>();
    let stopped = false;
    const sample = async (): Promise<void> => {
      const own = new Set(connections.map(({ connection }) => (connection as RawMysqlConnection).threadId));
      const [rows] = (await this.statsDb().raw('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()')) as unknown as [{ id: unknown }[]];
      for (const row of rows) if (!own.has(Number(row.id))) seen.add(Number(row.id));
    };
    const loop = (async () => {
      while (!stopped) {
        await sample();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await loop;
        await sample();
        return seen.size;
      },
    };
  }
}

function withApplicationName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', name);
  return parsed.toString();
}
