// The batch conformance, sink conformance and stream parity suites on the second domain (energy metering,
// examples/metering, written only against the public API), on every engine. Its dst-autumn scenario: the
// first Sunday of April 2024 in Sydney is 25 hours long (clocks go from 03:00 AEDT back to 02:00 AEST, so
// 02:00-03:00 happens twice, at 15:00 and 16:00 UTC), replayed night by night into the legacy tables and
// Kafka, the batch run at each 02:00 cut-off, then `dualrun stream run --sink-db` as a team runs it. The
// rows below are worked out by hand from examples/metering/scenarios/dst-autumn/*.csv.
import '../../src/kafkajs-fixes.ts';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateText } from '../../batch/history.ts';
import { normalizeValue, readBatchOutput } from '../../batch/output.ts';
import { runBatch } from '../../batch/runner.ts';
import { createKnex } from '../../src/db.ts';
import { silentLogger } from '../../src/logger.ts';
import { replay } from '../../src/replay/index.ts';
import type { Transform } from '../../src/transforms/contract.ts';
import { runCli } from '../support/cli.ts';
import { engines, freshDatabase, type TestDatabase } from '../support/databases.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';
import { loadMeteringScenario, metering, meteringCutoff, meteringTransforms as transforms } from '../support/metering.ts';
import { createInputTopics, finalValues } from '../support/stream.ts';

type Row = Record<string, unknown>;
const config = fileURLToPath(new URL('../../examples/metering/dualrun.config.ts', import.meta.url));
const byName = (name: string): Transform => transforms.find((transform) => transform.name === name)!;

// Readings (meter, read at UTC → Sydney): D1 M1 12:30Z 6 Apr = 23:30 AEDT Sat 6th; D2 M1 13:30Z = 00:30 Sun
// 7th (its UTC date is the 6th); D3 M1 15:30Z = the first 02:30; D7 M2 15:40Z = the first 02:40, arrived
// 17:00Z; D4 M1 16:30Z = the second 02:30 (AEST); D5 M2 13:30Z 7 Apr = 23:30 AEST Sun. Both meters at S1 on
// T1 (0.3000 AUD/kWh). The 6th's cut-off, 02:00 on the 7th, is the first 02:00: 15:00Z, by when D1 and D2
// had arrived; the 7th's, 02:00 AEST on the 8th, is 16:00Z on the 7th, by when everything had.
const hourly = (date: string, hour: string, readings: number, kwh: string): Row => ({ business_date: date, site_id: 'S1', hour_start: hour, readings, kwh });
const expectedBatch: Record<string, Row[]> = {
  site_hourly_kwh: [
    hourly('2024-04-06', '2024-04-06T12:00:00.000Z', 1, '1.000'), // D1
    hourly('2024-04-07', '2024-04-06T13:00:00.000Z', 1, '1.000'), // D2: Sunday, though Saturday in UTC
    hourly('2024-04-07', '2024-04-06T15:00:00.000Z', 2, '2.500'), // D3 + D7: the first 02:00-03:00
    hourly('2024-04-07', '2024-04-06T16:00:00.000Z', 1, '1.000'), // D4: the second one, a row of its own
    hourly('2024-04-07', '2024-04-07T13:00:00.000Z', 1, '2.000'), // D5: 25 hours after the day began
  ],
  tariff_cost_daily: [
    { business_date: '2024-04-06', tariff_id: 'T1', readings: 1, kwh: '1.000', cost_aud: '0.30' },
    { business_date: '2024-04-07', tariff_id: 'T1', readings: 5, kwh: '6.500', cost_aud: '1.95' }, // 6.5 × 0.30
  ],
  // Whole-table outputs, as the last run (the 7th's) saw them: no register reads in this scenario.
  meter_current: [
    { meter_id: 'M1', site_id: 'S1', region: 'nsw-north', tariff_id: 'T1', register_kwh: null, register_read_at: null },
    { meter_id: 'M2', site_id: 'S1', region: 'nsw-north', tariff_id: 'T1', register_kwh: null, register_read_at: null },
  ],
  meter_total_kwh: [
    { meter_id: 'M1', readings: 4, total_kwh: '4.000', avg_kwh: '1.000', first_read_at: '2024-04-06T12:30:00.000Z', last_read_at: '2024-04-06T16:30:00.000Z' },
    { meter_id: 'M2', readings: 2, total_kwh: '3.500', avg_kwh: '1.750', first_read_at: '2024-04-06T15:40:00.000Z', last_read_at: '2024-04-07T13:30:00.000Z' },
  ],
};
// The stream: the same, except D7, which arrived at 17:00Z, after its hour's window (15:00-16:00Z) closed
// with its 15 minutes of grace — the scenario's one expected difference. Its day's window had not closed:
// tariff_cost_daily counts it, as the batch does.
const expectedStream: Record<string, Row[]> = {
  ...expectedBatch,
  site_hourly_kwh: expectedBatch.site_hourly_kwh!.map((row) => (row.hour_start === '2024-04-06T15:00:00.000Z' && row.business_date === '2024-04-07' ? { ...row, readings: 1, kwh: '1.000' } : row)),
};

const keyed = (transform: Transform, rows: Row[]): Record<string, Row> => Object.fromEntries(rows.map((row) => [JSON.stringify(transform.key.map((column) => row[column] ?? null)), row]));

/** A sink table, normalized as the batch outputs are and keyed like the output topics. */
async function sinkTable(url: string, transform: Transform): Promise<Record<string, Row>> {
  const db = createKnex(url);
  try {
    const select = transform.columns.map((column) => (column.type === 'date' ? dateText(db, column.name) : column.name));
    const rows = (await db(`stream_${transform.name}`).select(select)) as Row[];
    return keyed(transform, rows.map((row) => Object.fromEntries(transform.columns.map((column) => [column.name, normalizeValue(column, row[column.name])]))));
  } finally {
    await db.destroy();
  }
}

const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const database of databases) await database.drop();
});

describe.each(engines)('metering on %s: batch conformance, stream parity, sink conformance', { timeout: 300_000 }, (engine) => {
  let database: TestDatabase;
  const prefix = uniqueTopic(`meter-conf-${engine}`);
  beforeAll(async () => {
    database = await freshDatabase(engine);
    databases.push(database);
    const scenario = await loadMeteringScenario('dst-autumn');
    await createInputTopics(prefix, 3, metering);
    let after: Date | undefined;
    for (const businessDate of scenario.businessDates) {
      const until = meteringCutoff(businessDate, scenario.cutoffTime);
      await replay({ domain: metering, events: scenario.events, db: database.db, kafka: { brokers: brokers(), topicPrefix: prefix }, until, ...(after ? { after } : { createSchema: true }), logger: silentLogger });
      const outcomes = await runBatch({ db: database.db, engine, transforms, businessDate, cutoff: until, logger: silentLogger });
      expect(outcomes.map((outcome) => `${outcome.transform} ${outcome.status}`)).toEqual(transforms.map((transform) => `${transform.name} succeeded`));
      after = until;
    }
    await replay({ domain: metering, events: scenario.events, db: database.db, kafka: { brokers: brokers(), topicPrefix: prefix }, after: after!, logger: silentLogger });
  });

  it('the batch computes every output of the 25-hour day as worked out by hand', async () => {
    for (const [name, rows] of Object.entries(expectedBatch)) expect(await readBatchOutput(database.db, byName(name)), name).toEqual(rows);
  });

  it('the stream gives the same rows but for the late reading, and the sink holds exactly its output topics', async () => {
    const result = await runCli(['stream', 'run', '--config', config, '--group', `${prefix}-g`, '--from-beginning', '--until-idle', '2', '--topic-prefix', prefix, '--brokers', brokers().join(','), '--sink-db', database.url], {}, 240_000);
    expect(result.code, result.stderr).toBe(0);
    for (const transform of transforms) {
      const topic = await finalValues(`${prefix}.out.${transform.name}`);
      expect(topic, `${transform.name} on the output topic`).toEqual(keyed(transform, expectedStream[transform.name]!));
      expect(await sinkTable(database.url, transform), `stream_${transform.name} in ${engine}`).toEqual(topic);
    }
  });
});
