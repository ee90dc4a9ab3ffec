// The shop's scenario suite with --source cdc: `dualrun demo --source cdc` replays each scenario into a
// PostgreSQL cluster of the run's own only (wal_level=logical), Debezium captures it, the streaming job
// runs on the change events; its verdicts and explained differences must be those of the event-fed demo
// of the same scenario, key by key, with the same proving events. On these six they are equal. Where CDC
// truly differs it does not change a verdict here: the legacy application applies each business event
// once (the replay skips redeliveries), so the duplicates scenario's redelivered events never reach the
// log and the CDC job dedupes none (the event-fed job dedupes them, to the same outputs); a status
// change's or a delete's event time is when the row was written (updated_at: the table keeps no other),
// which is its arrival, a minute after the scenario's event time; and a hard delete carries no arrival
// column at all: it arrives with the write before it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { demoReport, verdicts, type ReportJson } from '../support/demo-report.ts';
import { brokers } from '../support/kafka.ts';

const scenarios = ['baseline', 'cancellations-and-deletes', 'customer-moves', 'dst-boundary', 'duplicates', 'late-arrivals'];
let dir: string;
const env = (): NodeJS.ProcessEnv => ({ KAFKA_BROKERS: brokers().join(','), DUALRUN_LOG_LEVEL: 'silent', CONNECT_URL: '', DATABASE_URL: '' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dualrun-cdc-scenarios-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function demo(scenario: string, source: 'events' | 'cdc'): Promise<ReportJson> {
  return demoReport(['--scenario', scenario, '--source', source], join(dir, `${scenario}-${source}`), env());
}

describe('the shop scenarios with --source cdc give the event-fed verdicts and explanations', { timeout: 300_000 }, () => {
  it.each(scenarios)('%s', async (scenario) => {
    const fromEvents = await demo(scenario, 'events');
    const fromCdc = await demo(scenario, 'cdc');
    expect(fromEvents.comparisons.length).toBe(5);
    expect(verdicts(fromCdc)).toEqual(verdicts(fromEvents));
  }, 600_000);
});

describe('dualrun check --source cdc', { timeout: 300_000 }, () => {
  it('gates the baseline scenario run through Debezium: exit 0, every transformation passing', async () => {
    const out = join(dir, 'check-cdc');
    const result = await runCli(['check', '--scenario', 'baseline', '--source', 'cdc', '--out', out], env(), 280_000);
    expect(result.code, result.stderr.slice(-3000)).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as ReportJson;
    expect(report.comparisons.map((c) => c.name).sort()).toEqual(['customer_lifetime_value', 'daily_revenue_by_region', 'order_status_current', 'orders_enriched', 'product_sales_daily']);
  }, 300_000);

  it('refuses an unknown source', async () => {
    const result = await runCli(['check', '--scenario', 'baseline', '--source', 'wal'], env());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--source must be events or cdc (got "wal")');
  });
});
