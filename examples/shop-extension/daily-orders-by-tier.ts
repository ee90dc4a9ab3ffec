/**
 * A user-defined transformation, written the way the built-in ones are: one contract, the legacy SQL
 * and the streaming pipeline side by side. daily_orders_by_tier counts the orders placed per business
 * day (Europe/Stockholm) and customer tier, cancelled orders left out.
 *
 * `dayOf` is a parameter only so the tests can build the classic bug — a streaming half that cuts the
 * day at UTC midnight instead of Stockholm midnight — and show that `dualrun check` catches it; the
 * correct pipeline takes the business day from its context.
 */
import { aggregateBy, count, defineTransform, type BatchContext } from 'dualrun';
import { BUSINESS_TIME_ZONE, shop } from 'dualrun/shop';

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

/** The transformation; `dayOf` replaces the business day (a deliberate bug, for the tests). */
export function dailyOrdersByTierWith(dayOf?: (placedAt: string) => string) {
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
    stream: aggregateBy(shop.from('orders', { joins: { customers: 'latest' }, filter: (order) => order.status !== 'cancelled' }), {
      flatMap: (order, ctx) => {
        const customer = ctx.tables.get('customers', order.customerId);
        return customer ? [{ key: { business_date: (dayOf ?? ctx.dayOf)(order.placedAt), tier: customer.tier }, values: {} }] : [];
      },
      window: { size: 'businessDay', graceMs: GRACE_MS, eventTime: (order) => order.placedAt },
      aggregations: { order_count: count() },
    }),
  });
}

export const dailyOrdersByTier = dailyOrdersByTierWith();
