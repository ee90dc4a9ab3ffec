// `dualrun check` on the metering example as its README documents it (`--config
// examples/metering/dualrun.config.ts --scenario NAME`): every scenario runs end to end (replay into a fresh
// embedded database and fresh topics, the batch at each cut-off, the streaming job) and report.json must hold
// exactly the scenario's hand-worked expected-differences.json — each difference's key, row category, columns,
// explanation and proving events, in order — for every transformation the manifest gates, and the gate's
// verdicts must be the ones the manifest gives for those differences. The manifest keeps tariff_cost_daily
// `legacy` (not run, not compared), so a second project, the example's domain and transformations with only
// tariff_cost_daily in shadow, checks that one's expected differences through `dualrun check` too.
import { readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../compare/types.ts';
import { runCli } from '../support/cli.ts';
import { brokers } from '../support/kafka.ts';
import { meteringScenarios } from '../support/metering.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const exampleConfig = join(repo, 'examples/metering/dualrun.config.ts');
const scenarios = readdirSync(meteringScenarios).filter((name) => statSync(join(meteringScenarios, name)).isDirectory());

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dualrun-check-metering-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Expected {
  key: Record<string, string>;
  category: string;
  columns?: string[];
  events: string[];
}

async function expectedOf(scenario: string): Promise<Record<string, Expected[]>> {
  return JSON.parse(await readFile(join(meteringScenarios, scenario, 'expected-differences.json'), 'utf8')) as Record<string, Expected[]>;
}

const byKey = (a: { key: object }, b: { key: object }) => JSON.stringify(a.key).localeCompare(JSON.stringify(b.key));

/** One comparison's differences as the expected files write them (key values as text, columns [] when none). */
function found(report: Report, name: string) {
  const comparison = report.comparisons.find((c) => c.name === name);
  expect(comparison, `${name} is in report.json`).toBeDefined();
  return comparison!.differences.map((d) => ({ key: Object.fromEntries(Object.entries(d.key).map(([k, v]) => [k, String(v)])), category: d.explanation, columns: d.columns, events: d.events })).sort(byKey);
}
const wanted = (expected: Expected[]) => expected.map((d) => ({ key: d.key, category: d.category, columns: d.columns ?? [], events: d.events })).sort(byKey);

async function check(config: string, scenario: string, out: string) {
  const result = await runCli(['check', '--config', config, '--scenario', scenario, '--out', out], { KAFKA_BROKERS: brokers().join(','), DATABASE_URL: '' }, 300_000);
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8').catch(() => 'null')) as Report | null;
  expect(report, result.stdout + result.stderr).not.toBeNull();
  return { ...result, report: report! };
}

/** The verdict line `dualrun check` prints per transformation: its label, name, stage and streak. */
const verdictLines = (stdout: string) => stdout.split('\n').filter((line) => /^(PASS|FAIL|not gated) /.test(line)).map((line) => line.replace(/^(\S+(?: gated)?) +(\S+) \(([a-z]+), streak (\d+)\).*$/, '$1 $2 $3 $4'));

/**
 * The verdicts the example's manifest gives for each scenario's expected differences, worked out by hand.
 * meter_total_kwh is `cutover` after 2 passing nights: a first check (fresh history) has a streak of 1, so
 * it fails on every scenario, and `dualrun check` exits 1 on every scenario. meter_current allows
 * update_delete_semantics up to 50 % of its rows; site_hourly_kwh allows late_arrival up to 25 %.
 */
const verdicts: Record<string, { meter_current: string; site_hourly_kwh: string }> = {
  baseline: { meter_current: 'PASS', site_hourly_kwh: 'PASS' },
  // M3's register read after the last cut-off: 1 of 3 meters (33 %).
  'tariff-change': { meter_current: 'PASS', site_hourly_kwh: 'PASS' },
  // R4 and R3's correction are late for their hours: 2 of the 5 site-hours (S1 02:00, S1 03:00, S2 03:00,
  // S1 04:00 on 10 Jun; S2 01:00 on 11 Jun), 40 % > 25 %.
  'late-and-redelivered': { meter_current: 'PASS', site_hourly_kwh: 'FAIL' },
  // M3 gone after the last cut-off: 1 of 2 meters (M2 is gone from both), 50 % ≤ 50 %; S1 01:00 lost R2 with
  // M2 in the batch: update_delete_semantics, which site_hourly_kwh does not allow.
  decommissioning: { meter_current: 'PASS', site_hourly_kwh: 'FAIL' },
  // D7 late for the first 02:00 hour: 1 of 5 site-hours (12:00Z on 6 Apr; 13:00Z, 15:00Z, 16:00Z on 6 Apr
  // and 13:00Z on 7 Apr for the 25-hour Sunday), 20 % ≤ 25 %.
  'dst-autumn': { meter_current: 'PASS', site_hourly_kwh: 'PASS' },
};

// Ten dual runs, at most five at a time (vitest's maxConcurrency): each mostly waits on Kafka and the stream's idle time.
describe.concurrent('dualrun check on the metering example', { timeout: 360_000 }, () => {
  let config: string;
  beforeAll(async () => {
    const dir = join(root, 'tariff-shadow');
    await mkdir(join(dir, 'node_modules'), { recursive: true });
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    await symlink(repo, join(dir, 'node_modules', 'dualrun'));
    config = join(dir, 'dualrun.config.ts');
    await writeFile(
      config,
      `import { defineConfig } from 'dualrun';\nimport { metering, meteringTransforms } from '${join(repo, 'examples/metering/index.ts')}';\nexport default defineConfig({ domain: metering, transforms: meteringTransforms, migration: { tariff_cost_daily: { stage: 'shadow' } } });\n`,
    );
  });

  it('knows the five scenarios this suite checks', () => {
    expect([...scenarios].sort()).toEqual(Object.keys(verdicts).sort());
  });

  for (const scenario of scenarios) {
    it(`--config examples/metering/dualrun.config.ts --scenario ${scenario}: report.json holds exactly expected-differences.json for every gated transformation`, async () => {
      const result = await check(exampleConfig, scenario, join(root, 'example', scenario));
      const expected = await expectedOf(scenario);
      expect(result.report.comparisons.map((c) => c.name).sort()).toEqual(['meter_current', 'meter_total_kwh', 'site_hourly_kwh']);
      for (const name of ['meter_current', 'meter_total_kwh', 'site_hourly_kwh']) expect(found(result.report, name), `${scenario} / ${name}`).toEqual(wanted(expected[name] ?? []));
      for (const comparison of result.report.comparisons) expect(comparison.notYetComparable.left + comparison.notYetComparable.right, comparison.name).toBe(0);
      const { meter_current, site_hourly_kwh } = verdicts[scenario]!;
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(verdictLines(result.stdout)).toEqual([`${meter_current} meter_current shadow ${meter_current === 'PASS' ? 1 : 0}`, 'FAIL meter_total_kwh cutover 1', `${site_hourly_kwh} site_hourly_kwh shadow ${site_hourly_kwh === 'PASS' ? 1 : 0}`, 'not gated tariff_cost_daily legacy 0']);
      expect(result.stdout).toContain('FAIL      meter_total_kwh (cutover, streak 1): cutover needs 2 passing nights in a row; this is 1;');
      expect(result.stdout).toContain('not gated tariff_cost_daily (legacy, streak 0): not compared: only the batch job runs');
    });
  }

  for (const scenario of scenarios) {
    it(`a project moving tariff_cost_daily to shadow, --scenario ${scenario}: its differences are exactly the expected ones`, async () => {
      const result = await check(config, scenario, join(root, 'tariff-shadow', 'out', scenario));
      const expected = wanted((await expectedOf(scenario)).tariff_cost_daily ?? []);
      expect(result.report.comparisons.map((c) => c.name)).toEqual(['tariff_cost_daily']);
      expect(found(result.report, 'tariff_cost_daily'), scenario).toEqual(expected);
      // Shadow with no allowed difference: any difference fails the gate.
      expect(result.code, result.stdout + result.stderr).toBe(expected.length === 0 ? 0 : 1);
    });
  }
});
