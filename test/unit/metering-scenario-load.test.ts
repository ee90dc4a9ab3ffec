// Every scenario rule on the metering example's CSV files — a domain with other entities, a composite of
// patches and no child rows — each with a bad file and the exact place the message must name (line and
// column counted by hand from the rows below), plus its five scenarios loading cleanly.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { metering, meteringTransforms } from '../../examples/metering/index.ts';
import { ScenarioInputError, listScenarioNames, loadScenario } from '../../src/scenario/load.ts';

const project = { domain: metering, transforms: meteringTransforms };
const HEADERS = {
  sites: 'event_id,event_time,arrival_time,type,site_id,name,region',
  tariffs: 'event_id,event_time,arrival_time,type,tariff_id,name,price_per_kwh',
  meters: 'event_id,event_time,arrival_time,type,meter_id,site_id,tariff_id,register_kwh,register_read_at',
  readings: 'event_id,event_time,arrival_time,type,reading_id,meter_id,kwh',
};
// Columns of the good rows: readings — event_time 6, arrival_time 27, type 48, reading_id 61, meter_id 64,
// kwh 67; sites — region 77. The bad rows' columns are counted in each case's own row.
const S1 = 'site-S1,2024-06-01T00:00:00Z,2024-06-01T00:00:00Z,SiteRegistered,S1,Harbour,act';
const T1 = 'tariff-T1,2024-06-01T00:00:00Z,2024-06-01T00:00:00Z,TariffPriced,T1,Flat,0.3000';
const M1 = 'meter-M1,2024-06-01T00:00:00Z,2024-06-01T00:00:00Z,MeterInstalled,M1,S1,T1,,';
const R1 = 'rd-1,2024-06-10T00:00:00Z,2024-06-10T00:01:00Z,ReadingTaken,R1,M1,1.000';

type Files = Partial<Record<'sites.csv' | 'tariffs.csv' | 'meters.csv' | 'readings.csv' | 'scenario.json' | 'expected-differences.json' | 'README.md', string | null>>;
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function scenario(files: Files = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dualrun-metering-'));
  dirs.push(dir);
  const all: Files = {
    'README.md': 'A metering test scenario.\n',
    'scenario.json': '{ "businessDates": ["2024-06-10"] }',
    'expected-differences.json': '{}',
    'sites.csv': `${HEADERS.sites}\n${S1}\n`,
    'tariffs.csv': `${HEADERS.tariffs}\n${T1}\n`,
    'meters.csv': `${HEADERS.meters}\n${M1}\n`,
    'readings.csv': `${HEADERS.readings}\n${R1}\n`,
    ...files,
  };
  for (const [name, text] of Object.entries(all)) if (text !== null && text !== undefined) await writeFile(join(dir, name), text);
  return dir;
}

async function expectOneProblem(dir: string, where: string, message: RegExp): Promise<void> {
  const error = await loadScenario(dir, project).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ScenarioInputError);
  const problems = (error as ScenarioInputError).problems;
  expect(problems.map((problem) => problem.describe())).toHaveLength(1);
  expect(problems[0]!.where).toBe(join(dir, where));
  expect(problems[0]!.message).toMatch(message);
}

const readings = (...rows: string[]) => ({ 'readings.csv': `${HEADERS.readings}\n${rows.join('\n')}\n` });
const meters = (...rows: string[]) => ({ 'meters.csv': `${HEADERS.meters}\n${rows.join('\n')}\n` });

describe('metering scenario files', () => {
  it('accepts the minimal scenario: the reading takes its read_at from event_time', async () => {
    const loaded = await loadScenario(await scenario(), project);
    expect(loaded.events.map((event) => event.event.eventId)).toEqual(['site-S1', 'tariff-T1', 'meter-M1', 'rd-1']);
    expect(loaded.events.at(-1)!.event.payload).toEqual({ readingId: 'R1', meterId: 'M1', readAt: '2024-06-10T00:00:00.000Z', kwh: '1.000' });
  });

  const cases: [string, Files, string, RegExp][] = [
    ['a header column out of place', { 'readings.csv': `event_id,event_time,arrival_time,type,meter_id,reading_id,kwh\n${R1}\n` }, 'readings.csv:1:39', /expected header column 5 to be "reading_id", found "meter_id"/],
    ['a header listing read_at, which event_time gives', { 'readings.csv': `${HEADERS.readings},read_at\n${R1},2024-06-10T00:00:00Z\n` }, 'readings.csv:1:63', /expected the header to end after 7 columns, found "read_at"/],
    ['a row with a field too many', readings(`${R1},x`), 'readings.csv:2:73', /expected 7 fields .*found 8/],
    ['an unknown event type', readings(R1.replace('ReadingTaken', 'ReadingLost')), 'readings.csv:2:48', /type: expected one of ReadingTaken, ReadingCorrected, found "ReadingLost"/],
    ['a kWh with four decimals', readings(R1.replace(',1.000', ',1.0005')), 'readings.csv:2:67', /kwh: expected a decimal number with at most 3 digits after the point/],
    ['a negative kWh', readings(R1.replace(',1.000', ',-1.000')), 'readings.csv:2:67', /kwh: expected a number of at least 0, found "-1.000"/],
    ['a reading arriving before it was taken', readings(R1.replace('2024-06-10T00:01:00Z', '2024-06-09T23:59:00Z')), 'readings.csv:2:27', /arrival_time: expected a time at or after event_time/],
    ['a reading without its meter', readings(R1.replace(',M1,', ',,')), 'readings.csv:2:64', /meter_id: expected a value \(ReadingTaken needs meter_id, kwh\), found an empty field/],
    ['a correction naming a meter it does not carry', readings(R1, 'rd-1-fix,2024-06-10T00:00:00Z,2024-06-10T03:00:00Z,ReadingCorrected,R1,M1,1.100'), 'readings.csv:3:72', /meter_id: expected an empty field \(ReadingCorrected carries no meter_id\), found "M1"/],
    ['a tariff change without its tariff', meters(M1, 'meter-M1-t,2024-06-10T00:00:00Z,2024-06-10T00:00:00Z,MeterTariffChanged,M1,,,,'), 'meters.csv:3:77', /tariff_id: expected a value \(MeterTariffChanged needs tariff_id\), found an empty field/],
    ['a decommissioning carrying a site', meters(M1, 'meter-M1-gone,2024-06-10T00:00:00Z,2024-06-10T00:00:00Z,MeterDecommissioned,M1,S1,,,'), 'meters.csv:3:80', /site_id: expected an empty field \(MeterDecommissioned carries no site_id\), found "S1"/],
    ['a register read at no instant', meters(M1, 'reg-M1,2024-06-10T00:00:00Z,2024-06-10T00:00:00Z,MeterRegisterRead,M1,,,12.500,noon'), 'meters.csv:3:80', /register_read_at: expected an ISO-8601 UTC time/],
    ['a region the domain does not know', { 'sites.csv': `${HEADERS.sites}\n${S1.replace(',act', ',vic')}\n` }, 'sites.csv:2:77', /region: expected one of nsw-north, nsw-south, act, found "vic"/],
    ['a redelivery that differs', readings(R1, R1.replace('00:01:00Z', '00:09:00Z').replace(',1.000', ',1.001')), 'readings.csv:3:1', /payload: expected a redelivery of event rd-1 \(first at readings.csv:2\) to repeat it exactly/],
    ['a file missing', { 'tariffs.csv': null }, 'tariffs.csv', /expected the file tariffs.csv, found none/],
  ];
  it.each(cases)('%s', async (_what, files, where, message) => {
    await expectOneProblem(await scenario(files), where, message);
  });

  it('checks expected differences against the metering transformations', async () => {
    const dir = await scenario({ 'expected-differences.json': JSON.stringify({ site_hourly_kwh: [{ key: { business_date: '2024-06-10', site_id: 'S1' }, category: 'late_arrival', events: ['rd-1'] }] }) });
    await expectOneProblem(dir, 'expected-differences.json', /site_hourly_kwh\[0\]\.key: expected exactly the key columns business_date, site_id, hour_start, found business_date, site_id/);
  });

  it('finds its five scenarios by name, each loading cleanly', async () => {
    expect(listScenarioNames(metering)).toEqual(['baseline', 'decommissioning', 'dst-autumn', 'late-and-redelivered', 'tariff-change']);
    for (const name of listScenarioNames(metering)) {
      const loaded = await loadScenario(name, project);
      expect(Object.keys(loaded.expectedDifferences).sort(), name).toEqual(['meter_current', 'meter_total_kwh', 'site_hourly_kwh', 'tariff_cost_daily']);
    }
  });
});
