/**
 * tariff_cost_daily — readings, kWh and cost per tariff per business day. The stream prices each
 * reading with the tariff its meter had when the reading arrived and the tariff's price as of the
 * reading's time; the nightly batch joins the meter and the tariff as they stand at 02:00. A meter moved
 * to another tariff, or a new price, between the reading and the run is where the two disagree
 * (DESIGN.md 4.1).
 *
 * Rules: a reading counts on the Sydney business day of read_at, under its meter's tariff; its cost is
 * ROUND(kwh × price_per_kwh, 2); without a tariff row it counts in readings and kWh and costs nothing; a
 * reading of a meter that does not exist counts nowhere. Daily windows, final 30 minutes after midnight.
 *
 * Batch: the readings of the run's business day that arrived by the cut-off, joined to the meters and
 * their tariffs as they stand at run time, per tariff.
 */
import { MINUTE_MS, aggregateBy, count, defineTransform, sumDecimal, type BatchContext, type TransformContract } from 'dualrun';
import { TIME_ZONE, metering } from './domain.ts';
import { READING_COST, businessDateLiteral, readOnBusinessDay, visibleReadings } from './legacy-sql.ts';
import { costOf } from './rules.ts';

const GRACE_MS = 30 * MINUTE_MS;

export const tariffCostDailyContract = {
  name: 'tariff_cost_daily',
  description: 'Readings, kWh and cost (AUD) per tariff per business day',
  key: ['business_date', 'tariff_id'],
  dateColumn: 'business_date',
  columns: [
    { name: 'business_date', type: 'date' },
    { name: 'tariff_id', type: 'string' },
    { name: 'readings', type: 'integer' },
    { name: 'kwh', type: 'decimal', scale: 3, rule: { abs: 0.0005 } },
    { name: 'cost_aud', type: 'decimal', scale: 2, rule: { abs: 0.005 } },
  ],
  time: { eventTimeField: 'readAt', window: 'day', graceMs: GRACE_MS, timeZone: TIME_ZONE },
} as const satisfies TransformContract;

export const tariffCostDailyStream = aggregateBy(metering.from('readings', { joins: { meters: 'latest', tariffs: 'asOfEventTime' } }), {
  flatMap: (reading, ctx) => {
    const meter = ctx.tables.get('meters', reading.meterId);
    if (!meter) return [];
    const tariff = ctx.tables.get('tariffs', meter.tariffId);
    return [{ key: { business_date: ctx.dayOf(reading.readAt), tariff_id: meter.tariffId }, values: { kwh: reading.kwh, cost_aud: tariff ? costOf(reading.kwh, tariff.pricePerKwh) : '0.00' } }];
  },
  window: { size: 'businessDay', graceMs: GRACE_MS, eventTime: (reading) => reading.readAt },
  aggregations: { readings: count(), kwh: sumDecimal('kwh', 3), cost_aud: sumDecimal('cost_aud', 2) },
});

function batch(ctx: BatchContext) {
  const { knex } = ctx;
  const query = knex
    .select(businessDateLiteral(ctx), 'm.tariff_id')
    .select(knex.raw('COUNT(*) AS readings'), knex.raw('SUM(r.kwh) AS kwh'), knex.raw(`COALESCE(SUM(${READING_COST}), 0) AS cost_aud`))
    .from('readings as r')
    .join('meters as m', 'm.meter_id', 'r.meter_id')
    .leftJoin('tariffs as t', 't.tariff_id', 'm.tariff_id')
    .groupBy('m.tariff_id');
  return readOnBusinessDay(visibleReadings(query, ctx), ctx);
}

export const tariffCostDaily = defineTransform({ ...tariffCostDailyContract, batch, stream: tariffCostDailyStream });
