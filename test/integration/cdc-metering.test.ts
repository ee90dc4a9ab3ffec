// The metering example's scenarios with --source cdc (examples/metering: another domain's shape than the
// shop's — no child rows, a meter's register patched in place and its hard delete, readings whose
// arrival is created_at and whose event time is readAt, hourly windows, Australia/Sydney's DST): `dualrun
// demo --config examples/metering/dualrun.config.ts --source cdc` replays each scenario only into a
// PostgreSQL database (one transaction per event, as the legacy application commits), Debezium captures
// it and the streaming job runs on the change events; every transformation's verdict, counts and explained
// differences must be those of the event-fed demo of the same scenario, key by key, with the same proving
// events. On all five they are equal. Where CDC truly differs it changes no verdict here:
// - late-and-redelivered: the gateways' two redeliveries (R1 nine minutes later, R2 the next night) never
//   reach the log — the legacy application applies a reading once, so the CDC-fed job dedupes none where
//   the event-fed job dedupes both, to the same outputs;
// - a patch's event time (a reading's correction, a meter's tariff change or register read) is when the
//   row was written (updated_at: the table keeps no other), which in these scenarios is the event's own
//   time, so the late correction of R3 is as late for its hour either way;
// - decommissioning: the hard delete of M2 carries no arrival column at all, so it arrives with the write
//   before it (R4's), hours before the event-fed MeterDecommissioned; M2's readings count the same.
// Lean for CI: one PostgreSQL cluster with wal_level=logical and one Kafka Connect worker serve every
// scenario (a database per scenario on the cluster, a connector per run on the worker through
// CONNECT_URL), and two scenarios run at a time, each its event-fed and its CDC run at once (more at once
// only slowed each run down on 2 cores).
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoReport, verdicts } from '../support/demo-report.ts';
import { brokers } from '../support/kafka.ts';
import { meteringScenarios } from '../support/metering.ts';
import { limited, startSharedCapture, type SharedCapture } from '../support/shared-capture.ts';

const config = fileURLToPath(new URL('../../examples/metering/dualrun.config.ts', import.meta.url));
const scenarios = readdirSync(meteringScenarios).filter((name) => statSync(join(meteringScenarios, name)).isDirectory());
let dir: string;
let capture: SharedCapture;
const env = (): NodeJS.ProcessEnv => ({ KAFKA_BROKERS: brokers().join(','), DUALRUN_LOG_LEVEL: 'silent', CONNECT_URL: '', DATABASE_URL: '' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dualrun-cdc-metering-'));
  capture = await startSharedCapture();
}, 240_000);

afterAll(async () => {
  await capture?.stop();
  await rm(dir, { recursive: true, force: true });
});

const twoAtATime = limited(2);

describe.concurrent('the metering scenarios with --source cdc give the event-fed verdicts and explanations', () => {
  it('covers every scenario of the example', () => {
    expect([...scenarios].sort()).toEqual(['baseline', 'decommissioning', 'dst-autumn', 'late-and-redelivered', 'tariff-change']);
  });

  for (const scenario of scenarios) {
    it(scenario, async () => {
      const args = ['--config', config, '--scenario', scenario];
      const [fromEvents, fromCdc] = await twoAtATime(() =>
        Promise.all([
          demoReport([...args, '--source', 'events'], join(dir, `${scenario}-events`), env(), 400_000),
          demoReport([...args, '--source', 'cdc', '--db', capture.databaseUrl(`metering_${scenario}`)], join(dir, `${scenario}-cdc`), { ...env(), CONNECT_URL: capture.connect.restUrl }, 400_000),
        ]),
      );
      expect(fromEvents.comparisons.map((c) => c.name).sort()).toEqual(['meter_current', 'meter_total_kwh', 'site_hourly_kwh', 'tariff_cost_daily']);
      expect(verdicts(fromCdc)).toEqual(verdicts(fromEvents));
    }, 1_500_000);
  }
});
