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
// Lean for CI: one PostgreSQL cluster and one Kafka Connect worker serve every run (test/support/
// shared-capture.ts), two scenarios at a time.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { demoReport, verdicts, type ReportJson } from '../support/demo-report.ts';
import { brokers } from '../support/kafka.ts';
import { limited, startSharedCapture, type SharedCapture } from '../support/shared-capture.ts';

const scenarios = ['baseline', 'cancellations-and-deletes', 'customer-moves', 'dst-boundary', 'duplicates', 'late-arrivals'];
let dir: string;
let capture: SharedCapture;
const env = (): NodeJS.ProcessEnv => ({ KAFKA_BROKERS: brokers().join(','), DUALRUN_LOG_LEVEL: 'silent', CONNECT_URL: '', DATABASE_URL: '' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dualrun-cdc-scenarios-'));
  capture = await startSharedCapture();
}, 240_000);

afterAll(async () => {
  await capture?.stop();
  await rm(dir, { recursive: true, force: true });
});

const twoAtATime = limited(2);

describe.concurrent('the shop scenarios with --source cdc give the event-fed verdicts and explanations', () => {
  for (const scenario of scenarios) {
    it(scenario, async () => {
      const [fromEvents, fromCdc] = await twoAtATime(() =>
        Promise.all([
          demoReport(['--scenario', scenario, '--source', 'events'], join(dir, `${scenario}-events`), env(), 400_000),
          demoReport(['--scenario', scenario, '--source', 'cdc', '--db', capture.databaseUrl(`shop_${scenario}`)], join(dir, `${scenario}-cdc`), { ...env(), CONNECT_URL: capture.connect.restUrl }, 400_000),
        ]),
      );
      expect(fromEvents.comparisons.length).toBe(5);
      // The scenarios with differences to explain, where equal verdicts say the most (the dedupe of the
      // duplicates scenario leaves none).
      expect(fromEvents.comparisons.some((comparison) => comparison.differences.length > 0)).toBe(!['baseline', 'duplicates'].includes(scenario));
      expect(verdicts(fromCdc)).toEqual(verdicts(fromEvents));
    }, 1_500_000);
  }
});

describe('dualrun check --source cdc', { timeout: 300_000 }, () => {
  it('gates the baseline scenario run through Debezium: exit 0, every transformation passing', async () => {
    const out = join(dir, 'check-cdc');
    const result = await runCli(['check', '--scenario', 'baseline', '--source', 'cdc', '--db', capture.databaseUrl('shop_check'), '--out', out], { ...env(), CONNECT_URL: capture.connect.restUrl }, 280_000);
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
