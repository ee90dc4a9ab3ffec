// The metering team's dualrun config: its own domain (not the shop), its four transformations, and the
// migration manifest its CI gate enforces.
import { defineConfig } from 'dualrun';
import { metering, meteringTransforms } from './index.ts';

export default defineConfig({
  domain: metering,
  transforms: meteringTransforms,
  migration: {
    meter_current: { stage: 'shadow', allowedDifferences: [{ category: 'update_delete_semantics', maxRatio: 0.5, reason: 'register reads after 02:00 reach the stream first; the batch catches up the next night' }] },
    meter_total_kwh: { stage: 'cutover', promoteAfter: 2 },
    site_hourly_kwh: { stage: 'shadow', allowedDifferences: [{ category: 'late_arrival', maxRatio: 0.25, reason: 'a gateway offline for more than 15 min misses its hour in the stream' }] },
    tariff_cost_daily: { stage: 'legacy' },
  },
  report: { out: 'dualrun-report' },
});
