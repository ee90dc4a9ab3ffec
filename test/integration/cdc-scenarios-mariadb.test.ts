// The shop's scenario suite with --source cdc on MariaDB: `dualrun demo --source cdc --db <a mariadbd of the
// test's own with a row binlog>` replays the scenario into MariaDB only (one transaction per event, as the
// application commits), Debezium's MariaDB connector captures the binlog, and the streaming job runs on the
// change events. Its verdicts and explained differences (key, columns, explanation, proving events) must be
// those of the event-fed demo of the same scenario on the same server (a database of its own), so the
// source is all that differs. Two scenarios keep the file's time modest: baseline, and the one whose
// differences come from updates and hard deletes in place (cancellations-and-deletes); PostgreSQL runs
// all six (cdc-scenarios.test.ts).
//
// Where MariaDB truly differs, no verdict changes: its binlog stamps a commit in whole seconds (source.ts_ms
// ends in 000), but the fold takes arrival from the rows' updated_at column (DATETIME(3), UTC, to the
// millisecond), and a delete, which carries no arrival column, arrives with the write before it, as on
// PostgreSQL — commit times never enter an event. A delete's change event carries the whole row
// (binlog_row_image=FULL) where PostgreSQL's carries the key; the fold needs only the key.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoReport, verdicts, type ReportJson } from '../support/demo-report.ts';
import { brokers } from '../support/kafka.ts';
import { startThrowawayMariadb, type ThrowawayMariadb } from '../support/throwaway-mariadb.ts';

const scenarios = ['baseline', 'cancellations-and-deletes'];
let dir: string;
let mariadb: ThrowawayMariadb;
const env = (): NodeJS.ProcessEnv => ({ KAFKA_BROKERS: brokers().join(','), DUALRUN_LOG_LEVEL: 'silent', CONNECT_URL: '', DATABASE_URL: '' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dualrun-cdc-scenarios-mariadb-'));
  mariadb = await startThrowawayMariadb();
}, 120_000);

afterAll(async () => {
  await mariadb?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A database of its own per run on the test's server (the demo creates it). */
function demo(scenario: string, source: 'events' | 'cdc'): Promise<ReportJson> {
  const url = new URL(mariadb.url);
  url.pathname = `/${scenario.replaceAll('-', '_')}_${source}`;
  return demoReport(['--scenario', scenario, '--source', source, '--db', url.toString()], join(dir, `${scenario}-${source}`), env());
}

describe('the shop scenarios with --source cdc on MariaDB give the event-fed verdicts and explanations', () => {
  it.each(scenarios)('%s', async (scenario) => {
    const fromEvents = await demo(scenario, 'events');
    const fromCdc = await demo(scenario, 'cdc');
    expect(fromEvents.comparisons.length).toBe(5);
    // The scenario has differences to explain, so equal verdicts say something.
    expect(fromEvents.comparisons.some((comparison) => comparison.differences.length > 0)).toBe(scenario !== 'baseline');
    expect(verdicts(fromCdc)).toEqual(verdicts(fromEvents));
  }, 600_000);
});
