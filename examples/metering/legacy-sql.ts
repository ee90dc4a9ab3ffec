/**
 * SQL the metering batch queries share, one statement of each rule on PostgreSQL, MariaDB and PGlite:
 * - the UTC hour of an instant column (MariaDB's DATETIME(3) holds UTC, so truncating its text is exact);
 * - visibility: a nightly run sees the tables as they stand when it runs, and only readings that had
 *   arrived (`created_at`) by its cut-off;
 * - a reading's cost: ROUND(kwh × price_per_kwh, 2), half away from zero on both engines.
 */
import type { BatchContext } from 'dualrun';
import type { Knex } from 'knex';

/** The start of the UTC hour of `column`, as a timestamp. */
export function hourStartSql(ctx: BatchContext, column: string): string {
  if (ctx.engine === 'mysql') return `CAST(DATE_FORMAT(${column}, '%Y-%m-%d %H:00:00') AS DATETIME(3))`;
  return `to_timestamp(floor(extract(epoch from ${column}) / 3600) * 3600)`;
}

export const READING_COST = 'ROUND(r.kwh * t.price_per_kwh, 2)';

/** Readings `r` the run can see: arrived by the cut-off. */
export function visibleReadings(query: Knex.QueryBuilder, ctx: BatchContext): Knex.QueryBuilder {
  return query.where('r.created_at', '<=', ctx.cutoff);
}

/** Readings `r` of the run's business day (UTC bounds of the Sydney day: 23 or 25 hours on DST days). */
export function readOnBusinessDay(query: Knex.QueryBuilder, ctx: BatchContext): Knex.QueryBuilder {
  return query.where('r.read_at', '>=', ctx.dayStart).andWhere('r.read_at', '<', ctx.dayEnd);
}

export function businessDateLiteral(ctx: BatchContext): Knex.Raw {
  return ctx.knex.raw('CAST(? AS DATE) AS business_date', [ctx.businessDate]);
}
