/**
 * A transformation whose batch run is slow on purpose, for tests that need a run in flight: its SELECT
 * also sleeps inside the database (pg_sleep / SLEEP), so the run's transaction is open, after its
 * DELETE and in the middle of its INSERT … SELECT, for `seconds`. The rows it writes are the original's.
 */
import type { Knex } from 'knex';
import type { Engine } from '../../src/db.ts';
import type { BatchContext, Transform } from '../../src/transforms/contract.ts';

export function slowTransform(transform: Transform, engine: Engine, seconds: number): Transform {
  const sleep = engine === 'mysql' ? `(SELECT SLEEP(${Number(seconds)}) AS slept) AS s` : `(SELECT pg_sleep(${Number(seconds)}) AS slept) AS s`;
  return { ...transform, batch: (ctx: BatchContext) => ctx.knex.select('q.*').from((transform.batch(ctx) as Knex.QueryBuilder).as('q')).crossJoin(ctx.knex.raw(sleep)) };
}

/** How many statements of the current database are asleep in that SELECT, as the server sees them. */
export async function sleepingStatements(db: Knex, engine: Engine): Promise<number> {
  const sql = engine === 'mysql'
    ? "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE info LIKE 'INSERT INTO%SLEEP(%' AND db = DATABASE()"
    : "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND datname = current_database()";
  const result = (await db.raw(sql)) as { rows?: { n: unknown }[] } | [{ n: unknown }[]];
  const rows = Array.isArray(result) ? result[0] : result.rows!;
  return Number(rows[0]?.n);
}
