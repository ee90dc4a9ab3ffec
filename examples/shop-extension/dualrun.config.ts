// The example project's dualrun config: one transformation of its own beside the built-in ones, and
// the migration manifest the CI gate (`dualrun check`) enforces.
import { defineConfig } from 'dualrun';
import { dailyOrdersByTier } from './daily-orders-by-tier.ts';

export default defineConfig({
  transforms: [dailyOrdersByTier],
  migration: {
    // Both implementations run; the gate needs parity, apart from the differences we accept and why.
    daily_orders_by_tier: {
      stage: 'shadow',
      allowedDifferences: [{ category: 'late_arrival', maxRatio: 0.25, reason: 'the stream closes a day 30 min after midnight; the nightly batch still counts orders arriving before 02:00' }],
    },
    orders_enriched: {
      stage: 'shadow',
      allowedDifferences: [
        { category: 'join_as_of_event_time', maxRatio: 0.5, reason: "the stream keeps the customer's region at order time, which is what finance wants" },
        { category: 'late_arrival', maxRatio: 0.25, reason: 'orders arriving after the 02:00 cut-off are only in the stream' },
      ],
    },
    // Parity on every scenario we run: ready to be promoted to cutover once it has passed three nights in a
    // row (checks of three successive nights; checking one scenario again judges the same night). As a
    // cutover entry the gate would fail until then.
    order_status_current: { stage: 'shadow', promoteAfter: 3 },
    // The nightly job still owns these.
    daily_revenue_by_region: { stage: 'legacy' },
    customer_lifetime_value: { stage: 'legacy' },
    product_sales_daily: { stage: 'legacy' },
  },
  report: { out: 'dualrun-report' },
});
