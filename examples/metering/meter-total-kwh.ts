/**
 * meter_total_kwh — per meter over all time: readings, total and mean kWh, first and last reading. A
 * running aggregate where a correction retracts the kWh counted before and adds the corrected value
 * (a KTable aggregate with a subtractor; DESIGN.md 4.3). Readings of a decommissioned meter stay
 * counted, as they do in the legacy tables. Not dated: the batch swaps the whole table.
 *
 * Rules: avg_kwh is the mean rounded half away from zero to 3 decimals (ROUND(AVG(kwh), 3) in SQL).
 *
 * Batch: every reading that arrived by the cut-off, as it stands at run time (corrected in place), per meter.
 */
import { aggregateBy, avg, count, defineTransform, max, min, sumDecimal, type BatchContext, type TransformContract } from 'dualrun';
import { TIME_ZONE, metering } from './domain.ts';
import { visibleReadings } from './legacy-sql.ts';

export const meterTotalKwhContract = {
  name: 'meter_total_kwh',
  description: 'Per meter: readings, total and mean kWh, first and last reading',
  key: ['meter_id'],
  columns: [
    { name: 'meter_id', type: 'string' },
    { name: 'readings', type: 'integer' },
    { name: 'total_kwh', type: 'decimal', scale: 3, rule: { abs: 0.0005 } },
    { name: 'avg_kwh', type: 'decimal', scale: 3, rule: { abs: 0.0005 } },
    { name: 'first_read_at', type: 'timestamp', rule: { precision: 'ms' } },
    { name: 'last_read_at', type: 'timestamp', rule: { precision: 'ms' } },
  ],
  time: { eventTimeField: 'readAt', window: 'none', graceMs: 0, timeZone: TIME_ZONE },
} as const satisfies TransformContract;

export const meterTotalKwhStream = aggregateBy(metering.from('readings'), {
  flatMap: (reading) => [{ key: { meter_id: reading.meterId }, values: { kwh: reading.kwh, read_at: reading.readAt } }],
  aggregations: { readings: count(), total_kwh: sumDecimal('kwh', 3), avg_kwh: avg('kwh', 3), first_read_at: min('read_at'), last_read_at: max('read_at') },
});

function batch(ctx: BatchContext) {
  const { knex } = ctx;
  const query = knex
    .select('r.meter_id')
    .select(knex.raw('COUNT(*) AS readings'), knex.raw('SUM(r.kwh) AS total_kwh'), knex.raw('ROUND(AVG(r.kwh), 3) AS avg_kwh'))
    .select(knex.raw('MIN(r.read_at) AS first_read_at'), knex.raw('MAX(r.read_at) AS last_read_at'))
    .from('readings as r')
    .groupBy('r.meter_id');
  return visibleReadings(query, ctx);
}

export const meterTotalKwh = defineTransform({ ...meterTotalKwhContract, batch, stream: meterTotalKwhStream });
