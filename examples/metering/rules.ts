/**
 * The metering rules both halves state — here for the stream, in legacy-sql.ts for the batch: the hour
 * an instant falls in, and what a reading costs (kWh × the tariff's price per kWh, rounded half away from
 * zero to the cent, like SQL's ROUND(numeric, 2)).
 */
import { divRound, fromUnits, toUnits, HOUR_MS } from 'dualrun';

/** The start of the UTC hour of an instant, ISO with milliseconds (Sydney's offsets are whole hours: the local hour too). */
export function hourOf(instant: string): string {
  return new Date(Math.floor(Date.parse(instant) / HOUR_MS) * HOUR_MS).toISOString();
}

/** kWh (3 decimals) × price per kWh (4 decimals), rounded to cents. */
export function costOf(kwh: string, pricePerKwh: string): string {
  return fromUnits(divRound(toUnits(kwh, 3) * toUnits(pricePerKwh, 4), 100_000n), 2);
}
