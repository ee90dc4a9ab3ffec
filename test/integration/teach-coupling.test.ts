// `dualrun teach coupling` on the real broker and PostgreSQL (and MariaDB for chapter 1): each chapter's
// measured figure is checked against what it must show, each chapter leaves no database or topic behind,
// the HTML page of the five opens in headless Chromium with one chart per chapter, and the command run
// as a user would writes a plain report, Markdown and HTML.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Knex } from 'knex';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadMeasured } from '../../src/cli/teach/chapter-1-load.ts';
import type { FreshnessMeasured } from '../../src/cli/teach/chapter-2-freshness.ts';
import type { SchemaMeasured } from '../../src/cli/teach/chapter-3-schema.ts';
import type { FanOutMeasured } from '../../src/cli/teach/chapter-4-fanout.ts';
import type { PollingMeasured } from '../../src/cli/teach/chapter-5-polling.ts';
import { runChapter } from '../../src/cli/teach/chapters.ts';
import { renderHtml } from '../../src/cli/teach/render-html.ts';
import { SourceMeter } from '../../src/cli/teach/source-load.ts';
import { loadShop, type Shop } from '../../src/cli/teach/shop-day.ts';
import type { ChapterResult } from '../../src/cli/teach/types.ts';
import { connectKnex } from '../../src/db.ts';
import { ExitCode } from '../../src/errors.ts';
import { silentLogger } from '../../src/logger.ts';
import { runCli } from '../support/cli.ts';
import { freshDatabase } from '../support/databases.ts';
import { brokers, kafkaClient } from '../support/kafka.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const mysqlUrl = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';
const artifacts = join(import.meta.dirname, '../../test-artifacts/teach-coupling');

let shop: Shop;
const results = new Map<number, ChapterResult>();

beforeAll(async () => {
  shop = await loadShop();
});

async function walLevel(url: string): Promise<string> {
  const db = await connectKnex(url);
  try {
    return ((await db.raw('SHOW wal_level')) as { rows: { wal_level: string }[] }).rows[0]!.wal_level;
  } finally {
    await db.destroy();
  }
}

async function chapter<M>(number: number, dbUrl: string): Promise<ChapterResult<M>> {
  const result = await runChapter(number, { dbUrl, brokers: brokers(), shop, logger: silentLogger });
  await expectCleanedUp(result, dbUrl);
  return result as ChapterResult<M>;
}

/** The chapter's database is dropped and none of its topics is left. */
async function expectCleanedUp(result: ChapterResult, dbUrl: string): Promise<void> {
  const admin = kafkaClient('teach-test-admin').admin();
  await admin.connect();
  try {
    expect((await admin.listTopics()).filter((topic) => topic.startsWith(`${result.ran.topicPrefix}.`))).toEqual([]);
  } finally {
    await admin.disconnect();
  }
  const db = await connectKnex(dbUrl);
  try {
    const left = result.ran.engine === 'postgres'
      ? ((await db.raw('SELECT datname FROM pg_database WHERE datname = ?', [result.ran.database])) as { rows: unknown[] }).rows
      : ((await db.raw('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [result.ran.database])) as unknown as [unknown[]])[0];
    expect(left).toEqual([]);
  } finally {
    await db.destroy();
  }
}

describe('the source-load meter', () => {
  // A job that reads a 3-row table twice: once returning its rows, once inside INSERT … SELECT.
  const job = async (db: Knex) => {
    await db('t').select('*');
    await db.raw('INSERT INTO u SELECT * FROM t');
  };
  async function measured(dbUrl: string, statistics: 'database' | 'knex') {
    const database = await freshDatabase(dbUrl.startsWith('mysql') ? 'mysql' : 'postgres');
    try {
      for (const table of ['t', 'u']) await database.db.schema.createTable(table, (builder) => builder.integer('id'));
      await database.db('t').insert([{ id: 1 }, { id: 2 }, { id: 3 }]);
      // The test's own sessions on the database (its pool may hold more than one): the meter must count them as others.
      const own = database.engine === 'mysql' ? Number((((await database.db.raw('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE()')) as unknown as [{ n: unknown }[]])[0][0]!).n) : undefined;
      const meter = await SourceMeter.open(database.url, database.engine as 'postgres' | 'mysql', ['t', 'u'], { statistics });
      try {
        return { ...(await meter.measure(job)).load, own };
      } finally {
        await meter.close();
      }
    } finally {
      await database.drop();
    }
  }

  it('PostgreSQL statistics count the rows read inside the database; knex events only the rows returned', async () => {
    expect(await measured(postgresUrl, 'database')).toMatchObject({ queries: 2, rowsRead: 6, scans: 2, perTable: { t: 6, u: 0 }, rowsReturned: 3, sessions: 1 });
    const fallback = await measured(postgresUrl, 'knex');
    expect(fallback).toMatchObject({ queries: 2, rowsRead: 3, rowsReturned: 3, sessions: 1 });
    expect(fallback.source).toMatch(/^knex query events: rows the job's queries returned/);
  });

  it("MariaDB's session counters count at least the rows read by both statements", async () => {
    const load = await measured(mysqlUrl, 'database');
    // The other sessions on the database are the test's own, which made the tables and are still open.
    expect(load.own).toBeGreaterThanOrEqual(1);
    expect(load).toMatchObject({ queries: 2, rowsReturned: 3, sessions: 1, otherSessions: load.own });
    expect(load.rowsRead).toBeGreaterThanOrEqual(6);
  });
});

describe('chapter 1: load on the source', () => {
  it('PostgreSQL: the batch job reads rows of the source tables, the streaming job none', async () => {
    const result = await chapter<LoadMeasured>(1, postgresUrl);
    const { batch, stream, events } = result.measured;
    expect(batch.source).toContain('pg_stat_user_tables');
    expect(batch.rowsRead).toBeGreaterThan(0);
    expect(batch.queries).toBeGreaterThan(0);
    // Every table its five queries join was read.
    for (const table of ['customers', 'products', 'fx_rates', 'orders', 'order_lines']) expect(batch.perTable![table]).toBeGreaterThan(0);
    expect(batch.outputs).toBe(5);
    expect(stream).toMatchObject({ rowsRead: 0, queries: 0, sessions: 0, scans: 0, eventsRead: events });
    expect(result.claim.holds).toBe(true);
    results.set(1, result);
  });

  it('MariaDB: the same, from the source its statistics allow', async () => {
    const db = await connectKnex(mysqlUrl);
    const [[{ on }]] = (await db.raw('SELECT @@performance_schema AS `on`')) as unknown as [[{ on: unknown }]];
    await db.destroy();
    const result = await chapter<LoadMeasured>(1, mysqlUrl);
    const { batch, stream, events } = result.measured;
    expect(batch.source).toContain(Number(on) === 1 ? 'performance_schema' : 'Handler_read_*');
    expect(batch.rowsRead).toBeGreaterThan(0);
    expect(batch.sessions).toBeGreaterThan(0);
    expect(stream).toMatchObject({ rowsRead: 0, queries: 0, sessions: 0, eventsRead: events });
    if (Number(on) !== 1) expect(stream.otherSessions).toBe(0);
    expect(result.claim.holds).toBe(true);
  });
});

describe('chapter 2: freshness', () => {
  it('the batch outputs show the order at the next cut-off (simulated hours), the stream within 10 s', async () => {
    const result = await chapter<FreshnessMeasured>(2, postgresUrl);
    const { batch, stream, changeArrival, nextCutoff, runs } = result.measured;
    const toCutoff = Date.parse(nextCutoff) - Date.parse(changeArrival);
    expect(toCutoff / 3_600_000).toBeCloseTo(11.91, 2);
    expect(Object.keys(batch).sort()).toEqual(['order_status_current', 'orders_enriched']);
    // The scheduler ticks on the hour and the cut-off is 02:00: the wait is exactly the time to it.
    for (const wait of Object.values(batch)) expect(wait).toBe(toCutoff);
    expect(runs.filter((run) => run.date === '2024-06-03').map((run) => run.at)).toEqual([nextCutoff, nextCutoff]);
    expect(Object.keys(stream).sort()).toEqual(['order_status_current', 'orders_enriched']);
    for (const latency of Object.values(stream)) {
      expect(latency).toBeGreaterThan(0);
      expect(latency).toBeLessThan(10_000);
    }
    expect(result.claim.holds).toBe(true);
    results.set(2, result);
  });
});

describe('chapter 3: schema coupling', () => {
  it('renaming customers.region breaks the batch job (exit 5, naming the column) and not the streaming job', async () => {
    const result = await chapter<SchemaMeasured>(3, postgresUrl);
    const { batch, stream } = result.measured;
    expect(batch.exitCode).toBe(ExitCode.schema);
    expect(batch.message).toMatch(/^error: table customers: column region does not exist in customers/);
    expect(batch.failed).toEqual(['orders_enriched', 'daily_revenue_by_region']);
    expect(batch.succeeded).toEqual(['customer_lifetime_value', 'product_sales_daily', 'order_status_current']);
    expect(batch.fixedTransforms).toEqual(['orders_enriched', 'daily_revenue_by_region']);
    // orders_enriched selects c.region once; daily_revenue_by_region selects and groups by COALESCE(c.region, …).
    expect(batch.referencesChanged).toBe(3);
    expect(batch.rerunSucceeded).toEqual(['orders_enriched', 'daily_revenue_by_region']);
    expect(batch.newOrderRegion).toBe('west');
    expect(stream).toMatchObject({ failed: false, deadLetters: 0, schemaVersions: [1], customerEvents: 1, customerEventsWithRegion: 1, newOrderRegion: 'west', fixedTransforms: [] });
    expect(stream.eventsAfterRename).toBeGreaterThan(0);
    expect(stream.ordersWithRegion).toBe(stream.ordersInOutput);
    expect(stream.ordersInOutput).toBe(121);
    expect(result.claim.holds).toBe(true);
    results.set(3, result);
  });
});

describe('chapter 4: fan-out', () => {
  it('a second batch extract at least doubles the source reads; a second consumer group reads none and adds no message', async () => {
    const result = await chapter<FanOutMeasured>(4, postgresUrl);
    const { firstExtract, secondExtract, extractRatio, firstConsumer, secondConsumer, logBefore, logAfter, events } = result.measured;
    expect(firstExtract.rowsRead).toBeGreaterThan(0);
    expect(firstExtract.rowsRead + secondExtract.rowsRead).toBeGreaterThanOrEqual(2 * firstExtract.rowsRead);
    expect(extractRatio).toBeGreaterThanOrEqual(2);
    for (const consumer of [firstConsumer, secondConsumer]) expect(consumer).toMatchObject({ rowsRead: 0, queries: 0, sessions: 0, eventsRead: events });
    expect(logBefore).toBe(events);
    expect(logAfter).toBe(logBefore);
    expect(result.claim.holds).toBe(true);
    results.set(4, result);
  });
});

describe('chapter 5: what polling misses', () => {
  it('the polling extract misses exactly the intermediate update and the delete; the event log has all three', async () => {
    const result = await chapter<PollingMeasured>(5, postgresUrl);
    const m = result.measured;
    expect(m.changes.map((change) => `${change.orderId} ${change.change}`)).toEqual(['A1 paid', 'B1 deleted', 'A1 shipped']);
    expect(m.missedByPolling).toEqual(['A1 paid', 'B1 deleted']);
    expect(m.changes.every((change) => change.inLog)).toBe(true);
    expect(m.logEvents).toBe(3);
    expect(m.secondPoll.returned).toEqual([{ order_id: 'A1', status: 'shipped' }]);
    expect(m.staleInCopy).toEqual(['B1']);
    // The shared server cannot do logical replication: no capture ran, and the chapter says why and how to enable it.
    const level = await walLevel(postgresUrl);
    expect(level, 'this test is of the shared server without logical replication (the next one has it)').not.toBe('logical');
    expect(m.changes.every((change) => change.inCapture === undefined)).toBe(true);
    expect(m.capture).toEqual({ unavailable: [`the database has wal_level=${level}; log-based capture needs wal_level=logical: run ALTER SYSTEM SET wal_level = logical; as a superuser and restart PostgreSQL (or teach on a server of its own that has it)`] });
    expect(result.story.join(' ')).toMatch(/Log-based capture \(CDC\) could not run: /);
    expect(result.claim.holds).toBe(true);
    results.set(5, result);
  });
});

describe('chapter 5 with log-based capture, on a PostgreSQL of its own with wal_level=logical', () => {
  let pg: ThrowawayPostgres;
  beforeAll(async () => {
    pg = await startThrowawayPostgres();
  });
  afterAll(async () => pg?.stop());

  it('dualrun cdc saw exactly the changes the chapter made between the polls, both updates and the hard delete, where polling missed two', async () => {
    const result = await chapter<PollingMeasured>(5, pg.url);
    const m = result.measured;
    expect(m.missedByPolling).toEqual(['A1 paid', 'B1 deleted']);
    expect('changes' in m.capture, JSON.stringify(m.capture)).toBe(true);
    const captured = 'changes' in m.capture ? m.capture.changes : [];
    // What the chapter made (an update per status change, a delete), in the order it made them.
    const made = m.changes.map((change) => (change.change === 'deleted' ? { key: { order_id: change.orderId }, op: 'delete', status: null } : { key: { order_id: change.orderId }, op: 'update', status: change.change }));
    expect(made).toHaveLength(3);
    expect(captured.map((change) => ({ key: change.key, op: change.op, status: change.after?.status ?? null }))).toEqual(made);
    expect(m.changes.map((change) => change.inCapture)).toEqual([true, true, true]);
    expect(result.figure.header.at(-1)).toBe('log-based capture (CDC)');
    expect(result.figure.rows.at(-1)).toEqual(['all changes', '3 of 3', '1 of 3', '3 of 3']);
    expect(result.story.join(' ')).toContain('saw 3 changes to orders: A1 updated to paid; B1 deleted; A1 updated to shipped');
    expect(result.claim.holds).toBe(true);
    // The capture went with the chapter: no replication slot on the cluster, and no topic named after its prefix (Debezium's heartbeat topic is outside it).
    const db = await connectKnex(pg.url);
    try {
      expect(((await db.raw('select slot_name from pg_replication_slots')) as { rows: unknown[] }).rows).toEqual([]);
    } finally {
      await db.destroy();
    }
    const admin = kafkaClient('teach-test-admin').admin();
    await admin.connect();
    try {
      expect((await admin.listTopics()).filter((topic) => topic.includes(result.ran.topicPrefix))).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  }, 300_000);
});

describe('the HTML page', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  });
  afterAll(async () => browser?.close());

  it('opens offline in Chromium with one chart per chapter, a bar per measured figure', async () => {
    const chapters = [1, 2, 3, 4, 5].map((number) => results.get(number));
    expect(chapters.every(Boolean), 'every chapter ran above').toBe(true);
    await mkdir(artifacts, { recursive: true });
    const file = join(artifacts, 'index.html');
    await writeFile(file, renderHtml(chapters as ChapterResult[], { startedAt: new Date().toISOString(), database: postgresUrl, brokers: brokers().join(',') }));
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(file).href);
    expect(await page.locator('section.chapter').count()).toBe(5);
    for (const result of chapters as ChapterResult[]) {
      const section = page.locator(`section#chapter-${result.number}`);
      expect(await section.locator('svg.chart').count()).toBe(1);
      expect(await section.locator('svg.chart g.bar').count()).toBe(result.figure.chart.bars.length);
      expect(await section.locator('.claim.holds').count()).toBe(1);
    }
    // Chapter 1's bars: the batch bar is drawn, the streaming one (0 rows) has no length.
    const widths = await page.locator('#chapter-1 svg.chart rect').evaluateAll((rects) => rects.map((rect) => Number(rect.getAttribute('width'))));
    expect(widths[0]).toBeGreaterThan(0);
    expect(widths[1]).toBe(0);
    // Chapter 2's chart is on a log scale, with a tick per decade.
    expect(await page.locator('#chapter-2 svg.chart line.tick').count()).toBeGreaterThanOrEqual(5);
    await page.screenshot({ path: join(artifacts, 'index.png'), fullPage: true });
    expect(problems).toEqual([]);
    expect(requests.filter((url) => !url.startsWith('file:'))).toEqual([]);
    await page.close();
  });
});

describe('dualrun teach coupling, as a user runs it', () => {
  it('--chapter 5 prints a plain report when not on a terminal, with progress on stderr, and writes Markdown and HTML', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dualrun-teach-cli-'));
    try {
      const [markdown, html] = [join(dir, 'coupling.md'), join(dir, 'coupling.html')];
      const { code, stdout, stderr } = await runCli(['teach', 'coupling', '--chapter', '5', '--db', postgresUrl, '--brokers', brokers().join(','), '--markdown', markdown, '--html', html]);
      expect(stderr).toContain('chapter 5 (What polling misses): 12:00: the polling extract runs');
      expect(code).toBe(ExitCode.ok);
      expect(stdout).toContain('Chapter 5 · What polling misses');
      expect(stdout).toMatch(/12:10 A1 paid +seen +missed/);
      expect(stdout).toContain('✓ this run shows it');
      expect(stdout).not.toContain('\u001b[');
      const md = await readFile(markdown, 'utf8');
      expect(md).toContain('## 5. What polling misses');
      expect(md).toMatch(/\| 12:20 B1 deleted \| seen \| missed \| n\/a \|/);
      expect((await readFile(html, 'utf8')).match(/<svg class="chart"/g)).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('dualrun teach coupling, interrupted', () => {
  it('SIGTERM while the streaming job runs: exit 143, and the chapter database and topics are removed', async () => {
    const bin = fileURLToPath(new URL('../../bin/dualrun.js', import.meta.url));
    const child = spawn(process.execPath, [bin, 'teach', 'coupling', '--chapter', '4', '--db', postgresUrl, '--brokers', brokers().join(',')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the streaming job never started: ${stderr}`)), 60_000);
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('the streaming job consumes the topics')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // Long enough for the job to have created its topics and joined its group.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    const [, database, prefix] = /its database (dualrun_teach_4_[0-9a-f]{8}) and topics (teach4-[0-9a-f]{8})\.\*/.exec(stderr) ?? [];
    expect(prefix, 'the progress names the topic prefix').toBeDefined();
    expect(database, 'the progress names the database').toBeDefined();
    await expectCleanedUp({ ran: { engine: 'postgres', database: database!, topicPrefix: prefix! } } as ChapterResult, postgresUrl);
  });
});
