// `dualrun demo` end to end, as a newcomer runs it: real broker, the embedded database by default or
// a real PostgreSQL, every report written, every difference of customer-moves explained.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvConfig } from '../../src/config.ts';
import { createKnex } from '../../src/db.ts';
import { silentLogger } from '../../src/logger.ts';
import { provisionKafka } from '../../streaming/broker/provision.ts';
import { brokers, kafkaClient } from '../support/kafka.ts';
import { runCli } from '../support/cli.ts';
import { freshDatabase, type TestDatabase } from '../support/databases.ts';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'dualrun-demo-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

interface ReportJson {
  parity: boolean;
  comparisons: {
    name: string;
    counts: { match: number; withinTolerance: number; mismatch: number; onlyLeft: number; onlyRight: number };
    explained: Record<string, number>;
    differences: { key: Record<string, unknown>; category: string; columns: string[]; explanation: string; events: string[] }[];
    samples: { key: Record<string, unknown>; left: Record<string, unknown> | null; right: Record<string, unknown> | null }[];
  }[];
}

/**
 * customer-moves (fixtures/customer-moves), worked out by hand. C1 moves north → west at 12:00Z on 17 Jun and
 * C3 becomes silver at 13:00Z on 18 Jun, each before that night's cut-off (00:00Z, 02:00 Stockholm): the batch
 * joins the customers as they stand then, the stream as they were when each order came. M1 (C1, 08:00Z, 20.00)
 * is north in the stream, west in the batch; M2 (C1, 15:00Z, 2 × 8.50) came after the move: west in both; M3
 * (C2 south, 2 × 20.00) and M4 (C3 east, 8.50, 18 Jun) keep their regions, and M4 its tier only in the stream.
 */
async function checkCustomerMovesReport(dir: string): Promise<void> {
  for (const file of ['report.json', 'report.md', 'report.html', 'junit.xml']) expect(existsSync(join(dir, file)), file).toBe(true);
  const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ReportJson;
  const byName = new Map(report.comparisons.map((comparison) => [comparison.name, comparison]));
  expect([...byName.keys()].sort()).toEqual(['customer_lifetime_value', 'daily_revenue_by_region', 'order_status_current', 'orders_enriched', 'product_sales_daily']);
  const differences = (name: string) => byName.get(name)!.differences.map(({ key, category, columns, explanation, events }) => ({ key, category, columns, explanation, events }));
  const enriched = byName.get('orders_enriched')!;
  expect(enriched.explained).toEqual({ join_as_of_event_time: 2 });
  expect(enriched.counts).toEqual({ match: 2, withinTolerance: 0, mismatch: 2, onlyLeft: 0, onlyRight: 0 });
  expect(differences('orders_enriched')).toEqual([
    { key: { order_id: 'M1' }, category: 'mismatch', columns: ['region'], explanation: 'join_as_of_event_time', events: ['ord-M1', 'cust-C1-moves'] },
    { key: { order_id: 'M4' }, category: 'mismatch', columns: ['tier'], explanation: 'join_as_of_event_time', events: ['ord-M4', 'cust-C3-silver'] },
  ]);
  // Daily revenue: batch 17 Jun west 2 orders 37.00, south 1 40.00; 18 Jun east 1 8.50. The stream has M1 in north.
  const revenue = byName.get('daily_revenue_by_region')!;
  expect(revenue.explained).toEqual({ join_as_of_event_time: 2 });
  expect(revenue.counts).toEqual({ match: 2, withinTolerance: 0, mismatch: 1, onlyLeft: 0, onlyRight: 1 });
  expect(differences('daily_revenue_by_region')).toEqual([
    { key: { business_date: '2024-06-17', region: 'north' }, category: 'onlyRight', columns: [], explanation: 'join_as_of_event_time', events: ['ord-M1', 'cust-C1-moves'] },
    { key: { business_date: '2024-06-17', region: 'west' }, category: 'mismatch', columns: ['order_count', 'revenue_eur'], explanation: 'join_as_of_event_time', events: ['ord-M1', 'cust-C1-moves'] },
  ]);
  const values = (row: Record<string, unknown> | null) => (row === null ? null : [String(row.order_count), String(row.revenue_eur)]);
  expect(revenue.samples.map((sample) => [sample.key.region, values(sample.left), values(sample.right)]).sort()).toEqual([
    ['north', null, ['1', '20.00']],
    ['west', ['2', '37.00'], ['1', '17.00']],
  ]);
  for (const name of ['customer_lifetime_value', 'product_sales_daily', 'order_status_current']) {
    const counts = byName.get(name)!.counts;
    expect(counts.mismatch + counts.onlyLeft + counts.onlyRight, name).toBe(0);
  }
  for (const comparison of report.comparisons) expect(comparison.explained.unexplained ?? 0, comparison.name).toBe(0);
}

describe('dualrun demo', () => {
  it('runs customer-moves on embedded PGlite and explains every difference', async () => {
    const dir = join(out, 'pglite');
    const result = await runCli(['demo', '--out', dir], { KAFKA_BROKERS: brokers().join(','), DATABASE_URL: '' }, 240_000);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('legacy database: pglite:');
    for (const phase of ['replay to the 2024-06-17 cut-off', 'batch 2024-06-17', 'stream: caught up', 'compare orders_enriched']) expect(result.stderr).toContain(phase);
    expect(result.stdout).toMatch(/orders_enriched\s+differs\s+2\s+2\s+0\s+join_as_of_event_time 2/);
    expect(result.stdout).toContain(`Report: ${join(dir, 'report.html')}`);
    expect(result.stdout).toContain('Every difference is explained by a known batch-vs-streaming semantic');
    await checkCustomerMovesReport(dir);
    // Exit 0 because every difference is explained: the reports say so too, not "parity violated".
    const markdown = await readFile(join(dir, 'report.md'), 'utf8');
    expect(markdown.split('\n')[0]).toBe('## dualrun parity: ⚠️ differences, every one explained by a known batch-vs-streaming semantic');
    expect(markdown).toContain('### ⚠️ orders_enriched');
    expect(markdown).not.toContain('❌');
    expect(await readFile(join(dir, 'report.html'), 'utf8')).toContain('<h1>dualrun parity report: <span class="warn">differences, every one explained</span></h1>');
  });

  describe('on PostgreSQL', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await freshDatabase('postgres');
    });
    afterAll(async () => {
      await database?.drop();
    });

    it('gives the same verdicts with the legacy database on a real server', async () => {
      const dir = join(out, 'postgres');
      const result = await runCli(['demo', '--out', dir, '--db', database.url], { KAFKA_BROKERS: brokers().join(',') }, 240_000);
      expect(result.code, result.stderr).toBe(0);
      await checkCustomerMovesReport(dir);
      // The batch outputs really are in that database.
      const [row] = await database.db('batch_orders_enriched').count({ n: '*' });
      expect(Number(row!.n)).toBe(4);
    });
  });

  describe('a team that brings its own domain (examples/metering, through its dualrun.config.ts) on MariaDB', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await freshDatabase('mysql');
    });
    afterAll(async () => {
      await database?.drop();
    });

    it("runs its demo scenario (tariff-change) and explains exactly the scenario's differences", async () => {
      const dir = join(out, 'metering');
      const config = fileURLToPath(new URL('../../examples/metering/dualrun.config.ts', import.meta.url));
      const result = await runCli(['demo', '--config', config, '--db', database.url, '--out', dir], { KAFKA_BROKERS: brokers().join(',') }, 240_000);
      expect(result.code, result.stderr + result.stdout).toBe(0);
      expect(result.stderr).toContain('compare tariff_cost_daily');
      const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as ReportJson;
      const byName = new Map(report.comparisons.map((comparison) => [comparison.name, comparison]));
      expect([...byName.keys()].sort()).toEqual(['meter_current', 'meter_total_kwh', 'site_hourly_kwh', 'tariff_cost_daily']);
      // examples/metering/scenarios/tariff-change/expected-differences.json, worked out by hand.
      const found = (name: string) => byName.get(name)!.differences.map((d) => `${Object.values(d.key).join(' ')} ${d.explanation} ${[...d.events].sort().join(',')}`);
      expect(found('meter_current')).toEqual(['M3 update_delete_semantics reg-M3']);
      expect(found('tariff_cost_daily').sort()).toEqual(['2024-06-10 T1 join_as_of_event_time meter-M2-to-T2,rd-1,rd-2,rd-4,tariff-T1-v2', '2024-06-10 T2 join_as_of_event_time meter-M2-to-T2,rd-2']);
      expect(found('site_hourly_kwh')).toEqual([]);
      expect(found('meter_total_kwh')).toEqual([]);
      // The legacy tables are the team's own, in their database.
      const [row] = await database.db('readings').count({ n: '*' });
      expect(Number(row!.n)).toBe(7); // R1 … R7, each once
    });
  });

  it('without KAFKA_BROKERS starts its own broker and stops it afterwards', async () => {
    // A fresh cache folder, with KAFKA_HOME on the jars this run already has: no download, no shared state.
    const env = readEnvConfig();
    const jars = await provisionKafka({ cacheDir: env.cacheDir, kafkaHome: env.kafkaHome, logger: silentLogger });
    const cacheDir = await mkdtemp(join(tmpdir(), 'dualrun-demo-cache-'));
    try {
      const dir = join(out, 'own-broker');
      const result = await runCli(['demo', '--scenario', 'baseline', '--out', dir], { KAFKA_BROKERS: '', DATABASE_URL: '', DUALRUN_CACHE_DIR: cacheDir, KAFKA_HOME: join(jars.libs, '..') }, 240_000);
      expect(result.code, result.stderr).toBe(0);
      const address = /kafka: broker up at (127\.0\.0\.1:\d+)/.exec(result.stderr)?.[1];
      expect(address, result.stderr).toBeDefined();
      expect(result.stdout).toMatch(/order_status_current\s+parity/);
      // Stopped: nothing answers on its port any more, and no broker is recorded as running.
      const [host, port] = address!.split(':');
      const refused = await new Promise<boolean>((resolve) => {
        const socket = connect(Number(port), host!, () => {
          socket.destroy();
          resolve(false);
        });
        socket.on('error', () => resolve(true));
      });
      expect(refused).toBe(true);
      expect(existsSync(join(cacheDir, 'local-kafka', 'state.json'))).toBe(false);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  it('checks the database before it starts a broker: an unreachable --db exits 4 at once, no broker left behind', async () => {
    const env = readEnvConfig();
    const jars = await provisionKafka({ cacheDir: env.cacheDir, kafkaHome: env.kafkaHome, logger: silentLogger });
    const cacheDir = await mkdtemp(join(tmpdir(), 'dualrun-demo-cache-'));
    const childEnv = { KAFKA_BROKERS: '', DATABASE_URL: '', DUALRUN_CACHE_DIR: cacheDir, KAFKA_HOME: join(jars.libs, '..') };
    try {
      const result = await runCli(['demo', '--scenario', 'baseline', '--db', 'postgres://postgres@127.0.0.1:1/shop', '--keep-broker', '--out', join(out, 'no-db')], childEnv, 240_000);
      expect(result.code, result.stderr).toBe(4);
      expect(result.stderr).toContain('error: database postgres://postgres@127.0.0.1:1/shop: cannot connect');
      expect(result.stderr).not.toContain('kafka: starting a local broker');
      expect(existsSync(join(cacheDir, 'local-kafka', 'state.json'))).toBe(false);
    } finally {
      await runCli(['kafka', 'stop'], childEnv); // were a broker started (and kept) after all
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  describe('on a PostgreSQL database that does not exist yet', () => {
    const name = `dualrun_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const admin = createKnex('postgres://postgres@127.0.0.1:5432/postgres');
    afterAll(async () => {
      await admin.raw('DROP DATABASE IF EXISTS ??', [name]);
      await admin.destroy();
    });

    it('creates it and says so (the README example names postgres://…/shop); baseline then has no differences to explain, and no topics are left', async () => {
      const url = `postgres://postgres@127.0.0.1:5432/${name}`;
      const result = await runCli(['demo', '--scenario', 'baseline', '--db', url, '--out', join(out, 'created')], { KAFKA_BROKERS: brokers().join(',') }, 240_000);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain(`legacy database: created database ${name} on postgres://postgres@127.0.0.1:5432/postgres`);
      // baseline has no differences at all: nothing to explain.
      expect(result.stdout).toContain('\nNo differences: batch and stream agree on every row compared.\n');
      expect(result.stdout).not.toContain('Every difference is explained');
      expect((await readFile(join(out, 'created', 'report.md'), 'utf8')).split('\n')[0]).toBe('## dualrun parity: ✅ parity');
      // On a cluster that outlives it, the run deletes the topics it created (and its job's group).
      const prefix = /topics: (dualrun-[a-z0-9]+)\.\*/.exec(result.stderr)?.[1];
      expect(prefix, result.stderr).toBeDefined();
      expect(result.stderr).toContain(`kafka: deleted this run's 17 topics (${prefix}.*) and its consumer group; --keep-topics keeps them`);
      const cluster = kafkaClient('dualrun-test-demo').admin();
      await cluster.connect();
      try {
        expect((await cluster.listTopics()).filter((topic) => topic.startsWith(`${prefix}.`))).toEqual([]);
        expect((await cluster.listGroups()).groups.map((group) => group.groupId)).not.toContain(`${prefix}-stream`);
      } finally {
        await cluster.disconnect();
      }
      const [row] = (await admin.raw('SELECT count(*) AS n FROM pg_database WHERE datname = ?', [name])).rows as { n: string }[];
      expect(Number(row!.n)).toBe(1);
    });
  });

  it('Ctrl-C stops the run, deletes its topics, and says how to start over', async () => {
    const database = await freshDatabase('postgres');
    try {
      const bin = fileURLToPath(new URL('../../bin/dualrun.js', import.meta.url));
      const child = spawn(process.execPath, [bin, 'demo', '--db', database.url, '--out', join(out, 'interrupted')], { env: { ...process.env, KAFKA_BROKERS: brokers().join(',') }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 60_000;
      while (!stderr.includes('batch 2024-06-17') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      child.kill('SIGINT');
      expect(await exited, stderr).toBe(130);
      expect(stderr).toContain('SIGINT: stopping what this run started once the step under way ends (Ctrl-C again quits at once and leaves it); to start over, run the same command again with --reset (the --db database holds part of the scenario now)');
      const prefix = /topics: (dualrun-[a-z0-9]+)\.\*/.exec(stderr)?.[1];
      expect(prefix, stderr).toBeDefined();
      const cluster = kafkaClient('dualrun-test-demo').admin();
      await cluster.connect();
      try {
        expect((await cluster.listTopics()).filter((topic) => topic.startsWith(`${prefix}.`))).toEqual([]);
      } finally {
        await cluster.disconnect();
      }
    } finally {
      await database.drop();
    }
  });

  it('refuses an unknown scenario with exit 2 and the list of known ones', async () => {
    const result = await runCli(['demo', '--scenario', 'no-such-scenario', '--out', join(out, 'bad')], { KAFKA_BROKERS: brokers().join(',') });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no-such-scenario/);
    expect(result.stderr).toContain('baseline');
  });
});
