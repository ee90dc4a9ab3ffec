/**
 * meter_current — each meter as it stands: its site and region, its tariff, its last register read;
 * decommissioned meters absent. The legacy table is overwritten in place and decommissioned meters are
 * hard-deleted, so the nightly job sees the end state at 02:00; the stream folds every change and
 * tombstone as it comes (DESIGN.md section 4.5). Not dated: the batch swaps the whole table.
 *
 * Batch: every meter installed by the cut-off, as it stands at run time, with its site's region (NULL when
 * the site row is missing).
 */
import { defineTransform, upsertPerKey, type BatchContext, type TransformContract } from 'dualrun';
import { TIME_ZONE, metering } from './domain.ts';

export const meterCurrentContract = {
  name: 'meter_current',
  description: 'Each meter with its site, region, tariff and last register read; decommissioned meters absent',
  key: ['meter_id'],
  columns: [
    { name: 'meter_id', type: 'string' },
    { name: 'site_id', type: 'string' },
    { name: 'region', type: 'string', nullable: true },
    { name: 'tariff_id', type: 'string' },
    { name: 'register_kwh', type: 'decimal', scale: 3, nullable: true },
    { name: 'register_read_at', type: 'timestamp', nullable: true, rule: { precision: 'ms' } },
  ],
  time: { eventTimeField: 'registerReadAt', window: 'none', graceMs: 0, timeZone: TIME_ZONE },
} as const satisfies TransformContract;

export const meterCurrentStream = upsertPerKey(metering.from('meters', { joins: { sites: 'latest' } }), (meter, ctx) => ({
  meter_id: meter.meterId,
  site_id: meter.siteId,
  region: ctx.tables.get('sites', meter.siteId)?.region ?? null,
  tariff_id: meter.tariffId,
  register_kwh: meter.registerKwh,
  register_read_at: meter.registerReadAt,
}));

function batch({ knex, cutoff }: BatchContext) {
  return knex
    .select('m.meter_id', 'm.site_id', 's.region', 'm.tariff_id', 'm.register_kwh', 'm.register_read_at')
    .from('meters as m')
    .leftJoin('sites as s', 's.site_id', 'm.site_id')
    .where('m.created_at', '<=', cutoff);
}

export const meterCurrent = defineTransform({ ...meterCurrentContract, batch, stream: meterCurrentStream });
