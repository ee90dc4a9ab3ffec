/**
 * Energy metering, declared once: sites (in a region), meters (at a site, on a tariff; a meter moves to
 * another tariff, reports its register, and is decommissioned — a hard delete), tariffs (a price per
 * kWh that changes from a date on) and interval readings sent by gateways at least once (redeliveries),
 * late when a gateway was offline, corrected by a later event. Business days are Sydney days, whose
 * daylight saving runs the other way round from Stockholm's (on in October, off in April).
 *
 * The legacy application keeps it the update-in-place way: `meters.tariff_id` and the register columns
 * are overwritten, decommissioned meters are deleted, a correction overwrites `readings.kwh`.
 */
import { fileURLToPath } from 'node:url';
import { defineDomain, field, hardDelete, optional, patch, upsert } from 'dualrun';

export const TIME_ZONE = 'Australia/Sydney';
export const REGIONS = ['nsw-north', 'nsw-south', 'act'] as const;

export const metering = defineDomain({
  name: 'metering',
  timeZone: TIME_ZONE,
  scenarios: fileURLToPath(new URL('./scenarios/', import.meta.url)),
  demo: 'tariff-change',
  generate: async () => (await import('./generate.ts')).generateMeteringScenario,
  entities: {
    sites: {
      key: ['siteId'],
      fields: { siteId: field.id(), name: field.text(), region: field.enum(REGIONS) },
      table: { name: 'sites', updatedAt: 'updated_at' },
      events: { SiteRegistered: upsert() },
    },
    /** A tariff's price per kWh (AUD); a new price applies from its event time on. */
    tariffs: {
      key: ['tariffId'],
      fields: { tariffId: field.id(), name: field.text(), pricePerKwh: field.decimal(4, { precision: 8, min: 0 }) },
      table: { name: 'tariffs', updatedAt: 'updated_at' },
      events: { TariffPriced: upsert() },
    },
    meters: {
      key: ['meterId'],
      fields: {
        meterId: field.id(),
        siteId: field.id(),
        tariffId: field.id(),
        /** The meter's register (cumulative kWh) and when it was read: overwritten by every register read. */
        registerKwh: optional(field.decimal(3, { min: 0 })),
        registerReadAt: optional(field.instant()),
      },
      table: { name: 'meters', createdAt: 'created_at', updatedAt: 'updated_at', indexes: [['siteId']] },
      events: {
        MeterInstalled: upsert({ omit: ['registerKwh', 'registerReadAt'] }),
        MeterTariffChanged: patch('tariffId'),
        MeterRegisterRead: patch('registerKwh', 'registerReadAt'),
        MeterDecommissioned: hardDelete(),
      },
    },
    /** One interval's consumption of a meter, as its gateway sent it. */
    readings: {
      key: ['readingId'],
      fields: { readingId: field.id(), meterId: field.id(), readAt: field.instant(), kwh: field.decimal(3, { precision: 10, min: 0 }) },
      eventTime: 'readAt',
      // created_at is the arrival time: when the gateway's reading reached the application.
      table: { name: 'readings', createdAt: 'created_at', updatedAt: 'updated_at', indexes: [['meterId'], ['readAt']] },
      events: { ReadingTaken: upsert(), ReadingCorrected: patch('kwh') },
    },
  },
});

export type Metering = typeof metering;
