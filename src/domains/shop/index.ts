/**
 * The example shop (`import { shop, shopTransforms } from 'dualrun/shop'`): its domain and its five
 * transformations, which between them exercise every difference of DESIGN.md section 4 — enriched
 * orders (stream-table join), daily revenue by region (windowed aggregate), customer lifetime value
 * (running aggregate with cancellations), product sales per day (deduplication), current order status
 * (updates and deletes in place vs events). It is dualrun's default domain; it imports only 'dualrun'.
 */
import { customerLifetimeValue } from './customer-lifetime-value.ts';
import { dailyRevenueByRegion } from './daily-revenue-by-region.ts';
import { orderStatusCurrent } from './order-status-current.ts';
import { ordersEnriched } from './orders-enriched.ts';
import { productSalesDaily } from './product-sales-daily.ts';

export { BUSINESS_TIME_ZONE, CURRENCIES, ORDER_STATUSES, REGIONS, TIERS, shop, type Shop } from './domain.ts';
export { amountInEur, lineNetAmount, netLineAmount, orderNetAmount, rateToEur, toEur, type Order, type OrderLine } from './rules.ts';
export { customerLifetimeValue, dailyRevenueByRegion, orderStatusCurrent, ordersEnriched, productSalesDaily };
export { UNKNOWN_REGION } from './daily-revenue-by-region.ts';

/** The shop's transformations, in dependency-free order. */
export const shopTransforms = [ordersEnriched, dailyRevenueByRegion, customerLifetimeValue, productSalesDaily, orderStatusCurrent];
