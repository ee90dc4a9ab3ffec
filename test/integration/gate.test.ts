// `dualrun check` and `dualrun status` as a team uses them in CI: a user project with its own
// transformation (examples/shop-extension), the manifest's stages, allowed differences and promotion.
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokers, kafkaClient } from '../support/kafka.ts';
import { runCli } from '../support/cli.ts';
import { freshDatabase } from '../support/databases.ts';
import type { Report } from '../../compare/types.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const example = join(repo, 'examples/shop-extension/daily-orders-by-tier.ts');
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dualrun-gate-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A user project: package.json, dualrun installed (linked), and the given dualrun.config.ts. */
async function project(name: string, config: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(join(dir, 'node_modules'), { recursive: true });
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  await symlink(repo, join(dir, 'node_modules', 'dualrun'));
  await writeFile(join(dir, 'dualrun.config.ts'), `import { defineConfig } from 'dualrun';\nimport { dailyOrdersByTier, dailyOrdersByTierWith } from '${example}';\n${config}\n`);
  return dir;
}

const check = (dir: string, ...args: string[]) => runCli(['check', ...args], { KAFKA_BROKERS: brokers().join(','), DATABASE_URL: '' }, 240_000, dir);

describe('dualrun check', () => {
  it('passes a correct user transformation on baseline', async () => {
    const dir = await project('correct', `export default defineConfig({ transforms: [dailyOrdersByTier], migration: { daily_orders_by_tier: { stage: 'shadow' } } });`);
    const result = await check(dir, '--scenario', 'baseline');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toContain('PASS      daily_orders_by_tier (shadow, streak 1)');
    const junit = await readFile(join(dir, 'dualrun-report', 'junit.xml'), 'utf8');
    expect(junit).toContain('<testcase classname="dualrun.gate.shadow" name="daily_orders_by_tier">');
    expect(junit).toContain('failures="0"');
  });

  it('fails a user transformation whose streaming half cuts the day at UTC midnight', async () => {
    // dst-boundary has orders between 22:00 and 24:00 UTC: the next day in Stockholm.
    const broken = `export default defineConfig({
      transforms: [dailyOrdersByTierWith((placedAt) => placedAt.slice(0, 10))],
      migration: { daily_orders_by_tier: { stage: 'shadow', allowedDifferences: [{ category: 'late_arrival', maxRatio: 0.25, reason: 'closed windows' }] } },
    });`;
    const correct = broken.replace('dailyOrdersByTierWith((placedAt) => placedAt.slice(0, 10))', 'dailyOrdersByTier');
    const good = await check(await project('dst-correct', correct), '--scenario', 'dst-boundary');
    expect(good.code, good.stdout + good.stderr).toBe(0);

    const dir = await project('dst-broken', broken);
    const result = await check(dir, '--scenario', 'dst-boundary');
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^FAIL +daily_orders_by_tier \(shadow, streak 0\)/m);
    const gate = await readFile(join(dir, 'dualrun-report', 'gate.md'), 'utf8');
    expect(gate).toContain('## dualrun migration gate: ❌ 1 failing');
    const junit = await readFile(join(dir, 'dualrun-report', 'junit.xml'), 'utf8');
    expect(junit).toContain('failures="1"');
    expect(junit).toContain('<failure message=');
    // The rows the UTC cut moves are unexplained (T2 and T3, on both days): a bug, not the documented day
    // boundary, and not the late arrival (T8) or the status change on the same days. T8's row stays explained.
    expect(result.stdout).toContain('4 unexplained difference(s), more than the 0 allowed');
    expect(gate).toContain('- 4 unexplained difference(s), more than the 0 allowed: suspect a bug in one implementation');
    expect(gate).toContain('late_arrival 1 (16.67 % ≤ 25.00 %)');
    const report = JSON.parse(await readFile(join(dir, 'dualrun-report', 'report.json'), 'utf8')) as Report;
    const tier = report.comparisons.find((comparison) => comparison.name === 'daily_orders_by_tier')!;
    expect(tier.explained).toEqual({ unexplained: 4, late_arrival: 1 });
    expect(Object.fromEntries(tier.differences.map((d) => [`${String(d.key.business_date)} ${String(d.key.tier)}`, [d.explanation, d.events]]))).toEqual({
      '2024-10-26 silver': ['unexplained', ['ord-T2']],
      '2024-10-26 standard': ['unexplained', ['ord-T3']],
      '2024-10-27 silver': ['unexplained', ['ord-T2']],
      '2024-10-27 standard': ['unexplained', ['ord-T3']],
      '2024-10-27 gold': ['late_arrival', ['ord-T8']],
    });
    for (const d of tier.differences.filter((d) => d.explanation === 'unexplained')) expect(d.reason).toMatch(/cutting the business day at UTC midnight.*bug in the streaming job/);
  });

  it('lets allowed differences pass, visibly, and fails the same differences when not allowed', async () => {
    const allowed = await project('allowed', `export default defineConfig({ migration: { orders_enriched: { stage: 'shadow', allowedDifferences: [{ category: 'join_as_of_event_time', maxRatio: 0.5, reason: 'finance wants the region at order time' }] } } });`);
    const pass = await check(allowed, '--scenario', 'customer-moves');
    expect(pass.code, pass.stdout + pass.stderr).toBe(0);
    const gate = await readFile(join(allowed, 'dualrun-report', 'gate.md'), 'utf8');
    expect(gate).toContain('join_as_of_event_time 2 (50.00 % ≤ 50.00 %)');
    expect(gate).toContain('- join_as_of_event_time: finance wants the region at order time');

    const strict = await project('strict', `export default defineConfig({ migration: { orders_enriched: { stage: 'shadow' } } });`);
    const fail = await check(strict, '--scenario', 'customer-moves');
    expect(fail.code).toBe(1);
    expect(fail.stdout).toContain('2 explained but not allowed difference(s), 50.00 % of 4 compared');
  });

  it('promotes to cutover only after promoteAfter passing nights in a row, a re-run of a night counting once, and shows it on the board', async () => {
    const dir = await project('promotion', `export default defineConfig({ migration: {
      order_status_current: { stage: 'cutover', promoteAfter: 2 },
      customer_lifetime_value: { stage: 'shadow', promoteAfter: 5 },
      product_sales_daily: { stage: 'legacy' },
    } });`);
    // baseline's last night is 2024-06-05: its cut-off is 02:00 Stockholm on the 6th.
    const first = await check(dir, '--scenario', 'baseline');
    expect(first.code).toBe(1);
    const needs = (night: string) => `each passing check of a later night than ${night} adds one: run dualrun check after each nightly batch run (it judges the last 02:00 cut-off), or check a scenario whose last night is later`;
    expect(first.stdout).toContain(`FAIL      order_status_current (cutover, streak 1): cutover needs 2 passing nights in a row; this is 1; ${needs('2024-06-06T00:00:00.000Z')}\n`);
    // At parity, only short of nights: the board says what it waits for, not that something is broken.
    const waiting = await runCli(['status', '--json'], {}, 60_000, dir);
    const waitingRows = (JSON.parse(waiting.stdout) as { board: { transform: string; next: string }[] }).board;
    expect(waitingRows.find((row) => row.transform === 'order_status_current')?.next).toBe(`at parity; 1 more passing night(s) before the gate passes; ${needs('2024-06-06T00:00:00.000Z')}`);
    const again = await check(dir, '--scenario', 'baseline');
    expect(again.code, again.stdout + again.stderr).toBe(1);
    expect(again.stdout).toContain('FAIL      order_status_current (cutover, streak 1): cutover needs 2 passing nights in a row; this is 1 (the night of 2024-06-06T00:00:00.000Z already counts');
    expect(again.stdout).toContain('PASS      customer_lifetime_value (shadow, streak 1)');
    // duplicates runs later nights (2024-06-24 and 25).
    const second = await check(dir, '--scenario', 'duplicates');
    expect(second.code, second.stdout + second.stderr).toBe(0);
    expect(second.stdout).toContain('PASS      order_status_current (cutover, streak 2)');

    const board = await runCli(['status', '--json'], {}, 60_000, dir);
    expect(board.code, board.stderr).toBe(0);
    const rows = (JSON.parse(board.stdout) as { board: { transform: string; streak: number; trend: string; next: string }[] }).board;
    expect(rows).toEqual([
      expect.objectContaining({ transform: 'order_status_current', streak: 2, trend: '✗✗✓', next: 'cut over: retire the batch job when ready' }),
      expect.objectContaining({ transform: 'customer_lifetime_value', streak: 2, trend: '✓✓✓', next: `3 more passing night(s) before cutover; ${needs('2024-06-26T00:00:00.000Z')}` }),
      expect.objectContaining({ transform: 'product_sales_daily', streak: 0, trend: '', next: 'run the streaming job beside the batch job, then move to shadow' }),
    ]);
  }, 480_000); // three dual runs

  it('on a --db an earlier replay filled, refuses without --reset and says so; --reset empties it and runs', async () => {
    const dir = await project('reset', `export default defineConfig({ migration: { order_status_current: { stage: 'shadow' } } });`);
    const database = await freshDatabase('postgres');
    try {
      const filled = await runCli(['replay', '--scenario', 'baseline', '--db', database.url, '--no-kafka', '--create-schema'], {}, 60_000, dir);
      expect(filled.code, filled.stderr).toBe(0);
      const refused = await check(dir, '--scenario', 'baseline', '--db', database.url);
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toContain('pass --reset to empty the legacy tables first');
      const reset = await check(dir, '--scenario', 'baseline', '--db', database.url, '--reset', '--keep-topics');
      expect(reset.code, reset.stdout + reset.stderr).toBe(0);
      // --keep-topics: the run's topics stay (deleted here, as the run would have done).
      const prefix = /topics: (dualrun-[a-z0-9]+)\.\*/.exec(reset.stderr)?.[1];
      expect(reset.stderr).toContain(`kafka: the topics ${prefix}.* stay on ${brokers().join(',')} (--keep-topics)`);
      const admin = kafkaClient('dualrun-test-gate').admin();
      await admin.connect();
      const kept = (await admin.listTopics()).filter((topic) => topic.startsWith(`${prefix}.`));
      expect(kept).toEqual(expect.arrayContaining([`${prefix}.orders`, `${prefix}.out.order_status_current`]));
      await admin.deleteTopics({ topics: kept });
      await admin.disconnect();
      expect(reset.stdout).toContain('PASS      order_status_current (shadow, streak 1)');
      const [row] = await database.db('orders').count({ n: '*' });
      expect(Number(row!.n)).toBe(10); // baseline once, not twice
    } finally {
      await database.drop();
    }
    const alone = await check(dir, '--reset', '--db', 'pglite:memory');
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--reset empties the legacy tables a scenario is replayed into, so it needs --scenario');
  });

  it('the commands examples/shop-extension documents pass, and the board says what the streaks need', async () => {
    const exampleDir = join(repo, 'examples/shop-extension');
    const out = join(root, 'example-report');
    const result = await runCli(['check', '--scenario', 'dst-boundary', '--out', out], { KAFKA_BROKERS: brokers().join(','), DATABASE_URL: '' }, 240_000, exampleDir);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('PASS      order_status_current (shadow, streak 1)');
    const board = await runCli(['status', '--json', '--history', join(out, 'history.duckdb')], {}, 60_000, exampleDir);
    expect(board.code, board.stderr).toBe(0);
    const rows = (JSON.parse(board.stdout) as { board: { transform: string; next: string }[] }).board;
    // dst-boundary's last night is 2024-10-27: its cut-off is 02:00 Stockholm (01:00 UTC) on the 28th.
    expect(rows.find((row) => row.transform === 'order_status_current')?.next).toBe(
      '2 more passing night(s) before cutover; each passing check of a later night than 2024-10-28T01:00:00.000Z adds one: run dualrun check after each nightly batch run (it judges the last 02:00 cut-off), or check a scenario whose last night is later',
    );
  });

  it('names a bad manifest with exit 3', async () => {
    const dir = await project('bad', `export default defineConfig({ migration: { orders_enriched: { stage: 'live' } } } as never);`);
    const result = await check(dir, '--scenario', 'baseline');
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('config migration.orders_enriched.stage: must be one of legacy, shadow, cutover, retired');
  });
});
