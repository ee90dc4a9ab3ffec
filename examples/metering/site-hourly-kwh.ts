/**
 * site_hourly_kwh — kWh and readings per site per hour. Hourly tumbling windows (a Sydney day has 23, 24
 * or 25 of them), final 15 minutes after the hour: a reading a gateway sends later is dropped by the
 * stream for that hour, while the nightly batch counts whatever arrived by its cut-off (DESIGN.md 4.2, 4.6).
 *
 * Rules: a reading counts in the UTC hour of read_at (Sydney's offsets are whole hours, so that is the local
 * hour), on the Sydney business day of read_at, at its meter's site; a correction replaces its kWh; a
 * reading of a meter that does not exist (never installed, or decommissioned before the reading
 * arrived) counts nowhere. Dated: the batch writes each business day's rows once.
 *
 * Batch: the readings of the run's business day that arrived by the cut-off, joined to the meters as they
 * stand at run time (a meter decommissioned by then takes its readings with it), per site and hour.
 */
import { HOUR_MS, MINUTE_MS, aggregateBy, count, defineTransform, sumDecimal, type BatchContext, type TransformContract } from 'dualrun';
import { TIME_ZONE, metering } from './domain.ts';
import { businessDateLiteral, hourStartSql, readOnBusinessDay, visibleReadings } from './legacy-sql.ts';
import { hourOf } from './rules.ts';

const GRACE_MS = 15 * MINUTE_MS;

export const siteHourlyKwhContract = {
  name: 'site_hourly_kwh',
  description: 'kWh and readings per site per hour (Australia/Sydney business days)',
  key: ['business_date', 'site_id', 'hour_start'],
  dateColumn: 'business_date',
  columns: [
    { name: 'business_date', type: 'date' },
    { name: 'site_id', type: 'string' },
    { name: 'hour_start', type: 'timestamp', rule: { precision: 'ms' } },
    { name: 'readings', type: 'integer' },
    { name: 'kwh', type: 'decimal', scale: 3, rule: { abs: 0.0005 } },
  ],
  time: { eventTimeField: 'readAt', window: 'day', graceMs: GRACE_MS, timeZone: TIME_ZONE },
} as const satisfies TransformContract;

export const siteHourlyKwhStream = aggregateBy(metering.from('readings', { joins: { meters: 'latest' } }), {
  flatMap: (reading, ctx) => {
    const meter = ctx.tables.get('meters', reading.meterId);
    if (!meter) return [];
    return [{ key: { business_date: ctx.dayOf(reading.readAt), site_id: meter.siteId, hour_start: hourOf(reading.readAt) }, values: { kwh: reading.kwh } }];
  },
  window: { size: HOUR_MS, graceMs: GRACE_MS, eventTime: (reading) => reading.readAt },
  aggregations: { readings: count(), kwh: sumDecimal('kwh', 3) },
});

function batch(ctx: BatchContext) {
  const { knex } = ctx;
  const hour = hourStartSql(ctx, 'r.read_at');
  const query = knex
    .select(businessDateLiteral(ctx), 'm.site_id', knex.raw(`${hour} AS hour_start`))
    .select(knex.raw('COUNT(*) AS readings'), knex.raw('SUM(r.kwh) AS kwh'))
    .from('readings as r')
    .join('meters as m', 'm.meter_id', 'r.meter_id')
    .groupBy('m.site_id', knex.raw(hour));
  return readOnBusinessDay(visibleReadings(query, ctx), ctx);
}

export const siteHourlyKwh = defineTransform({ ...siteHourlyKwhContract, batch, stream: siteHourlyKwhStream });
