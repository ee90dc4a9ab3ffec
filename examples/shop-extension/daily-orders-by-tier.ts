/**
 * A user-defined transformation, written the way the built-in ones are: one contract, the legacy SQL
 * and the streaming pipeline side by side. daily_orders_by_tier counts the orders placed per business
 * day (Europe/Stockholm) and customer tier, cancelled orders left out.
 *
 * `dayOf` is a parameter only so the tests can build the classic bug — a streaming half that cuts the
 * day at UTC midnight instead of Stockholm midnight — and show that `dualrun check` catches it.
 */
import { BUSINESS_TIME_ZONE, aggregateBy, businessDayOf, count, defineTransform, fromOrders, tumblingDay, type BatchContext } from 'dualrun';

const GRACE_MS = 30 * 60_000;

function batch({ knex, businessDate, dayStart, dayEnd, cutoff }: BatchContext) {
  return knex
    .select(knex.raw('CAST(? AS DATE) AS business_date', [businessDate]), 'c.tier')
    .select(knex.raw('COUNT(*) AS order_count'))
    .from('orders as o')
    .join('customers as c', 'c.customer_id', 'o.customer_id')
    .where('o.placed_at', '>=', dayStart)
    .andWhere('o.placed_at', '<', dayEnd)
    .andWhere('o.created_at', '<=', cutoff)
    .andWhere('o.status', '<>', 'cancelled')
    .groupBy('c.tier');
}

export function dailyOrdersByTierWith(dayOf: (placedAt: string) => string) {
  return defineTransform({
    name: 'daily_orders_by_tier',
    description: 'Orders placed per business day and customer tier, cancelled ones left out',
    key: ['business_date', 'tier'],
    dateColumn: 'business_date',
    columns: [
      { name: 'business_date', type: 'date' },
      { name: 'tier', type: 'string' },
      { name: 'order_count', type: 'integer' },
    ],
    time: { eventTimeField: 'placedAt', window: 'day', graceMs: GRACE_MS, timeZone: BUSINESS_TIME_ZONE },
    batch,
    stream: aggregateBy(fromOrders({ joins: { customers: 'latest' }, filter: (view) => view.status !== 'cancelled' }), {
      flatMap: (view, tables) => {
        const customer = tables.get('customers', view.order.customerId);
        return customer ? [{ key: { business_date: dayOf(view.order.placedAt), tier: customer.tier }, values: {} }] : [];
      },
      window: tumblingDay(BUSINESS_TIME_ZONE, GRACE_MS, (view) => view.order.placedAt),
      aggregations: { order_count: count() },
    }),
  });
}

export const dailyOrdersByTier = dailyOrdersByTierWith(businessDayOf);
