/**
 * SQL building blocks the shop's five legacy (batch) queries share, so each business rule is written
 * once in SQL as it is written once in rules.ts for the stream side:
 *
 * - line net = ROUND(quantity × unit_price × (100 − discount_pct) / 100, 2). The products of DECIMALs
 *   are exact on PostgreSQL/PGlite (numeric) and MariaDB (DECIMAL, division adds 4 digits of scale,
 *   and /100 needs only 2), and ROUND(DECIMAL, 2) rounds half away from zero on both — like divRound.
 * - EUR = ROUND(amount × rate_to_eur, 2), EUR's rate is 1, a missing rate gives NULL.
 * - business date of an instant in Europe/Stockholm: dualrun's businessDateSql (AT TIME ZONE, or the
 *   zone's offsets written out on MariaDB).
 * - visibility: a run sees the database as it is when it runs, and only orders whose row arrived
 *   (`created_at`) at or before the run's cut-off, so rerunning a date after later data was loaded
 *   still gives the nightly answer for orders that arrived late.
 */
import { businessDateSql, type BatchContext } from 'dualrun';
import type { Knex } from 'knex';

/** Net amount of one order line `l`, in its order's currency. */
export const LINE_NET = 'ROUND(l.quantity * l.unit_price * (100 - l.discount_pct) / 100, 2)';

/** The EUR rate of order `o` from the joined `fx` row (1 for EUR, NULL when no rate was set). */
export const EUR_RATE = "CASE WHEN o.currency = 'EUR' THEN 1 ELSE fx.rate_to_eur END";

/** The run's business date as the date column of a dated output. */
export function businessDateLiteral(ctx: BatchContext, alias = 'business_date'): Knex.Raw {
  return ctx.knex.raw('CAST(? AS DATE) AS ??', [ctx.businessDate, alias]);
}

/** Restricts `o` to orders visible to the run: arrived by the cut-off. */
export function visibleOrders(query: Knex.QueryBuilder, ctx: BatchContext): Knex.QueryBuilder {
  return query.where('o.created_at', '<=', ctx.cutoff);
}

/** Restricts `o` to orders placed on the run's business day: UTC bounds, index-friendly on every engine. */
export function placedOnBusinessDay(query: Knex.QueryBuilder, ctx: BatchContext): Knex.QueryBuilder {
  return query.where('o.placed_at', '>=', ctx.dayStart).andWhere('o.placed_at', '<', ctx.dayEnd);
}

/**
 * One row per visible order with its lines summed: order_id, customer_id, placed_at, currency, status,
 * line_count, net_amount, net_amount_eur. `day` chooses the orders: the run's business day (the FX rate
 * of that day), or all of them (each order's own business day, computed in SQL, picks its rate).
 */
export function orderTotals(ctx: BatchContext, day: 'run-date' | 'each-order', timeZone: string): Knex.QueryBuilder {
  const { knex } = ctx;
  const rateDate = day === 'run-date' ? knex.raw('CAST(? AS DATE)', [ctx.businessDate]) : knex.raw(businessDateSql(ctx.engine, 'o.placed_at', timeZone));
  const query = knex
    .select('o.order_id', 'o.customer_id', 'o.placed_at', 'o.currency', 'o.status')
    .select(knex.raw('COUNT(*) AS line_count'))
    .select(knex.raw(`SUM(${LINE_NET}) AS net_amount`))
    .select(knex.raw(`ROUND(SUM(${LINE_NET}) * ${EUR_RATE}, 2) AS net_amount_eur`))
    .from('orders as o')
    .join('order_lines as l', 'l.order_id', 'o.order_id')
    .leftJoin('fx_rates as fx', (on) => on.on('fx.currency', 'o.currency').andOn('fx.rate_date', '=', rateDate))
    .groupBy('o.order_id', 'o.customer_id', 'o.placed_at', 'o.currency', 'o.status', 'fx.rate_to_eur');
  visibleOrders(query, ctx);
  return day === 'run-date' ? placedOnBusinessDay(query, ctx) : query;
}
