// `dualrun replay` and `dualrun generate` as a user runs them: summaries, progress, refusals and
// rejected input with their exit codes and messages.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.ts';
import { runCli } from '../support/cli.ts';
import { freshDatabase, type TestDatabase } from '../support/databases.ts';
import { brokers, kafkaClient, uniqueTopic } from '../support/kafka.ts';
import { fixtures } from '../support/shop.ts';

const bin = fileURLToPath(new URL('../../bin/dualrun.js', import.meta.url));
let database: TestDatabase;
let work: string;
const prefix = uniqueTopic('replay-cli');
beforeAll(async () => {
  database = await freshDatabase('postgres');
  work = await mkdtemp(join(tmpdir(), 'dualrun-replay-cli-'));
});
afterAll(async () => {
  await database?.drop();
  await rm(work, { recursive: true, force: true });
  const admin = kafkaClient('dualrun-test-cleanup').admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${prefix}.`));
  if (topics.length > 0) await admin.deleteTopics({ topics });
  await admin.disconnect();
});

describe('dualrun replay', () => {
  it('replays a fixture into the database with progress and a summary, then refuses a second time', async () => {
    // A fresh database: the shop's tables are created from its declaration.
    const first = await runCli(['replay', '--scenario', 'baseline', '--no-kafka', '--db', database.url, '--create-schema']);
    expect(first.stderr).toContain('replaying baseline (30 events)');
    expect(first.stderr).toMatch(/\[#{30}\] 30\/30 events/);
    expect(first.stdout).toMatch(/^replayed 30 events \(0 redeliveries\)/);
    // baseline: 10 orders placed, 6 status changes.
    expect(first.stdout).toMatch(/orders +10 written, 6 updated, 0 deleted/);
    expect(first.code).toBe(ExitCode.ok);
    const second = await runCli(['replay', '--scenario', 'baseline', '--no-kafka', '--db', database.url]);
    expect(second.code).toBe(ExitCode.usage);
    expect(second.stderr).toContain('error: the legacy database already holds shop data');
    expect(second.stderr).toContain('fix: pass --reset');
  });

  it('rejects a scenario with a bad row before writing anything', async () => {
    const dir = join(work, 'bad');
    await cp(join(fixtures, 'baseline'), dir, { recursive: true });
    await writeFile(join(dir, 'order_lines.csv'), 'order_id,line_no,product_id,quantity,unit_price,discount_pct\nO1,1,P1,two,20.00,0\n');
    const result = await runCli(['replay', '--scenario', dir, '--no-kafka', '--db', database.url, '--reset']);
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toContain(`${join(dir, 'order_lines.csv')}:2:9: quantity: expected a whole number of at least 1, found "two"`);
    // Nothing applied: the database still holds the first test's baseline (the reset never ran).
    const rows = await database.db('orders').count({ count: '*' });
    expect(Number(rows[0]?.count)).toBe(10);
  });

  it('generates a scenario and replays it into Kafka only, as JSON', async () => {
    const out = join(work, 'generated');
    const generated = await runCli(['generate', '--out', out, '--orders', '200', '--customers', '10', '--seed', 'cli', '--days', '2']);
    expect(generated.code).toBe(ExitCode.ok);
    // The shop's generator reports its progress in orders; the generic progress bar calls them rows.
    expect(generated.stderr).toMatch(/200\/200 rows/);
    const result = await runCli(['replay', '--scenario', out, '--no-db', '--brokers', brokers().join(','), '--topic-prefix', prefix, '--partitions', '2', '--json']);
    expect(result.code).toBe(ExitCode.ok);
    const summary = JSON.parse(result.stdout) as { events: number; database?: unknown; kafka: Record<string, { messages: number }> };
    expect(summary.database).toBeUndefined();
    expect(Object.values(summary.kafka).reduce((sum, topic) => sum + topic.messages, 0)).toBe(summary.events);
    expect(Object.keys(summary.kafka).sort()).toEqual([`${prefix}.customers`, `${prefix}.fx-rates`, `${prefix}.orders`, `${prefix}.products`]);
  });

  it('continues with --after, counting what the earlier run replayed apart from what is left for later', async () => {
    const fresh = await freshDatabase('postgres');
    try {
      const first = await runCli(['replay', '--scenario', 'baseline', '--no-kafka', '--db', fresh.url, '--create-schema', '--until', '2024-06-04T00:00:00Z', '--json']);
      expect(first.code, first.stderr).toBe(ExitCode.ok);
      const upTo = JSON.parse(first.stdout) as { events: number; replayedBefore: number; leftForLater: number };
      expect(upTo.replayedBefore).toBe(0);
      expect(upTo.events + upTo.leftForLater).toBe(30);
      const rest = await runCli(['replay', '--scenario', 'baseline', '--no-kafka', '--db', fresh.url, '--after', '2024-06-04T00:00:00Z']);
      expect(rest.code, rest.stderr).toBe(ExitCode.ok);
      expect(rest.stdout).toMatch(new RegExp(`^replayed ${upTo.leftForLater} events \\(0 redeliveries\\) in [0-9.]+ s; not replayed: ${upTo.events} that arrived by --after \\(replayed by the earlier run\\)\n`));
      expect(rest.stdout).not.toContain('left for later');
    } finally {
      await fresh.drop();
    }
  });

  it('refuses an --after that is not before --until', async () => {
    const result = await runCli(['replay', '--scenario', 'baseline', '--no-kafka', '--db', 'pglite:memory', '--after', '2024-06-05T00:00:00Z', '--until', '2024-06-04T00:00:00Z']);
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toBe('error: --after 2024-06-05T00:00:00Z is not before --until 2024-06-04T00:00:00Z: no event arrives in between\n  fix: --after continues where an earlier --until stopped: give it that earlier time, before --until\n');
  });

  it('Ctrl-C part way says exactly how to start over, and that command is accepted', async () => {
    const scenario = join(work, 'long');
    expect((await runCli(['generate', '--out', scenario, '--orders', '20000', '--customers', '500', '--seed', 'sigint'])).code).toBe(ExitCode.ok);
    const fresh = await freshDatabase('postgres');
    try {
      const args = ['replay', '--scenario', scenario, '--no-kafka', '--db', fresh.url, '--create-schema', '--batch-size', '50'];
      const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 60_000;
      while (!/\] [1-9]\d*\/\d+ events/.test(stderr) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(130);
      const resume = `dualrun replay --scenario ${scenario} --no-kafka --db ${fresh.url} --create-schema --batch-size 50 --reset`;
      expect(stderr).toContain(`SIGINT: replay stopped part way; the legacy tables and topics hold part of the scenario: start over with\n  ${resume}\n`);
      // The plain rerun is refused (part of the scenario is there); the command given is not.
      expect((await runCli(args)).stderr).toContain('fix: pass --reset');
      const rerun = await runCli(resume.split(' ').slice(1), {}, 120_000);
      expect(rerun.code, rerun.stderr).toBe(ExitCode.ok);
    } finally {
      await fresh.drop();
    }
  });

  it('--rate paces the replay: 30 events at 40 per second take at least 0.7 s, and a rate of 0 is refused', async () => {
    const fresh = await freshDatabase('postgres');
    try {
      const paced = await runCli(['replay', '--scenario', 'baseline', '--no-kafka', '--db', fresh.url, '--create-schema', '--batch-size', '1', '--rate', '40', '--json']);
      expect(paced.code, paced.stderr).toBe(0);
      const summary = JSON.parse(paced.stdout) as { events: number; seconds: number };
      expect(summary.events).toBe(30);
      // The 30th event may go at 29/40 s after the start, not before.
      expect(summary.seconds).toBeGreaterThanOrEqual(29 / 40);
    } finally {
      await fresh.drop();
    }
    const zero = await runCli(['replay', '--scenario', 'baseline', '--no-kafka', '--rate', '0']);
    expect(zero.code).toBe(ExitCode.usage);
    expect(zero.stderr).toContain('--rate expects a whole number of at least 1');
  });

  it('explains bad flags', async () => {
    const result = await runCli(['replay', '--scenario', 'baseline', '--until', 'tomorrow', '--no-kafka']);
    expect(result.code).toBe(ExitCode.usage);
    expect(result.stderr).toContain('--until expects an ISO-8601 time with a zone');
    const noSeed = await runCli(['generate', '--out', join(work, 'x'), '--orders', '10']);
    expect(noSeed.code).toBe(ExitCode.usage);
    expect(noSeed.stderr).toContain('dualrun generate needs --seed');
    // A flag the shop's generator declares without a default is required too.
    const missing = await runCli(['generate', '--out', join(work, 'x'), '--orders', '10', '--seed', 's']);
    expect(missing.code).toBe(ExitCode.usage);
    expect(missing.stderr).toContain('dualrun generate needs --customers');
  });
});
