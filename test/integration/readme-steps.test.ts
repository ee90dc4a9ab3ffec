// The README's "one step at a time" path, run as the README writes it (its commands are read from
// README.md, so the test and the page cannot drift apart): replay to each night's cut-off, the nightly
// batch run, the streaming job, and compare --transform — in a fresh folder with dualrun's own embedded
// database, on the test broker under a topic prefix of its own. Then the same path with the second night's
// batch run left out: that date is "not run by batch", not a difference.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { brokers, uniqueTopic } from '../support/kafka.ts';

const readme = fileURLToPath(new URL('../../README.md', import.meta.url));
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dualrun-readme-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The `npx dualrun …` commands of the README's bash block that follows `marker`, as argument lists. */
async function commandsAfter(marker: string): Promise<string[][]> {
  const text = await readFile(readme, 'utf8');
  const start = text.indexOf(marker);
  expect(start, `README.md has "${marker}"`).toBeGreaterThan(-1);
  const block = /```bash\n([\s\S]*?)```/.exec(text.slice(start))![1]!;
  return block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line.startsWith('npx dualrun '))
    .map((line) => line.slice('npx dualrun '.length).split(/\s+/));
}

/** A fresh folder: its own cache (so its own embedded database) and a config naming a topic prefix of its own. */
async function folder(name: string): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'dualrun.config.ts'), `export default { kafka: { topicPrefix: '${uniqueTopic('readme')}' } };\n`);
  return { dir, env: { KAFKA_BROKERS: brokers().join(','), DATABASE_URL: '', DUALRUN_CACHE_DIR: join(dir, 'cache') } };
}

/** Runs the commands in order; each but a compare must succeed. The last one's result. */
async function runAll(commands: string[][], dir: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string }> {
  let last = { code: null as number | null, stdout: '' };
  for (const args of commands) {
    const result = await runCli(args, env, 180_000, dir);
    if (args[0] !== 'compare') expect(result.code, `dualrun ${args.join(' ')}\n${result.stderr}${result.stdout}`).toBe(0);
    last = result;
  }
  return last;
}

describe("the README's step-by-step path", { timeout: 600_000 }, () => {
  let steps: string[][];
  beforeAll(async () => {
    // `kafka start` is left out: the test broker is given by KAFKA_BROKERS, as the README's comment allows.
    steps = (await commandsAfter('The parts also run on their own')).filter(([command]) => command !== 'kafka');
  });

  it('explains every difference of the nights it ran', async () => {
    expect(steps.map((args) => args.slice(0, 2).join(' '))).toEqual(['replay --scenario', 'batch run', 'replay --scenario', 'batch run', 'replay --scenario', 'stream run', 'compare --transform']);
    const { dir, env } = await folder('all-nights');
    const compared = await runAll(steps, dir, env);
    // fixtures/customer-moves: two orders whose customer moved before the batch ran — differences (exit 1), explained.
    expect(compared.code).toBe(1);
    expect(compared.stdout).toContain('orders_enriched: match 2, within tolerance 0, mismatch 2, only left 0, only right 0; unexplained 0');
    const report = JSON.parse(await readFile(join(dir, 'dualrun-report', 'report.json'), 'utf8')) as { comparisons: { explained: Record<string, number>; notRunByBatch: { right: number } }[] };
    expect(report.comparisons[0]!.explained).toEqual({ join_as_of_event_time: 2 });

    // A dated output, on the same data: every date ran, so nothing is left out.
    const daily = await runCli(['compare', '--transform', 'daily_revenue_by_region', '--watermark', '2024-06-19T00:00:00Z'], env, 180_000, dir);
    expect(daily.stdout).toContain('unexplained 0');
    expect(daily.stdout).not.toContain('not run by batch');
  });

  it('leaves a night the batch never ran out of the comparison, and says so', async () => {
    const { dir, env } = await folder('one-night');
    const second = steps.findIndex((args, index) => index > 1 && args[0] === 'batch');
    await runAll(steps.filter((_, index) => index !== second).slice(0, -1), dir, env);
    const daily = await runCli(['compare', '--transform', 'daily_revenue_by_region', '--watermark', '2024-06-19T00:00:00Z'], env, 180_000, dir);
    // 18 Jun's stream rows are not compared: nothing unexplained (17 Jun's two rows differ, explained, as on every night).
    expect(daily.stdout).toMatch(/daily_revenue_by_region: match \d+, within tolerance 0, mismatch 1, only left 0, only right 1; unexplained 0; not run by batch \d+ row\(s\) of 1 date\(s\), not compared/);
    const report = JSON.parse(await readFile(join(dir, 'dualrun-report', 'report.json'), 'utf8')) as { comparisons: { notRunByBatch: { left: number; right: number; dates: string[] } }[] };
    expect(report.comparisons[0]!.notRunByBatch).toMatchObject({ left: 0, dates: ['2024-06-18'] });
    expect(report.comparisons[0]!.notRunByBatch.right).toBeGreaterThan(0);
    expect(await readFile(join(dir, 'dualrun-report', 'report.md'), 'utf8')).toContain('- not run by batch: 0 left, ');
  });
});
