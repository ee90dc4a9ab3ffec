/** The metering example project: its domain and its four transformations (see README.md). */
import { meterCurrent } from './meter-current.ts';
import { meterTotalKwh } from './meter-total-kwh.ts';
import { siteHourlyKwh } from './site-hourly-kwh.ts';
import { tariffCostDaily } from './tariff-cost-daily.ts';

export { REGIONS, TIME_ZONE, metering, type Metering } from './domain.ts';
export { costOf, hourOf } from './rules.ts';
export { meterCurrent, meterTotalKwh, siteHourlyKwh, tariffCostDaily };

export const meteringTransforms = [meterCurrent, siteHourlyKwh, tariffCostDaily, meterTotalKwh];
